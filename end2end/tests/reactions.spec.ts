import { expect, type Page } from "@playwright/test";
import { createRoom, jsEnabled, person, ready, send, test, uniqueName, watchConsole } from "./support";

const cake = (page: Page) => page.getByTestId("messages").locator("li", { hasText: "Who wants cake?" });

/** Opens a message's picker (a plain <details>: no JavaScript needed). */
async function openPicker(page: Page) {
  await cake(page).getByTestId("add-reaction").locator("summary").click();
}

test.describe("reactions", () => {
  test("a member reacts with a quick emoji and any other, takes one back; a visitor sees who; a bad one is refused", async ({ browser, page }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const room = await createRoom(alice.page, info, uniqueName("Party"));
    await send(alice.page, "Who wants cake?");
    await expect(cake(alice.page)).toBeVisible();
    const problems = watchConsole(page);
    await page.goto(`/r/${room}`);
    await ready(page, info);

    await openPicker(alice.page);
    await cake(alice.page).getByTestId("quick-reaction").filter({ hasText: "🎉" }).click();
    const party = cake(alice.page).getByRole("button", { name: /^🎉 1: alice_/ });
    await expect(party).toHaveAttribute("aria-pressed", "true");

    await openPicker(alice.page);
    await cake(alice.page).getByLabel("Or any emoji").fill("🦀");
    await cake(alice.page).getByRole("button", { name: "React", exact: true }).click();
    await expect(cake(alice.page).getByRole("button", { name: /^🦀 1: alice_/ })).toBeVisible();

    // Not an emoji: said, and nothing changes.
    await openPicker(alice.page);
    await cake(alice.page).getByLabel("Or any emoji").fill("cake");
    await cake(alice.page).getByRole("button", { name: "React", exact: true }).click();
    const refusal = jsEnabled(info) ? cake(alice.page).getByRole("alert") : alice.page.getByTestId("reaction-refused");
    await expect(refusal).toHaveText("Use a single emoji.");
    await expect(cake(alice.page).getByTestId("reaction")).toHaveCount(2);

    // A visitor reads who reacted (live with JavaScript).
    if (!jsEnabled(info)) await page.reload();
    await expect(cake(page).getByTestId("reaction")).toHaveCount(2);
    await expect(cake(page).getByTestId("reaction").first()).toHaveAttribute("aria-label", /^🎉 1: alice_/);
    await expect(cake(page).getByRole("button")).toHaveCount(0);

    // Taken back.
    await cake(alice.page).getByRole("button", { name: /^🎉 1: alice_/ }).click();
    await expect(cake(alice.page).getByTestId("reaction")).toHaveCount(1);
    if (!jsEnabled(info)) await page.reload();
    await expect(cake(page).getByTestId("reaction")).toHaveCount(1);
    expect(problems).toEqual([]);
    await alice.context.close();
  });
});
