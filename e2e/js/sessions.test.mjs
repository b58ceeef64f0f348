// Sessions in a real browser (issue 23): Debian's Chromium driven by
// playwright-core. SHOP_URL is a running shop with fresh demo data, the
// staff's second factor on and Mailpit as its SMTP server (MAILPIT_API);
// SUPERUSER_EMAIL/_PASSWORD a superuser of it. Screenshots go to ARTIFACTS
// (default ./artifacts).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launchChromium } from "./chromium.mjs";
import PocketBase, { BaseAuthStore } from "pocketbase";

const shop = process.env.SHOP_URL;
const mailpit = process.env.MAILPIT_API;
const artifacts = process.env.ARTIFACTS || "artifacts";
const password = "shopdash-demo";
mkdirSync(artifacts, { recursive: true });

let browser;

before(async () => {
  assert.ok(shop, "SHOP_URL must point at a running shop");
  assert.ok(mailpit, "MAILPIT_API must be the shop's Mailpit");
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

async function newPage(path) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  await page.goto(shop + path);
  return page;
}

// codeFromMailpit waits for the newest sign-in code mailed to the address.
async function codeFromMailpit(to, after = 0) {
  for (let i = 0; i < 75; i++) {
    const list = await (await fetch(`${mailpit}/api/v1/messages`)).json();
    const sent = list.messages.filter((m) => m.To?.[0]?.Address === to && m.Subject.includes("OTP"));
    if (sent.length > after) {
      const full = await (await fetch(`${mailpit}/api/v1/message/${sent[0].ID}`)).json();
      const code = (full.Text.match(/\b\d{8}\b/) || [])[0];
      assert.ok(code, `no code in ${full.Subject}`);
      return code;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no sign-in code mailed to ${to}`);
}

test("support signs in on the staff page with the code from the email", async () => {
  const page = await newPage("/staff/");
  await page.getByRole("heading", { name: "Staff sign-in" }).waitFor();
  await page.getByLabel("Email", { exact: true }).fill("support@example.com");
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("We emailed a sign-in code to support@example.com").waitFor();
  await page.screenshot({ path: `${artifacts}/sessions-staff-code.png` });

  await page.getByLabel("Code from the email").fill("00000000");
  await page.getByRole("button", { name: "Finish signing in" }).click();
  await page.getByText("The code is not right or has expired.").waitFor();

  const code = await codeFromMailpit("support@example.com");
  await page.getByLabel("Code from the email").fill(code);
  await page.getByRole("button", { name: "Finish signing in" }).click();
  await page.getByRole("heading", { name: "Orders", level: 1 }).waitFor();
  await page.screenshot({ path: `${artifacts}/sessions-staff-signed-in.png` });

  const su = new PocketBase(shop, new BaseAuthStore());
  await su.collection("_superusers").authWithPassword(process.env.SUPERUSER_EMAIL, process.env.SUPERUSER_PASSWORD);
  const support = await su.collection("users").getFirstListItem(`email = "support@example.com"`);
  for (const action of ["user.second_factor_failed", "user.sign_in"]) {
    const entries = await su.collection("audit_log").getFullList({ filter: `action = "${action}" && target = "users/${support.id}"` });
    assert.equal(entries.length, 1, `${action} audited once`);
  }
  await page.context().close();
});

test("a customer signs out of all devices and the other browser is signed out", async () => {
  const signIn = async () => {
    const page = await newPage("/");
    await page.getByLabel("Email", { exact: true }).fill("customer@example.com");
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Your dashboard" }).waitFor();
    return page;
  };
  const laptop = await signIn();
  const phone = await signIn();

  await laptop.goto(shop + "/#/account");
  await laptop.getByRole("heading", { name: "Where you are signed in" }).waitFor();
  await laptop.getByLabel("To sign out of all devices (this one too), enter your password").fill("not-the-password");
  await laptop.getByRole("button", { name: "Sign out of all devices" }).click();
  await laptop.getByText("The password is not right.").waitFor();
  await laptop.getByLabel("To sign out of all devices (this one too), enter your password").fill(password);
  await laptop.getByRole("button", { name: "Sign out of all devices" }).click();
  await laptop.getByText("You are signed out of all your devices.").waitFor();
  await laptop.getByRole("heading", { name: "Sign in" }).waitFor();
  await laptop.screenshot({ path: `${artifacts}/sessions-signed-out-all.png` });

  await phone.reload();
  await phone.getByText("You were signed out").waitFor();
  await phone.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await phone.evaluate(() => localStorage.getItem("pocketbase_auth")), null, "the phone forgot its token");
  await phone.screenshot({ path: `${artifacts}/sessions-other-device.png` });
});
