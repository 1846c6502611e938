#!/usr/bin/env node
// The browser bundle's size budget (issue 5): the hydrate WASM, as the release
// build leaves it in target/site/pkg, must stay within 200,000 bytes once
// compressed with brotli (quality 11, what a static pre-compression would
// use). Run by `make test` after the release build; fails the build above it.
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
process.exit(brotli <= BUDGET ? 0 : 1);
