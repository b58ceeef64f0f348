// The customer page in a real browser: Debian's Chromium driven by
// playwright-core. SHOP_URL is a running shop with demo data; screenshots
// go to ARTIFACTS (default ./artifacts). Run by `make e2e`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { launchChromium } from "./chromium.mjs";

const shop = process.env.SHOP_URL;
const artifacts = process.env.ARTIFACTS || "artifacts";
mkdirSync(artifacts, { recursive: true });

let browser;
const consoleErrors = [];
// Chromium logs every 4xx response as a console error; the ones a step
// causes on purpose (a refused form) are listed here and must each occur.
const expectedErrors = [];
// The Content-Security-Policy of every page opened: each must have one.
const policies = [];

before(async () => {
  assert.ok(shop, "SHOP_URL must point at a running shop");
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

async function openPage(width) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  page.on("console", (msg) => { if (msg.type() === "error") consoleErrors.push(`${msg.text()} (${page.url()})`); });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
  // Chromium reports what the policy blocks as console errors too; this
  // names the directive.
  await page.addInitScript(() => document.addEventListener("securitypolicyviolation",
    (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
  const res = await page.goto(shop + "/");
  policies.push(res.headers()["content-security-policy"] || "");
  return page;
}

async function signIn(page, email) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill("shopdash-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#dashboard:not([hidden]) #purchases tbody tr").first().waitFor();
}

// columnValues reads one column of the purchases table as shown.
async function columnValues(page, index) {
  return page.locator(`#purchases tbody tr td:nth-child(${index})`).allTextContents();
}

async function sortAndWait(page, label) {
  const before = await page.locator("#purchases tbody").innerHTML();
  await page.getByRole("button", { name: label, exact: true }).click();
  await page.waitForFunction((html) => document.querySelector("#purchases tbody").innerHTML !== html, before);
}

test("a customer sorts, pages, fixes an address and cancels an order", async () => {
  const page = await openPage(1280);
  await signIn(page, "customer@example.com");
  await page.screenshot({ path: `${artifacts}/dashboard-1280.png`, fullPage: true });

  // Sort by product name: ascending, then descending.
  await sortAndWait(page, "Product");
  const names = await columnValues(page, 1);
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)), "product names ascending");
  assert.equal(await page.locator('th[data-sort="product_name"]').getAttribute("aria-sort"), "ascending");
  await sortAndWait(page, "Product");
  const namesDown = await columnValues(page, 1);
  assert.deepEqual(namesDown, [...namesDown].sort((a, b) => b.localeCompare(a)), "product names descending");

  // Sort by quantity, ascending.
  await sortAndWait(page, "Quantity");
  const quantities = (await columnValues(page, 3)).map(Number);
  assert.deepEqual(quantities, [...quantities].sort((a, b) => a - b), "quantities ascending");

  // Page 2 continues page 1.
  const firstPage = await page.locator("#purchases tbody").innerText();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText(/^Page 2 of \d+$/).waitFor();
  assert.notEqual(await page.locator("#purchases tbody").innerText(), firstPage);

  // The account screen: a bad postal code is refused next to its field.
  await page.getByRole("link", { name: "Account" }).click();
  await page.getByRole("heading", { name: "Your account" }).waitFor();
  await page.getByLabel("Country (2 letters)").fill("US");
  await page.getByLabel("Postal code").fill("ABC");
  expectedErrors.push("Failed to load resource: the server responded with a status of 400 (Bad Request)");
  await page.getByRole("button", { name: "Save" }).click();
  const postalError = page.locator('.error[data-for="shipping_address.postal_code"]');
  await postalError.waitFor();
  assert.match(await postalError.innerText(), /postal code/i);
  assert.equal(await page.getByLabel("Postal code").getAttribute("aria-invalid"), "true");

  await page.getByLabel("Postal code").fill("62701");
  await page.getByLabel("City").fill("Springfield");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Your profile is saved.").waitFor();
  assert.equal(await postalError.innerText(), "");
  await page.screenshot({ path: `${artifacts}/account-1280.png`, fullPage: true });

  // Cancel the pending order, through the confirmation.
  const pendingRow = page.locator("#orders li", { has: page.locator('[data-status="pending"]') }).first();
  const number = await pendingRow.locator("strong").innerText();
  await pendingRow.getByRole("button", { name: "Cancel order" }).click();
  await page.getByRole("button", { name: "Yes" }).click();
  // The route's answer says so, and the realtime update right after it too.
  await page.getByText(new RegExp(`Order ${number} is (now )?cancelled`)).waitFor();
  const row = page.locator("#orders li", { hasText: number });
  await row.locator('[data-status="cancelled"]').waitFor();
  await page.context().close();
});

test("a customer reads an order's history and tracking, and buys a delivered order again", async () => {
  const page = await openPage(1280);
  await signIn(page, "customer@example.com");
  await page.getByRole("link", { name: "Account" }).click();
  await page.getByRole("heading", { name: "Your account" }).waitFor();

  // A shipped order: its dates and its carrier and tracking number.
  const shipped = page.locator("#orders li[data-order]", { has: page.locator('[data-status="shipped"]') }).first();
  await shipped.getByText("History").click();
  await shipped.getByText(/^Shipped: /).waitFor();
  await shipped.getByText(/^Paid: /).waitFor();
  await shipped.getByText(/Shipped with .+, tracking number TRK/).waitFor();

  // Buy again: a checkout of the order's items that are still sold, not
  // its downloads; the page then leaves for Stripe, which is held here.
  const delivered = page.locator("#orders li[data-order]", { has: page.locator('[data-status="delivered"]') }).first();
  await page.route(/checkout\.stripe\.com|stripe/, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Stripe</title>" }));
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith("/api/v1/checkout") && r.method() === "POST"),
    delivered.getByRole("button", { name: "Buy again" }).click(),
  ]);
  const lines = JSON.parse(request.postData()).items;
  assert.ok(lines.length > 0, "buy again sends the order's items");
  for (const line of lines) {
    assert.ok(line.product && line.quantity >= 1, `a line ${JSON.stringify(line)}`);
  }
  const response = await request.response();
  assert.equal(response.status(), 201, "the checkout of buy again is accepted");
  await page.context().close();
});

test("both screens read well on a phone", async () => {
  const page = await openPage(390);
  await signIn(page, "customer2@example.com");
  // customer2 speaks Spanish: the page follows.
  await page.getByRole("heading", { name: "Tu panel" }).waitFor();
  await page.screenshot({ path: `${artifacts}/dashboard-390.png`, fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await page.getByRole("link", { name: "Cuenta" }).click();
  await page.getByRole("heading", { name: "Tu cuenta" }).waitFor();
  await page.locator("#orders li").first().waitFor();
  await page.screenshot({ path: `${artifacts}/account-390.png`, fullPage: true });
  await page.context().close();
});

test("every page ran under a Content-Security-Policy without inline code", () => {
  assert.ok(policies.length > 0);
  for (const policy of policies) {
    assert.match(policy, /script-src 'self'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
  }
});

test("no console errors (CSP violations among them)", () => {
  const unexpected = consoleErrors.map((e) => e.replace(/ \(http[^)]*\)$/, ""));
  for (const expected of expectedErrors) {
    const at = unexpected.indexOf(expected);
    assert.notEqual(at, -1, `the expected console error did not occur: ${expected}`);
    unexpected.splice(at, 1);
  }
  assert.deepEqual(unexpected, []);
});
