import { expect, type Page } from "@playwright/test";
import { createRoom, jsEnabled, person, ready, send, test, uniqueName, watchConsole } from "./support";

const robotsMeta = (page: Page) => page.locator('head meta[name="robots"]');
const canonical = (page: Page) => page.locator('head link[rel="canonical"]');

test.describe("public rooms", () => {
  test("a visitor searches the directory, reads a room and signs up to post in it", async ({ browser, page }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const name = `Reading ${uniqueName("r")}`;
    const slug = await createRoom(alice.page, info, name);
    await send(alice.page, "welcome, **readers**");
    await expect(alice.page.getByTestId("messages").getByText("welcome, readers")).toBeVisible();

    // Signed out, from the directory's search.
    const problems = watchConsole(page);
    await page.goto("/");
    await ready(page, info);
    await page.getByLabel("Search rooms").fill(name.toUpperCase());
    await page.getByLabel("Order").selectOption("name");
    await page.getByRole("button", { name: "Search" }).click();
    await expect(page).toHaveURL(/[?&]q=reading/i);
    await expect(page).toHaveURL(/sort=name/);
    const directory = page.getByTestId("directory");
    await expect(directory.getByRole("link")).toHaveCount(1);
    await expect(robotsMeta(page)).toHaveAttribute("content", "noindex");
    await directory.getByRole("link", { name }).click();

    await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
    await expect(page.getByTestId("messages").locator("strong", { hasText: "readers" })).toBeVisible();
    await expect(page.getByLabel("Your message")).toHaveCount(0);
    await expect(page.getByTestId("presence")).toHaveCount(0);
    // Not indexable until its owner says so.
    await expect(robotsMeta(page)).toHaveAttribute("content", "noindex");

    await page.getByTestId("sign-in-to-post").getByRole("link", { name: "Sign up" }).click();
    await ready(page, info);
    const reader = uniqueName("reader");
    await page.getByLabel("Username").fill(reader);
    await page.getByLabel("Display name").fill(reader);
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Create my account" }).click();
    await expect(page).toHaveURL(new RegExp(`/r/${slug}`));
    await expect(page.getByTestId("join")).toBeVisible();
    expect(problems).toEqual([]);
    await alice.context.close();
  });

  test("a person keeps their words off search engines: signed-out readers see that they wrote, not what", async ({ browser, page }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const slug = await createRoom(alice.page, info, `Shy ${uniqueName("r")}`);
    await alice.page.goto(`/r/${slug}/settings`);
    await ready(alice.page, info);
    await alice.page.getByLabel(/Visible to search engines/).check();
    await alice.page.getByRole("button", { name: "Save" }).click();
    await alice.page.goto(`/r/${slug}/settings`);
    await expect(alice.page.getByLabel(/Visible to search engines/)).toBeChecked();

    await alice.page.goto("/settings");
    await ready(alice.page, info);
    const setting = alice.page.getByLabel(/Keep my messages off search engines/);
    await setting.check();
    await alice.page.locator("#settings-search-engines").locator("..").getByRole("button", { name: "Save" }).click();
    await alice.page.goto("/settings");
    await expect(alice.page.getByLabel(/Keep my messages off search engines/)).toBeChecked();

    await alice.page.goto(`/r/${slug}`);
    await ready(alice.page, info);
    await send(alice.page, "words for members only");
    await expect(alice.page.getByTestId("messages").getByText("words for members only")).toBeVisible();

    const problems = watchConsole(page);
    await page.goto(`/r/${slug}`);
    await ready(page, info);
    const hidden = page.getByTestId("messages").getByTestId("concealed");
    await expect(hidden).toHaveText("Its author keeps their words off search engines.");
    await expect(page.getByText("words for members only")).toHaveCount(0);
    expect(problems).toEqual([]);
    await alice.context.close();
  });

  test("an owner opens a room to search engines; its archive pages link day to day, thin days unindexed", async ({ browser, page }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const name = `Indexed ${uniqueName("r")}`;
    const slug = await createRoom(alice.page, info, name);
    await send(alice.page, "archived words");
    await expect(alice.page.getByTestId("messages").getByText("archived words")).toBeVisible();

    await alice.page.goto(`/r/${slug}/settings`);
    await ready(alice.page, info);
    await alice.page.getByLabel(/Visible to search engines/).check();
    await alice.page.getByRole("button", { name: "Save" }).click();
    await alice.page.goto(`/r/${slug}/settings`);
    await expect(alice.page.getByLabel(/Visible to search engines/)).toBeChecked();

    const problems = watchConsole(page);
    await page.goto(`/r/${slug}`);
    await ready(page, info);
    await expect(robotsMeta(page)).toHaveCount(0);
    await expect(canonical(page)).toHaveAttribute("href", new RegExp(`/r/${slug}$`));
    await expect(page.locator('script[type="application/ld+json"]')).toHaveCount(1);

    await page.getByTestId("archive-link").click();
    const today = new Date().toISOString().slice(0, 10);
    await expect(page).toHaveURL(new RegExp(`/r/${slug}/${today}$`));
    await expect(page.getByRole("heading", { level: 1 })).toContainText(today);
    await expect(page.getByTestId("archive-messages").getByText("archived words")).toBeVisible();
    // One message from one person is below the indexing bar: readable, not for search results.
    await expect(robotsMeta(page)).toHaveAttribute("content", "noindex");
    await expect(canonical(page)).toHaveCount(0);
    await expect(page).toHaveTitle(`${name} · ${today} · tchatche`);
    // The back arrow is decoration (mirrored right to left): the link is named by the room.
    await page.getByRole("link", { name, exact: true }).click();
    await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
    if (jsEnabled(info)) expect(problems).toEqual([]);
    await alice.context.close();
  });

  test("private rooms stay invisible to visitors, and the sitemap lists indexable rooms only", async ({ browser, page }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const hidden = `Hidden ${uniqueName("r")}`;
    const slug = await createRoom(alice.page, info, hidden, "private");
    await send(alice.page, "members only");
    await expect(alice.page.getByTestId("messages").getByText("members only")).toBeVisible();

    const today = new Date().toISOString().slice(0, 10);
    for (const path of [`/r/${slug}`, `/r/${slug}/${today}`]) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(404);
      await expect(page.getByText("members only")).toHaveCount(0);
      await expect(robotsMeta(page)).toHaveAttribute("content", "noindex");
    }
    await page.goto(`/?q=${encodeURIComponent(hidden)}`);
    await expect(page.getByTestId("directory-empty")).toBeVisible();
    const sitemap = await (await page.request.get("/sitemaps/1.xml")).text();
    expect(sitemap).not.toContain(slug);
    const robots = await (await page.request.get("/robots.txt")).text();
    expect(robots).toContain("Sitemap: ");
    await alice.context.close();
  });
});
