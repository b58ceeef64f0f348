// A binary built by a plain `go build` in a fresh clone (no make step, no
// npm): its customer page loads the SDK and signs in, and its staff page
// loads. SHOP_URL is that binary serving demo data. Run by
// TestPlainGoBuildServesPagesThatWork (e2e/standalone_test.go).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium } from "./chromium.mjs";

const shop = process.env.SHOP_URL;
let browser;
const errors = [];

before(async () => {
  assert.ok(shop, "SHOP_URL must point at a running shop");
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

test("the customer page of a plain go build signs in and shows the dashboard", async () => {
  const page = await browser.newPage();
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("pageerror", (err) => errors.push(String(err)));
  await page.goto(shop + "/");
  assert.equal(await page.evaluate(() => typeof window.PocketBase), "function", "the SDK loaded");
  await page.getByLabel("Email", { exact: true }).fill("customer@example.com");
  await page.getByLabel("Password", { exact: true }).fill("shopdash-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#dashboard:not([hidden]) #purchases tbody tr").first().waitFor();
  assert.ok(await page.locator("#recent").textContent(), "the latest order shows");
  assert.deepEqual(errors, []);
});

test("the staff page of a plain go build signs support in", async () => {
  const page = await browser.newPage();
  page.on("pageerror", (err) => errors.push(String(err)));
  await page.goto(shop + "/staff/");
  assert.equal(await page.evaluate(() => typeof window.PocketBase), "function", "the SDK loaded");
  await page.getByLabel("Email", { exact: true }).fill("support@example.com");
  await page.getByLabel("Password", { exact: true }).fill("shopdash-demo");
  await page.getByRole("button", { name: /sign in/i }).click();
  await page.getByRole("heading", { name: "Orders" }).waitFor();
  assert.deepEqual(errors, []);
});
