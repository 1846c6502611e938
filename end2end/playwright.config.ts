import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// One fresh embedded server (SQLite in a temporary folder) for the run.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const apyPort = Number(process.env.E2E_APY_PORT ?? 3199);
const dataDir = mkdtempSync(join(tmpdir(), "tchatche-e2e-"));

const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  // Without the networking flags Chromium keeps calling hosts this
  // machine cannot reach.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"]],
  use: { baseURL, launchOptions: chromium, locale: "en-US" },
  projects: [
    // Every spec runs twice: pure server-rendered HTML, and hydrated.
    { name: "no-js", use: { javaScriptEnabled: false } },
    { name: "js", use: { javaScriptEnabled: true } },
  ],
  webServer: [
  {
    // A real translation engine: Apertium's APy with its English-Spanish pair
    // (Debian packages, installed by scripts/install-tools.sh --browser).
    command: `apertium-apy -p ${apyPort} /usr/share/apertium/modes`,
    url: `http://127.0.0.1:${apyPort}/listPairs`,
    reuseExistingServer: false,
    timeout: 60_000,
    // APy logs every request on stderr.
    stdout: "ignore",
    stderr: "ignore",
    env: { LC_ALL: "C.UTF-8" },
  },
  {
    command: "./target/release/tchatche",
    cwd: "..",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    env: {
      DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      PUBLIC_URL: baseURL,
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_OUTPUT_NAME: "tchatche",
      LEPTOS_ENV: "PROD",
      RUST_LOG: "warn",
      // Tests give each browser context its own X-Forwarded-For address.
      TRUST_PROXY: "true",
      TRANSLATE_ENGINE: "apertium",
      TRANSLATE_URL: `http://127.0.0.1:${apyPort}`,
    },
  },
  ],
});
