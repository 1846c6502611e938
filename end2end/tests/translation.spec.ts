import { expect, type Page, type TestInfo } from "@playwright/test";
import { createRoom, jsEnabled, person, ready, send, test, uniqueName, watchConsole } from "./support";

// Message translation with the real APy engine the config starts (English to
// Spanish), with JavaScript off and on.

const ENGLISH = "The house is red and the dog is very big.";

/** Switches the interface to Spanish with the language picker. */
async function speakSpanish(page: Page, info: TestInfo) {
  await page.goto("/");
  await ready(page, info);
  const picker = page.getByTestId("language-picker");
  await picker.getByRole("combobox").selectOption("es");
  await picker.getByRole("button").click();
  await expect(page.locator("html")).toHaveAttribute("lang", "es");
}

async function chooseTranslation(page: Page, info: TestInfo, mode: "always" | "ask" | "never") {
  await page.goto("/settings");
  await ready(page, info);
  const section = page.locator('section[aria-labelledby="settings-translation"]');
  await section.getByTestId(`translate-${mode}`).check();
  await section.locator("button[type=submit]").click();
  await page.waitForLoadState("networkidle");
  await page.goto("/settings");
  await expect(page.getByTestId(`translate-${mode}`)).toBeChecked();
}

async function joinRoom(page: Page, info: TestInfo, slug: string) {
  await page.goto(`/r/${slug}`);
  await ready(page, info);
  await page.getByTestId("join").click();
  await expect(page.getByTestId("composer")).toBeVisible();
}

/** Reloads `path` until `check` passes (the translator works in the background). */
async function eventually(page: Page, info: TestInfo, path: string, check: () => Promise<void>) {
  await expect(async () => {
    await page.goto(path);
    await ready(page, info);
    await check();
  }).toPass({ timeout: 25_000, intervals: [500, 1_000, 2_000] });
}

test.describe("translation", () => {
  test("a Spanish reader who always translates reads an English message in Spanish", async ({ browser }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const pedro = await person(browser, info, uniqueName("pedro"));
    const problems = watchConsole(pedro.page);
    const slug = await createRoom(alice.page, info, `Babel ${uniqueName("r")}`);
    await speakSpanish(pedro.page, info);
    await joinRoom(pedro.page, info, slug);
    await chooseTranslation(pedro.page, info, "always");
    await pedro.page.goto(`/r/${slug}`);
    await ready(pedro.page, info);

    await send(alice.page, ENGLISH);
    const translation = pedro.page.getByTestId("translation");
    if (jsEnabled(info)) {
      // Live: the translation replaces the original on the open page.
      await expect(translation).toContainText("casa", { timeout: 25_000 });
    } else {
      await eventually(pedro.page, info, `/r/${slug}`, () => expect(translation).toContainText("casa", { timeout: 1_000 }));
    }
    await expect(pedro.page.getByText("Traducción automática", { exact: false })).toBeVisible();
    // The original, one click away (a <details>, no JavaScript needed).
    const original = pedro.page.getByTestId("original");
    await expect(original).toBeHidden();
    await pedro.page.locator("details summary").first().click();
    await expect(original).toContainText("The house is red");
    // The author reads their own words.
    await alice.page.reload();
    await expect(alice.page.getByTestId("messages")).toContainText(ENGLISH);
    await expect(alice.page.getByTestId("translation")).toHaveCount(0);
    expect(problems).toEqual([]);
    await alice.context.close();
    await pedro.context.close();
  });

  test("a reader who asks translates one message", async ({ browser }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const maria = await person(browser, info, uniqueName("maria"));
    const problems = watchConsole(maria.page);
    const slug = await createRoom(alice.page, info, `Pregunta ${uniqueName("r")}`);
    await speakSpanish(maria.page, info);
    await joinRoom(maria.page, info, slug);
    await send(alice.page, ENGLISH);
    await expect(alice.page.getByTestId("messages")).toContainText(ENGLISH);

    await maria.page.goto(`/r/${slug}`);
    await ready(maria.page, info);
    const row = maria.page.getByTestId("messages").locator("li", { hasText: "The house is red" });
    await expect(maria.page.getByTestId("translation")).toHaveCount(0);
    await row.getByTestId("translate").click();
    const translation = maria.page.getByTestId("translation");
    if (jsEnabled(info)) {
      // In place: at once if it was ready, else when the translator is done.
      await expect(translation).toContainText("casa", { timeout: 25_000 });
    } else {
      // The form leads back to the message, with the translation once made.
      await expect(maria.page).toHaveURL(/\?translate=/);
      const asked = new URL(maria.page.url());
      await eventually(maria.page, info, `${asked.pathname}${asked.search}`, () =>
        expect(translation).toContainText("casa", { timeout: 1_000 }),
      );
    }
    expect(problems).toEqual([]);
    await alice.context.close();
    await maria.context.close();
  });
});
