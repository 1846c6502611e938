import { test as base, expect, type Page, type TestInfo } from "@playwright/test";

/**
 * Each test is a different client address (the server trusts X-Forwarded-For
 * in these tests), so per-address rate limits apply per test, as for people.
 */
export const test = base.extend({
  context: async ({ context }, use) => {
    const ip = `10.${rand(256)}.${rand(256)}.${rand(254) + 1}`;
    await context.setExtraHTTPHeaders({ "x-forwarded-for": ip });
    await use(context);
  },
});

const rand = (n: number) => Math.floor(Math.random() * n);

/** A username no other test uses. */
export const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}${rand(1000)}`;

export const PASSWORD = "correct horse battery staple";

/** Signs up through the form, as a person would. */
export async function signUp(page: Page, info: TestInfo, username: string, displayName = username) {
  await page.goto("/signup");
  await ready(page, info);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(displayName);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create my account" }).click();
  await expect(page.getByTestId("account-link")).toContainText(displayName);
}

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
