import { expect, type Page } from "@playwright/test";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { createRoom, jsEnabled, person, ready, send, signUp, test, uniqueName, watchConsole } from "./support";

const messages = (page: Page) => page.getByTestId("messages");

test.describe("chat", () => {
  test("two people talk live, see typing, edits and deletions", async ({ browser }, info) => {
    test.skip(!jsEnabled(info), "live updates need JavaScript (the no-JS test below posts and pages)");
    const alice = await person(browser, info, uniqueName("alice"));
    const bob = await person(browser, info, uniqueName("bob"));
    const problems = watchConsole(alice.page);
    const slug = await createRoom(alice.page, info, `Live ${uniqueName("r")}`);
    await bob.page.goto(`/r/${slug}`);
    await ready(bob.page, info);
    await bob.page.getByTestId("join").click();
    await expect(bob.page.getByLabel("Your message")).toBeVisible();
    await ready(bob.page, info);
    await expect(alice.page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    await expect(bob.page.getByTestId("connection")).toHaveAttribute("data-state", "live");

    await send(alice.page, "hello **bob**");
    await expect(messages(bob.page).locator("strong", { hasText: "bob" })).toBeVisible();
    await send(bob.page, "hi alice");
    await expect(messages(alice.page).getByText("hi alice")).toBeVisible();
    await expect(alice.page.getByTestId("presence")).toContainText("2 online");

    await bob.page.getByLabel("Your message").pressSequentially("typing slowly");
    await expect(alice.page.getByTestId("typing")).toContainText("typing");

    // By id: once the form opens, the row no longer shows the text.
    const rowId = await messages(alice.page).locator("li", { hasText: "hello bob" }).getAttribute("id");
    const row = alice.page.locator(`[id="${rowId}"]`);
    await row.getByTestId("edit-message").click();
    await row.locator("textarea").fill("hello **everyone**");
    await row.getByRole("button", { name: "Save" }).click();
    await expect(messages(bob.page).locator("strong", { hasText: "everyone" })).toBeVisible();
    await expect(messages(bob.page).getByTestId("edited")).toBeVisible();

    await messages(alice.page).locator("li", { hasText: "hello everyone" }).getByTestId("delete-message").click();
    await expect(messages(bob.page).getByTestId("tombstone")).toBeVisible();
    await expect(messages(bob.page).getByText("hello everyone")).toHaveCount(0);
    expect(problems).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test("unread counts and mentions in the room list", async ({ browser }, info) => {
    test.skip(!jsEnabled(info), "the counts update live with JavaScript; without it they are read at page load (server tests)");
    const alice = await person(browser, info, uniqueName("alice"));
    const bobName = uniqueName("bob");
    const bob = await person(browser, info, bobName);
    const quiet = await createRoom(alice.page, info, `Quiet ${uniqueName("r")}`);
    const busy = await createRoom(alice.page, info, `Busy ${uniqueName("r")}`);
    for (const slug of [quiet, busy]) {
      await bob.page.goto(`/r/${slug}`);
      await bob.page.getByTestId("join").click();
      await expect(bob.page.getByLabel("Your message")).toBeVisible();
    }
    await bob.page.goto(`/r/${quiet}`);
    await ready(bob.page, info);
    await expect(bob.page.getByTestId("connection")).toHaveAttribute("data-state", "live");

    await alice.page.goto(`/r/${busy}`);
    await ready(alice.page, info);
    await send(alice.page, "first");
    await send(alice.page, `ping @${bobName}`);
    const badge = bob.page.getByTestId(`room-link-${busy}`).getByTestId("unread");
    await expect(badge).toHaveText("@ 2");
    await expect(bob.page.getByTestId(`room-link-${busy}`)).toHaveAttribute("data-mentioned", "true");
    await bob.page.getByTestId(`room-link-${busy}`).click();
    await expect(bob.page.locator("li[data-mentioned=true]")).toContainText("ping");
    await alice.context.close();
    await bob.context.close();
  });

  test("without JavaScript: post with a plain form, page back with links", async ({ browser }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const slug = await createRoom(alice.page, info, `Plain ${uniqueName("r")}`);
    const roomId = await alice.page.locator("input[name=room]").first().getAttribute("value");
    // 55 messages from a few people (posting is limited per person).
    for (let p = 0; p < 6; p++) {
      const poster = p === 0 ? alice : await person(browser, info, uniqueName("p"));
      if (p > 0) {
        await poster.page.goto(`/r/${slug}`);
        await poster.page.getByTestId("join").click();
        await expect(poster.page.getByLabel("Your message")).toBeVisible();
      }
      for (let i = 0; i < 9 && p * 9 + i < 54; i++) {
        const response = await poster.page.request.post("/api/post_message", {
          headers: { origin: new URL(poster.page.url()).origin, accept: "application/json" },
          form: { room: roomId!, id: crypto.randomUUID(), body: `seed ${p * 9 + i}` },
        });
        expect(response.status()).toBe(200);
      }
    }
    await alice.page.goto(`/r/${slug}`);
    await ready(alice.page, info);
    await send(alice.page, "the fifty-fifth");
    await expect(messages(alice.page).getByText("the fifty-fifth")).toBeVisible();
    await alice.page.goto(`/r/${slug}`);
    await ready(alice.page, info);
    await expect(messages(alice.page).locator("li[data-seq]")).toHaveCount(50);
    await expect(messages(alice.page).getByText("seed 4", { exact: true })).toHaveCount(0);

    if (!jsEnabled(info)) {
      // The link works as a link: a page of older messages.
      await alice.page.getByTestId("older").click();
      await expect(alice.page).toHaveURL(/\?before=\d+/);
      await expect(messages(alice.page).getByText("seed 0", { exact: true })).toBeVisible();
      await expect(messages(alice.page).getByText("the fifty-fifth")).toHaveCount(0);
    } else {
      // Scrolling up loads the older messages in place.
      await messages(alice.page).evaluate((list) => list.scrollTo(0, 0));
      await expect(messages(alice.page).getByText("seed 0", { exact: true })).toBeVisible();
      await expect(messages(alice.page).getByText("the fifty-fifth")).toBeAttached();
      await expect(alice.page).not.toHaveURL(/before=/);
    }

    // A refused post keeps the text and says why.
    await alice.page.goto(`/r/${slug}`);
    await ready(alice.page, info);
    await alice.page.getByLabel("Your message").evaluate((el) => el.removeAttribute("maxlength"));
    await alice.page.getByLabel("Your message").fill("x".repeat(4001));
    await alice.page.getByRole("button", { name: "Send" }).click();
    await expect(alice.page.getByTestId("composer-error")).toContainText("Use at most 4,000 characters.");
    if (!jsEnabled(info)) {
      await expect(alice.page.getByLabel("Your message")).toHaveValue("x".repeat(4001));
    }
    await alice.context.close();
  });

  test("visitors read public rooms and are asked to sign in to post", async ({ browser }, info) => {
    const alice = await person(browser, info, uniqueName("alice"));
    const slug = await createRoom(alice.page, info, `Open ${uniqueName("r")}`);
    await send(alice.page, "welcome, visitors");
    await expect(messages(alice.page).getByText("welcome, visitors")).toBeVisible();
    const secret = await createRoom(alice.page, info, `Secret ${uniqueName("r")}`, "private");

    const visitor = await browser.newContext({ javaScriptEnabled: jsEnabled(info) });
    const page = await visitor.newPage();
    const wasm: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith(".wasm")) wasm.push(request.url());
    });
    await page.goto(`/r/${slug}`);
    await ready(page, info);
    await expect(messages(page).getByText("welcome, visitors")).toBeVisible();
    await expect(page.getByTestId("presence")).toHaveCount(0);
    if (jsEnabled(info)) {
      // The read-only island follows the room live, and a visitor loads its
      // file, not the member's conversation (issue 15: the lightest page).
      await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
      await alice.page.goto(`/r/${slug}`);
      await ready(alice.page, info);
      await send(alice.page, "live for visitors too");
      await expect(messages(page).getByText("live for visitors too")).toBeVisible();
      // The list that came live shows its times as the page does, in the
      // visitor's own zone, not the server's UTC.
      await expect(messages(page).locator("time").first()).toBeVisible();
      await expect(messages(page).locator("time", { hasText: "UTC" })).toHaveCount(0);
      // A deletion reaches visitors too.
      await messages(alice.page).locator("li", { hasText: "live for visitors too" }).getByTestId("delete-message").click();
      await expect(messages(page).getByTestId("tombstone")).toHaveCount(1);
      await expect(messages(page).getByText("live for visitors too")).toHaveCount(0);
      expect(wasm.some((url) => url.includes("read_only_conversation"))).toBe(true);
      expect(wasm.filter((url) => /split_conversation_loader/.test(url))).toEqual([]);
    }
    await page.getByTestId("sign-in-to-post").getByRole("link", { name: "Sign in" }).click();
    await expect(page).toHaveURL(`/signin?next=/r/${slug}`);
    const hidden = await page.goto(`/r/${secret}`);
    expect(hidden?.status()).toBe(404);
    await visitor.close();
    await alice.context.close();
  });
});

