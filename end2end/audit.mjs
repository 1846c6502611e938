// Lighthouse (desktop preset) on some pages of a running server; exits 1 when
// a category scores below its target. Run by scripts/audit.sh:
//   node end2end/audit.mjs BASE_URL OUT_DIR PATH...
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

// Scores are 0-100, as Lighthouse shows them.
const TARGETS = { performance: 95, accessibility: 95, "best-practices": 95, seo: 100 };

const [baseUrl, outDir, ...paths] = process.argv.slice(2);
if (!baseUrl || !outDir || paths.length === 0) {
  console.error("usage: node audit.mjs BASE_URL OUT_DIR PATH...");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
  // Without the networking flags Chromium keeps calling hosts this machine
  // cannot reach (as in playwright.config.ts).
  chromeFlags: [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const results = [];
try {
  for (const path of paths) {
    const url = new URL(path, baseUrl).href;
    const { lhr, report } = await lighthouse(
      url,
      { port: chrome.port, output: ["json", "html"], logLevel: "error" },
      desktopConfig,
    );
    // A page that failed to load gets a runtimeError and null scores.
    if (lhr.runtimeError) {
      throw new Error(`${url}: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
    }
    const name = path === "/" ? "home" : path.replace(/^\/|\/$/g, "").replace(/\//g, "-");
    writeFileSync(join(outDir, `${name}.report.json`), report[0]);
    writeFileSync(join(outDir, `${name}.report.html`), report[1]);
    results.push({ path, lhr });
  }
} finally {
  await chrome.kill();
}

// One row per page, one column per category.
const ids = Object.keys(TARGETS);
const score = (lhr, id) => Math.round((lhr.categories[id].score ?? 0) * 100);
const row = (cells) => cells.map((cell, i) => String(cell).padEnd(i === 0 ? 22 : 16)).join("");
console.log(row(["page", ...ids]));
console.log(row(["(target)", ...ids.map((id) => (TARGETS[id] === 100 ? "100" : `>= ${TARGETS[id]}`))]));
for (const { path, lhr } of results) {
  console.log(row([path, ...ids.map((id) => `${score(lhr, id)}${score(lhr, id) < TARGETS[id] ? " FAIL" : ""}`)]));
}

// For each category under target, the audits that cost it points.
let failed = false;
for (const { path, lhr } of results) {
  for (const id of ids) {
    if (score(lhr, id) >= TARGETS[id]) continue;
    failed = true;
    console.log(`\n${path}: ${lhr.categories[id].title} ${score(lhr, id)} < ${TARGETS[id]}; audits below full marks:`);
    for (const ref of lhr.categories[id].auditRefs) {
      const audit = lhr.audits[ref.id];
      // Informative, manual and not-applicable audits have a null score.
      if (audit.score === null || audit.score >= 1) continue;
      const value = audit.displayValue ? ` (${audit.displayValue})` : "";
      const weight = ref.weight ? ` [weight ${ref.weight}]` : "";
      console.log(`  - ${audit.id}: ${audit.title}${value}, score ${Math.round(audit.score * 100)}${weight}`);
      // A few of the offending elements or resources, to know where to look.
      for (const item of (audit.details?.items ?? []).slice(0, 5)) {
        const where = item.sourceLocation?.url ?? item.url;
        const what = item.node?.snippet ?? [item.description, where].filter(Boolean).join(" ");
        if (what) console.log(`      ${String(what).slice(0, 160)}`);
      }
    }
  }
}
console.log(`\nLighthouse reports: ${outDir}/`);
process.exit(failed ? 1 : 0);
