import { expect } from "@playwright/test";
import { jsEnabled, markWindow, ready, test, watchConsole, windowIsMarked } from "./support";

test.describe("the shell", () => {
  test("the home page is in the server's HTML", async ({ page, request }, info) => {
    const raw = await request.get("/", { headers: { "accept-language": "en" } });
    expect(raw.status()).toBe(200);
    const html = await raw.text();
    expect(html).toContain("Public rooms");
    // Empty at first, with rooms once other tests made some.
    expect(html).toMatch(/data-testid="directory(-empty)?"/);
    expect(html).toMatch(/<html[^>]*lang="en"/);
    expect(html).toMatch(/<html[^>]*dir="ltr"/);

    const problems = watchConsole(page);
    await page.goto("/");
    await ready(page, info);
    await expect(page.getByRole("heading", { level: 1, name: "Public rooms" })).toBeVisible();
    await expect(page.getByTestId("directory-empty").or(page.getByTestId("directory"))).toBeVisible();
    await expect(page).toHaveTitle("Public rooms · tchatche");
    expect(problems).toEqual([]);
  });

  test("an unknown address answers 404 with a page", async ({ page }, info) => {
    const response = await page.goto("/no/such/page");
    expect(response?.status()).toBe(404);
    await ready(page, info);
    await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
    await page.getByRole("link", { name: "Back to the rooms" }).click();
    await expect(page).toHaveURL("/");
  });

  test("the theme toggle persists the choice and the server renders it", async ({ page, request }, info) => {
    const problems = watchConsole(page);
    await page.goto("/");
    await ready(page, info);
    const html = page.locator("html");
    await expect(html).toHaveAttribute("data-theme", "system");
    if (jsEnabled(info)) await markWindow(page);

    await page.getByTestId("theme-toggle").click();
    await expect(html).toHaveAttribute("data-theme", "light");
    await page.getByTestId("theme-toggle").click();
    await expect(html).toHaveAttribute("data-theme", "dark");
    // With JavaScript the switch happens in place, without a reload.
    if (jsEnabled(info)) expect(await windowIsMarked(page)).toBe(true);

    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === "theme")?.value).toBe("dark");
    // The server renders the stored theme, so the first paint is dark.
    await page.reload();
    await expect(html).toHaveAttribute("data-theme", "dark");
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).not.toBe("rgb(255, 255, 255)");
    const raw = await request.get("/", { headers: { cookie: "theme=dark" } });
    expect(await raw.text()).toMatch(/<html[^>]*data-theme="dark"/);
    expect(problems).toEqual([]);
  });

  test("the language switcher changes the UI language and keeps it", async ({ page }, info) => {
    const problems = watchConsole(page);
    await page.goto("/");
    await ready(page, info);
    // One control: the server renders the page again in the new language,
    // JavaScript or not.
    const picker = page.getByTestId("language-picker");
    await picker.getByRole("combobox").selectOption("fr");
    await picker.getByRole("button").click();
    await expect(page.getByRole("heading", { level: 1, name: "Salons publics" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "fr");
    await expect(picker.getByRole("combobox")).toHaveValue("fr");

    await page.reload();
    await ready(page, info);
    await expect(page.getByRole("heading", { level: 1, name: "Salons publics" })).toBeVisible();
    await picker.getByRole("combobox").selectOption("en");
    await picker.getByRole("button").click();
    await expect(page.getByRole("heading", { level: 1, name: "Public rooms" })).toBeVisible();
    expect(problems).toEqual([]);
  });

  test("Accept-Language chooses the language when no cookie does", async ({ browser }, info) => {
    const context = await browser.newContext({ locale: "fr-FR", javaScriptEnabled: jsEnabled(info) });
    const page = await context.newPage();
    await page.goto("/");
    await ready(page, info);
    await expect(page.locator("html")).toHaveAttribute("lang", "fr");
    await expect(page.getByRole("heading", { level: 1, name: "Salons publics" })).toBeVisible();
    await context.close();
  });

  test("Arabic reads right to left and fits a phone", async ({ browser }, info) => {
    const context = await browser.newContext({ locale: "ar", javaScriptEnabled: jsEnabled(info) });
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/");
    await ready(page, info);
    await expect(page.locator("html")).toHaveAttribute("dir", "rtl");
    await expect(page.locator("html")).toHaveAttribute("lang", "ar");
    // The header starts on the right.
    const logo = await page.getByRole("banner").getByRole("link").first().boundingBox();
    expect(logo!.x + logo!.width).toBeGreaterThan(390 / 2);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: info.outputPath("arabic-phone.png"), fullPage: true });
    await info.attach("arabic-phone", { path: info.outputPath("arabic-phone.png"), contentType: "image/png" });
    expect(problems).toEqual([]);
    await context.close();
  });

  test("phone and desktop layouts, and the README screenshot", async ({ page }, info) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/");
    await ready(page, info);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
    if (jsEnabled(info)) {
      await page.screenshot({ path: "../docs/screenshot.png" });
    }
  });
});
