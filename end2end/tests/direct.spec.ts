import { expect } from "@playwright/test";
import { createRoom, jsEnabled, person, ready, send, test, uniqueName, watchConsole } from "./support";

test.describe("direct messages", () => {
  test("people who share a room write privately; a stranger is refused; a block silences the conversation", async ({ browser }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const bob = await person(browser, info, uniqueName("bob"));
    const bobName = (await bob.page.getByTestId("account-link").innerText()).trim();
    const problems = watchConsole(alice.page);
    const lobby = await createRoom(alice.page, info, uniqueName("Lobby"));
    await bob.page.goto(`/r/${lobby}`);
    await ready(bob.page, info);
    await bob.page.getByTestId("join").click();
    await expect(bob.page.getByLabel("Your message")).toBeVisible();

    // A stranger cannot be written to: said on the field, nothing made.
    await alice.page.getByTestId("messages-link").click();
    await ready(alice.page, info);
    await expect(alice.page.getByTestId("conversations-empty")).toBeVisible();
    await alice.page.getByLabel("With").fill("nobody_at_all");
    await alice.page.getByRole("button", { name: "Start the conversation" }).click();
    await expect(alice.page.getByTestId("with-error")).toHaveText("No account has this username.");
    await expect(alice.page.getByLabel("With")).toHaveValue("nobody_at_all");

    // From Bob's profile: "Send a message" opens the conversation.
    await alice.page.goto(`/u/${bobName}`);
    await ready(alice.page, info);
    await alice.page.getByRole("button", { name: "Send a message" }).click();
    await expect(alice.page).toHaveURL(/\/r\/dm-[0-9a-f]+/);
    await expect(alice.page.getByTestId("room-visibility")).toHaveText("Direct conversation");
    const conversation = new URL(alice.page.url()).pathname;
    await ready(alice.page, info);
    await send(alice.page, "Just between us");
    await expect(alice.page.getByTestId("messages").getByText("Just between us")).toBeVisible();

    // Bob finds it with its unread count, and answers.
    // (Counted from storage: the worker may take a moment to store it.)
    await expect(async () => {
      await bob.page.goto("/messages");
      await expect(bob.page.getByTestId("conversations").getByTestId("unread")).toHaveText("1", { timeout: 1_000 });
    }).toPass();
    await bob.page.getByTestId("conversations").getByRole("link").click();
    await ready(bob.page, info);
    await expect(bob.page.getByTestId("messages").getByText("Just between us")).toBeVisible();
    await expect(bob.page.getByTestId("my-conversations")).toBeVisible();
    await send(bob.page, "Sure");
    if (!jsEnabled(info)) await alice.page.reload();
    await expect(alice.page.getByTestId("messages").getByText("Sure")).toBeVisible();

    // Bob blocks Alice from the settings: neither may write there now.
    await bob.page.goto("/settings");
    await ready(bob.page, info);
    const aliceName = (await alice.page.getByTestId("account-link").innerText()).trim();
    await bob.page.getByLabel("Username to block").fill(aliceName);
    await bob.page.getByTestId("block-form").getByRole("button", { name: "Block" }).click();
    await expect(bob.page.getByTestId("blocked-people")).toContainText(aliceName);
    // With JavaScript, Alice's open page learns it at once: her composer hides.
    if (jsEnabled(info)) await expect(alice.page.getByLabel("Your message")).toBeHidden();
    await alice.page.goto(conversation);
    await ready(alice.page, info);
    await expect(alice.page.getByTestId("cannot-write")).toBeVisible();
    await expect(alice.page.getByLabel("Your message")).toHaveCount(0);
    await expect(alice.page.getByTestId("messages").getByText("Sure")).toBeVisible();

    // Unblocked: the composer is back.
    await bob.page.getByTestId("unblock-person").getByRole("button", { name: "Unblock" }).click();
    await expect(bob.page.getByTestId("blocked-none")).toBeVisible();
    await alice.page.reload();
    await expect(alice.page.getByLabel("Your message")).toBeVisible();
    expect(problems).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });
});
