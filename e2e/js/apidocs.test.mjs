// The API reference (/api/docs) in a real browser: Debian's Chromium driven
// by playwright-core. SHOP_URL is a running shop; the screenshot goes to
// ARTIFACTS (default ./artifacts), and to SCREENSHOT too when set (the
// committed docs/api-reference.png). Run by `make e2e`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, copyFileSync } from "node:fs";
import { launchChromium } from "./chromium.mjs";

const shop = process.env.SHOP_URL;
const artifacts = process.env.ARTIFACTS || "artifacts";
mkdirSync(artifacts, { recursive: true });

let browser;

before(async () => {
  assert.ok(shop, "SHOP_URL must point at a running shop");
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

test("the reference lists the routes, under the CSP, with no console error and nothing fetched elsewhere", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  const errors = [];
  const elsewhere = [];
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("request", (req) => { if (!req.url().startsWith(shop) && !req.url().startsWith("data:")) elsewhere.push(req.url()); });
  await page.addInitScript(() => document.addEventListener("securitypolicyviolation",
    (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));

  const res = await page.goto(shop + "/api/docs");
  assert.equal(res.status(), 200);
  const csp = res.headers()["content-security-policy"] || "";
  assert.match(csp, /script-src 'self';/, "scripts from the shop only");
  assert.doesNotMatch(csp, /unsafe-eval/);
  assert.match(csp, /connect-src 'self'/);

  // The sidebar lists the tags; opening one lists its routes.
  await page.getByText("shopping", { exact: true }).first().waitFor();
  for (const tag of ["account", "shopping", "orders", "staff", "admin", "records: orders"]) {
    await page.getByText(tag, { exact: true }).first().waitFor();
  }
  await page.getByText("shopping", { exact: true }).first().click();
  await page.getByText("Check out", { exact: true }).first().waitFor();
  await page.getByText("The customer's order items", { exact: true }).first().waitFor();
  const text = await page.locator("body").innerText();
  for (const route of ["/api/v1/checkout", "/api/v1/purchases"]) {
    assert.ok(text.includes(route), `the reference shows ${route}`);
  }

  await page.waitForTimeout(500); // late style and font loads
  await page.screenshot({ path: `${artifacts}/api-reference.png` });
  if (process.env.SCREENSHOT) copyFileSync(`${artifacts}/api-reference.png`, process.env.SCREENSHOT);
  assert.deepEqual(errors, [], "no console errors or CSP violations");
  assert.deepEqual(elsewhere, [], "nothing fetched from another origin");
  await context.close();
});
