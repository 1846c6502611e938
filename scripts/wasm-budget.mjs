#!/usr/bin/env node
// The browser bundle's size budget (issue 15). The release build is split
// (`cargo leptos build --release --split`): the main WASM is what every page
// loads; `split_*`/`chunk_*` files hold code only some pages load (an island
// marked `#[island(lazy)]`) and load it when they need it. Sizes are brotli
// at quality 11 (what a static pre-compression would use). Run by `make
// test` after the release build; it fails the build when
// - what a signed-out reader of a public room loads passes READER_BUDGET
//   (issue 15): the main WASM and the files the split manifest lists for
//   the reader's island (its own, and chunks it shares with others);
// - everything together passes TOTAL_BUDGET: what a member may load in all;
// - an interface string is in any of them (issue 14): islands get their
//   words from the server, so the bundle does not grow with the languages.
import { readdirSync, readFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const READER_BUDGET = 150_000;
const TOTAL_BUDGET = 300_000;
const dir = "target/site/pkg";
const files = readdirSync(dir).filter((name) => name.endsWith(".wasm"));
const main = files.filter((name) => name.startsWith("tchatche."));
if (main.length !== 1) {
  console.error(`expected one main tchatche.*.wasm in ${dir}, found ${main.length}: run cargo leptos build --release --split`);
  process.exit(1);
}
const brotli = (raw) =>
  brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  }).length;
const sizes = files.map((name) => {
  const raw = readFileSync(`${dir}/${name}`);
  return { name, raw, compressed: brotli(raw) };
});
let within = true;
for (const { name, raw, compressed } of sizes) {
  console.log(`${name}: ${raw.length} B raw, ${compressed} B brotli`);
}
const mainSize = sizes.find((file) => file.name === main[0]).compressed;
const manifestFile = readdirSync(dir).find((name) => name.startsWith("__wasm_split_manifest."));
const manifest = manifestFile ? JSON.parse(readFileSync(`${dir}/${manifestFile}`, "utf8")) : {};
const readerFiles = Object.entries(manifest).find(([island]) => island.startsWith("read_only_conversation_loader"))?.[1];
if (!readerFiles) {
  console.error(`the split manifest in ${dir} lists no read_only_conversation_loader: run cargo leptos build --release --split`);
  process.exit(1);
}
const reader = readerFiles.reduce(
  (sum, file) => sum + (sizes.find(({ name }) => name === `${file}.wasm`)?.compressed ?? 0),
  mainSize,
);
const total = sizes.reduce((sum, file) => sum + file.compressed, 0);
console.log(`main WASM (every page): ${mainSize} B brotli`);
for (const [what, size, budget] of [
  ["a signed-out reader of a public room (main + read-only conversation)", reader, READER_BUDGET],
  ["all WASM (a member who opens everything)", total, TOTAL_BUDGET],
]) {
  const verdict = size <= budget ? "within" : "OVER";
  within &&= size <= budget;
  console.log(`${what}: ${size} B brotli: ${verdict} the ${budget} B budget`);
}

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
      if (bytes.length >= minBytes && sizes.some(({ raw }) => raw.includes(bytes))) shipped.push(`${file} ${key}: ${piece.trim()}`);
    }
  }
}
if (shipped.length > 0) {
  console.error(`interface strings in the WASM (islands must get them from the server):\n  ${shipped.join("\n  ")}`);
}
process.exit(within && shipped.length === 0 ? 0 : 1);
