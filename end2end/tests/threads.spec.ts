import { expect } from "@playwright/test";
import { createRoom, jsEnabled, person, ready, send, test, uniqueName, watchConsole } from "./support";

test.describe("threads", () => {
  test("a reply opens a thread: quoted in the room, counted under its message, live on the thread's page", async ({ browser, page }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const room = await createRoom(alice.page, info, uniqueName("Help"));
    await send(alice.page, "How do I export my data?");
    const question = alice.page.getByTestId("messages").locator("li", { hasText: "How do I export my data?" });
    await expect(question).toBeVisible();

    // Reply: the thread's page opens with the composer answering it.
    await question.getByTestId("reply").click();
    await expect(alice.page).toHaveURL(new RegExp(`/r/${room}/t/[0-9a-f-]+\\?reply=`));
    await ready(alice.page, info);
    const threadUrl = alice.page.url().split("?")[0];
    await expect(alice.page.getByRole("heading", { level: 1 })).toHaveText("How do I export my data?");

    // A visitor follows the thread (live with JavaScript).
    const problems = watchConsole(page);
    await page.goto(threadUrl);
    await ready(page, info);
    await expect(page.locator('head meta[name="robots"]')).toHaveAttribute("content", "noindex");

    await send(alice.page, "From the settings page, under Data.");
    await expect(alice.page.getByTestId("messages").getByText("From the settings page, under Data.")).toBeVisible();
    // Something said in the room, not in the thread, stays out of it.
    await alice.page.goto(`/r/${room}`);
    await send(alice.page, "Unrelated news");
    await expect(alice.page.getByTestId("messages").getByText("Unrelated news")).toBeVisible();

    if (jsEnabled(info)) {
      await expect(page.getByTestId("messages").getByText("From the settings page, under Data.")).toBeVisible();
    } else {
      await page.reload();
    }
    await expect(page.getByTestId("messages").getByText("From the settings page, under Data.")).toBeVisible();
    await expect(page.getByTestId("messages").getByText("Unrelated news")).toHaveCount(0);
    expect(problems).toEqual([]);

    // In the room: the reply quotes its question, the question counts its reply.
    await alice.page.goto(`/r/${room}`);
    await ready(alice.page, info);
    const answer = alice.page.getByTestId("messages").locator("li", { hasText: "From the settings page" });
    await expect(answer.getByTestId("quote")).toContainText("How do I export my data?");
    const count = alice.page.getByTestId("messages").locator("li", { hasText: "How do I export my data?" }).first().getByTestId("thread-link");
    await expect(count).toContainText("1 reply");
    await count.click();
    await expect(alice.page).toHaveURL(threadUrl);
    await alice.context.close();
  });
});