test.describe("visitors following live", () => {
  test("a visitor reading back keeps their place while new messages come; at the bottom, they follow", async ({ browser }, info) => {
    test.skip(!jsEnabled(info), "following live is what the JavaScript client does");
    const alice = await person(browser, info, uniqueName("alice"));
    const slug = await createRoom(alice.page, info, `Busy ${uniqueName("r")}`);
    // Eight tall messages, more than the list shows at once; with the two
    // below, within posting's burst of ten (no post is refused for speed).
    for (let i = 1; i <= 8; i++) await send(alice.page, `line ${i}\n\n${"more words\n\n".repeat(6)}`);
    await expect(messages(alice.page).getByText("line 8", { exact: true })).toBeVisible();
    await expect(alice.page.getByTestId("pending")).toHaveCount(0);

    const visitor = await browser.newContext();
    const page = await visitor.newPage();
    const problems = watchConsole(page);
    await page.goto(`/r/${slug}`);
    await ready(page, info);
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "live");
    // Opens at the newest message.
    await expect(messages(page).getByText("line 8", { exact: true })).toBeInViewport();

    // The live region stays the same element (screen readers announce
    // what is added to it, not a region put in its place).
    await page.getByRole("log").evaluate((log) => log.setAttribute("data-marked", "yes"));

    // Scrolled back to the middle: a new message does not move what they read.
    await messages(page).getByText("line 5", { exact: true }).evaluate((line) => line.scrollIntoView({ block: "start" }));
    await expect(messages(page).getByText("line 5", { exact: true })).toBeInViewport();
    await expect(messages(page).getByText("line 1", { exact: true })).not.toBeInViewport();
    await send(alice.page, "line 9");
    await expect(alice.page.getByTestId("pending")).toHaveCount(0);
    await expect(messages(page).getByText("line 9", { exact: true })).toBeAttached();
    await expect(messages(page).getByText("line 5", { exact: true })).toBeInViewport();
    await expect(messages(page).getByText("line 1", { exact: true })).not.toBeInViewport();
    await expect(messages(page).getByText("line 9", { exact: true })).not.toBeInViewport();

    // Back at the bottom, the next one scrolls into view.
    await messages(page).evaluate((list) => (list.scrollTop = list.scrollHeight));
    await send(alice.page, "line 10");
    await expect(alice.page.getByTestId("pending")).toHaveCount(0);
    await expect(messages(page).getByText("line 10", { exact: true })).toBeInViewport();
    await expect(page.locator('[role="log"][data-marked="yes"]')).toHaveCount(1);
    await expect(messages(page).getByText("line 1", { exact: true })).toHaveCount(1);
    expect(problems).toEqual([]);
    await visitor.close();
    await alice.context.close();
  });
});

