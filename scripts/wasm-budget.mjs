#!/usr/bin/env node
// The browser bundle's size budget (issue 5): the hydrate WASM, as the release
// build leaves it in target/site/pkg, must stay within 200,000 bytes once
// compressed with brotli (quality 11, what a static pre-compression would
// use). Run by `make test` after the release build; fails the build above it.
//
// It also fails if an interface string is in the bundle (issue 14): islands
// get their words from the server, so the bundle carries no translation
// tables and does not grow with the number of languages.
import { readdirSync, readFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const BUDGET = 200_000;
const dir = "target/site/pkg";
const wasm = readdirSync(dir).filter((name) => name.endsWith(".wasm"));
if (wasm.length !== 1) {
  console.error(`expected one .wasm in ${dir}, found ${wasm.length}: run cargo leptos build --release`);
  process.exit(1);
}
const raw = readFileSync(`${dir}/${wasm[0]}`);
const brotli = brotliCompressSync(raw, {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
  },
}).length;
const verdict = brotli <= BUDGET ? "within" : "OVER";
console.log(`hydrate WASM: ${raw.length} B raw, ${brotli} B brotli: ${verdict} the ${BUDGET} B budget`);

// Every piece of locale text between placeholders, long enough not to occur
// by chance: 10 bytes for translations, 16 for English, whose short words
// ("Delete", "Settings") could be in the bundle for other reasons.
const localeDir = "app/locales";
const shipped = [];
for (const file of readdirSync(localeDir).filter((name) => name.endsWith(".json"))) {
  const minBytes = file.startsWith("en") ? 16 : 10;
  for (const [key, value] of Object.entries(JSON.parse(readFileSync(`${localeDir}/${file}`, "utf8")))) {
    for (const piece of value.split(/\{\{[^}]*\}\}/)) {
      const bytes = Buffer.from(piece.trim(), "utf8");
      if (bytes.length >= minBytes && raw.includes(bytes)) shipped.push(`${file} ${key}: ${piece.trim()}`);
    }
  }
}
if (shipped.length > 0) {
  console.error(`interface strings in the WASM (islands must get them from the server):\n  ${shipped.join("\n  ")}`);
}
process.exit(brotli <= BUDGET && shipped.length === 0 ? 0 : 1);
