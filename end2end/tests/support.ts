import { test as base, expect, type Browser, type BrowserContext, type Page, type TestInfo } from "@playwright/test";

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

/** A person in their own browser context (own cookies, own address). */
export async function person(browser: Browser, info: TestInfo, name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ javaScriptEnabled: jsEnabled(info) });
  const ip = `10.9.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 254) + 1}`;
  await context.setExtraHTTPHeaders({ "x-forwarded-for": ip });
  const page = await context.newPage();
  await signUp(page, info, name);
  return { context, page };
}

export async function createRoom(page: Page, info: TestInfo, name: string, visibility = "public"): Promise<string> {
  await page.goto("/rooms/new");
  await ready(page, info);
  await page.getByLabel("Name").fill(name);
  await page.locator(`input[name=visibility][value=${visibility}]`).check();
  await page.getByRole("button", { name: "Create the room" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  return new URL(page.url()).pathname.split("/")[2];
}

export async function send(page: Page, text: string) {
  await page.getByLabel("Your message").fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}