test.describe("reconnecting", () => {
  // Two scaled servers (PostgreSQL + Redis) of our own, so one can be stopped
  // and started again while a page stays open on it.
  const database = `tchatche_e2e_${Date.now()}`;
  const prefix = `e2e${Date.now()}`;
  const env = (port: number, worker: boolean) => ({
    ...process.env,
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_PREFIX: prefix,
    EMBEDDED_WORKER: String(worker),
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: "target/site",
    LEPTOS_OUTPUT_NAME: "tchatche",
    TRUST_PROXY: "true",
    RUST_LOG: "warn",
  });
  const start = async (port: number, worker: boolean): Promise<ChildProcess> => {
    const child = spawn("./target/release/tchatche", [], { cwd: "..", env: env(port, worker), stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server on ${port} did not start`);
  };
  const stop = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });

  test("a page catches up after its server restarts", async ({ browser }, info) => {
    test.skip(!jsEnabled(info), "reconnecting is what the JavaScript client does");
    test.setTimeout(120_000);
    execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-c", `CREATE DATABASE ${database}`]);
    let serverA = await start(3201, false);
    const serverB = await start(3202, true);
    try {
      const a = "http://127.0.0.1:3201";
      const b = "http://127.0.0.1:3202";
      const aliceContext = await browser.newContext({ baseURL: a });
      const alice = await aliceContext.newPage();
      await signUp(alice, info, uniqueName("alice"));
      const slug = await createRoom(alice, info, `Restart ${uniqueName("r")}`);
      await send(alice, "before the restart");
      await expect(alice.getByTestId("connection")).toHaveAttribute("data-state", "live");

      const bobContext = await browser.newContext({ baseURL: b });
      const bob = await bobContext.newPage();
      await signUp(bob, info, uniqueName("bob"));
      await bob.goto(`/r/${slug}`);
      await bob.getByTestId("join").click();
      await expect(bob.getByLabel("Your message")).toBeVisible();
      await ready(bob, info);

      // A visitor reads the room on the same server.
      const visitorContext = await browser.newContext({ baseURL: a });
      const visitor = await visitorContext.newPage();
      await visitor.goto(`/r/${slug}`);
      await ready(visitor, info);
      await expect(visitor.getByTestId("connection")).toHaveAttribute("data-state", "live");

      await stop(serverA);
      await expect(alice.getByTestId("connection")).toHaveAttribute("data-state", "retrying");
      await expect(visitor.getByTestId("connection")).toHaveAttribute("data-state", "retrying");
      await send(bob, "while you were away");
      await expect(messages(bob).getByText("while you were away")).toBeVisible();
      serverA = await start(3201, false);
      await expect(alice.getByTestId("connection")).toHaveAttribute("data-state", "live", { timeout: 20_000 });
      await expect(messages(alice).getByText("while you were away")).toBeVisible();
      await expect(messages(alice).getByText("before the restart")).toHaveCount(1);
      await expect(visitor.getByTestId("connection")).toHaveAttribute("data-state", "live", { timeout: 20_000 });
      await expect(messages(visitor).getByText("while you were away")).toBeVisible();
      await expect(messages(visitor).getByText("before the restart")).toHaveCount(1);
      await visitorContext.close();
      await aliceContext.close();
      await bobContext.close();
    } finally {
      await stop(serverA);
      await stop(serverB);
      execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-c", `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
    }
  });
});
