import { expect, type Page } from "@playwright/test";
import { createRoom, jsEnabled, person, ready, send, test, watchConsole } from "./support";

/** A word no other test writes: letters and digits only, so it is one search word. */
const uniqueWord = () => `zq${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/** Searches from the header's link and the form, as a person would. */
async function searchFor(page: Page, words: string) {
  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Search" }).click();
  await page.getByLabel("Words").fill(words);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/\/search\?q=/);
}

test.describe("search", () => {
  test("a visitor finds public messages only, marked, and opens one in its conversation; a member finds their private room's too", async ({ browser, page }, info) => {
    const word = uniqueWord();
    const alice = await person(browser, info, `alice_${Date.now().toString(36)}`);
    await createRoom(alice.page, info, `Open ${word}`);
    await send(alice.page, `the public ${word} is here`);
    await expect(alice.page.getByTestId("messages").getByText(`the public ${word} is here`)).toBeVisible();
    await createRoom(alice.page, info, `Closed ${word}`, "private");
    await send(alice.page, `the private ${word} is hidden`);
    await expect(alice.page.getByTestId("messages").getByText(`the private ${word} is hidden`)).toBeVisible();

    const problems = watchConsole(page);
    const results = page.getByTestId("search-hit");
    // Stored by the worker a moment after it was shown: search again until it is there.
    await expect(async () => {
      await searchFor(page, word.toUpperCase());
      await expect(results).toHaveCount(1, { timeout: 1000 });
    }).toPass();
    await ready(page, info);
    await expect(page.locator('head meta[name="robots"]')).toHaveAttribute("content", "noindex");
    await expect(results.locator("mark")).toHaveText(word);
    await expect(page.getByText("hidden")).toHaveCount(0);

    await results.getByTestId("search-hit-link").click();
    await expect(page).toHaveURL(/\/r\/.*\?before=\d+#m-/);
    const anchor = new URL(page.url()).hash;
    await expect(page.locator(anchor)).toContainText(`the public ${word} is here`);
    expect(problems).toEqual([]);

    await expect(async () => {
      await searchFor(alice.page, word);
      await expect(alice.page.getByTestId("search-hit")).toHaveCount(2, { timeout: 1000 });
    }).toPass();
    await expect(alice.page.getByTestId("search-hit").first()).toContainText("hidden");
    await alice.context.close();
  });

  test("a search without words says why, in the reader's language, and keeps the filters", async ({ browser, page }, info) => {
    await page.goto("/search?q=%3F%21&from=2026-13-45");
    await expect(page.getByTestId("search-error-q")).toHaveText("This value is not valid.");
    await expect(page.getByTestId("search-error-from")).toHaveText("This value is not valid.");
    await expect(page.getByLabel("Words")).toHaveValue("?!");
    await expect(page.getByLabel("Words")).toHaveAttribute("aria-invalid", "true");

    // A French browser (its own: the first page leaves a language cookie).
    const french = await browser.newContext({ locale: "fr-FR", javaScriptEnabled: jsEnabled(info) });
    const frenchPage = await french.newPage();
    await frenchPage.goto("/search?q=%3F");
    await expect(frenchPage.getByTestId("search-error-q")).toHaveText("Cette valeur n’est pas valide.");
    await french.close();
  });
});
