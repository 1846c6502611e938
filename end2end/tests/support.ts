import { expect, type Page, type TestInfo } from "@playwright/test";

export const jsEnabled = (info: TestInfo) => info.project.name === "js";

/** Waits until the app has hydrated (JS on); nothing to wait for with JS off. */
export async function ready(page: Page, info: TestInfo) {
  if (jsEnabled(info)) {
    await expect(page.locator("body[data-hydrated='true']")).toBeAttached();
  }
}

/** Collects console errors and warnings (hydration mismatches show up there). */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      problems.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/** Marks the window so a test can tell whether the page reloaded. */
export async function markWindow(page: Page) {
  await page.evaluate(() => ((window as unknown as { tchatcheMark: number }).tchatcheMark = 42));
}

export async function windowIsMarked(page: Page) {
  return page.evaluate(() => (window as unknown as { tchatcheMark?: number }).tchatcheMark === 42);
}
