import { expect } from "@playwright/test";
import { PASSWORD, jsEnabled, markWindow, ready, signUp, test, uniqueName, watchConsole, windowIsMarked } from "./support";
import { deflateSync } from "node:zlib";

test.describe("accounts", () => {
  test("sign up, sign out, sign in and come back where I was", async ({ page }, info) => {
    const problems = watchConsole(page);
    const username = uniqueName("alice");
    await page.goto("/no/such/page");
    await ready(page, info);
    await page.getByRole("link", { name: "Sign up" }).click();
    await expect(page).toHaveURL(/\/signup\?next=\/no\/such\/page$/);
    await ready(page, info);
    await expect(page.getByLabel("Username")).toHaveAttribute("autocomplete", "username");
    await expect(page.getByLabel("Password")).toHaveAttribute("autocomplete", "new-password");
    await expect(page.getByLabel("Display name")).toHaveAttribute("autocomplete", "nickname");
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Display name").fill("Alice Liddell");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create my account" }).click();
    await expect(page).toHaveURL("/no/such/page");
    await expect(page.getByTestId("account-link")).toContainText("Alice Liddell");

    await page.getByTestId("sign-out").click();
    await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
    await expect(page.getByRole("banner")).not.toContainText("Alice Liddell");

    await page.goto("/signin?next=/settings");
    await ready(page, info);
    await expect(page.getByLabel("Password")).toHaveAttribute("autocomplete", "current-password");
    await page.getByLabel("Username").fill(username.toUpperCase());
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL("/settings");
    await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
    // The only console complaint: the made-up page we started from is a 404.
    expect(problems.filter((p) => !p.includes("404 (Not Found)"))).toEqual([]);
  });

  test("refused sign-up: errors beside their fields, typed values kept", async ({ page }, info) => {
    const taken = uniqueName("bob");
    await signUp(page, info, taken);
    await page.getByTestId("sign-out").click();
    await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

    await page.goto("/signup");
    await ready(page, info);
    await page.getByLabel("Username").fill(taken.toUpperCase());
    await page.getByLabel("Display name").fill("Robert");
    await page.getByLabel("Password").fill("password1");
    await page.getByRole("button", { name: "Create my account" }).click();
    await expect(page.locator("#field-username-error")).toHaveText("This is already taken.");
    await expect(page.locator("#field-password-error")).toHaveText("This password is too common. Choose another one.");
    await expect(page.getByLabel("Username")).toHaveValue(taken.toUpperCase());
    await expect(page.getByLabel("Display name")).toHaveValue("Robert");
    await expect(page.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
  });

  test("with JavaScript, fields are checked as they are typed", async ({ page }, info) => {
    test.skip(!jsEnabled(info), "inline checks need JavaScript; without it the server checks (test above)");
    await page.goto("/signup");
    await ready(page, info);
    await markWindow(page);
    await page.getByLabel("Username").fill("no spaces allowed");
    await page.getByLabel("Display name").focus();
    await expect(page.locator("#field-username-error")).toHaveText(
      "This contains characters that are not allowed here.",
    );
    await page.getByLabel("Password").fill("short");
    await page.getByLabel("Username").focus();
    await expect(page.locator("#field-password-error")).toHaveText("Use at least 8 characters.");
    expect(await windowIsMarked(page)).toBe(true);
  });

  test("a wrong password says so without saying whether the account exists", async ({ page }, info) => {
    await page.goto("/signin");
    await ready(page, info);
    await page.getByLabel("Username").fill(uniqueName("nobody"));
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator("#field-password-error")).toHaveText("Wrong username or password.");
  });

  test("settings: display name, language, avatar", async ({ page }, info) => {
    const problems = watchConsole(page);
    const username = uniqueName("carol");
    await signUp(page, info, username, "Carol");
    await page.goto("/settings");
    await ready(page, info);

    await page.getByLabel("Display name").fill("Carol Danvers");
    await page.locator("#settings-profile").locator("..").getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("account-link")).toContainText("Carol Danvers");

    await page.locator("#field-locale").selectOption("fr");
    await page.locator("#settings-preferences").locator("..").getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Réglages" })).toBeVisible();
    await expect(page.locator("html")).toHaveAttribute("lang", "fr");
    await page.reload();
    await expect(page.getByRole("heading", { level: 1, name: "Réglages" })).toBeVisible();

    await page.locator("#field-avatar").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: tinyPng() });
    await page.getByRole("button", { name: "Envoyer" }).click();
    await expect(page.getByTestId("avatar-status")).toHaveText("Votre nouvelle image est enregistrée.");
    const avatar = await page.request.get(`/avatars/${username}`);
    expect(avatar.headers()["content-type"]).toBe("image/webp");

    await page.locator("#field-avatar").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await page.getByRole("button", { name: "Envoyer" }).click();
    await expect(page.getByTestId("avatar-status")).toHaveText("Ce n’est pas une image PNG, JPEG, WebP ou GIF.");
    expect(problems).toEqual([]);
  });
});

/** A real 16×16 PNG, built here. */
function tinyPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(16, 0);
  header.writeUInt32BE(16, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(16 * (1 + 16 * 3), 0x80);
  for (let y = 0; y < 16; y++) rows[y * 49] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
