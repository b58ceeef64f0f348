// The staff console (/staff/) in a real browser: Debian's Chromium driven by
// playwright-core, checked on the server through the PocketBase JS SDK.
// SHOP_URL is a running shop with fresh demo data and stripe-mock as Stripe;
// STRIPE_WEBHOOK_SECRET its webhook secret; SUPERUSER_EMAIL/_PASSWORD a
// superuser of it. Screenshots go to ARTIFACTS (default ./artifacts), and the
// staff guide's pictures to STAFF_SCREENSHOTS when it is set
// (`make staff-screenshots`). Run by `make e2e`; the tests run in file order
// and share the support and store pages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createHmac, randomBytes } from "node:crypto";
import { deflateSync } from "node:zlib";
import { launchChromium } from "./chromium.mjs";
import PocketBase, { BaseAuthStore } from "pocketbase";

const shop = process.env.SHOP_URL;
const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET;
const artifacts = process.env.ARTIFACTS || "artifacts";
const guide = process.env.STAFF_SCREENSHOTS || "";
const password = "shopdash-demo";
mkdirSync(artifacts, { recursive: true });
if (guide) mkdirSync(guide, { recursive: true });

let browser;
const consoleErrors = [];
// Chromium logs every 4xx answer as a console error; the ones a step causes
// on purpose are listed here and must each occur.
const expectedErrors = [];
const policies = [];
// SDK clients that check on the server what the page did.
const sdk = {};

before(async () => {
  assert.ok(shop, "SHOP_URL must point at a running shop");
  assert.ok(webhookSecret, "STRIPE_WEBHOOK_SECRET must be the shop's webhook secret");
  browser = await launchChromium();
  // Sign-in is rate limited (10 a minute from one address): the suite signs
  // in four SDK clients and four browser pages.
  for (const [name, email] of [["support", "support@example.com"], ["store", "store@example.com"], ["customer", "customer@example.com"]]) {
    sdk[name] = client();
    await sdk[name].collection("users").authWithPassword(email, password);
  }
  sdk.superuser = client();
  await sdk.superuser.collection("_superusers").authWithPassword(process.env.SUPERUSER_EMAIL, process.env.SUPERUSER_PASSWORD);
});

after(async () => {
  await browser?.close();
});

function client() {
  return new PocketBase(shop, new BaseAuthStore()).autoCancellation(false);
}

async function openPage(width) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  page.on("console", (msg) => { if (msg.type() === "error") consoleErrors.push(`${msg.text()} (${page.url()})`); });
  page.on("pageerror", (err) => consoleErrors.push(String(err)));
  await page.addInitScript(() => document.addEventListener("securitypolicyviolation",
    (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
  const res = await page.goto(shop + "/staff/");
  policies.push(res.headers()["content-security-policy"] || "");
  await page.getByRole("heading", { name: "Staff sign-in" }).waitFor();
  return page;
}

async function signIn(page, email) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// shoot saves the page at 1280 and 390 px wide (artifacts/staff-NAME-W.png)
// and checks that nothing is wider than a phone. With STAFF_SCREENSHOTS set,
// the widths listed in forGuide also become the staff guide's pictures
// (NAME-W.png), cut to a screenful or so (guideHeight at 1280) to keep them
// small.
async function shoot(page, name, forGuide = [], guideHeight = 860) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.screenshot({ path: `${artifacts}/staff-${name}-${width}.png`, fullPage: true });
    if (guide && forGuide.includes(width)) {
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.screenshot({ path: `${guide}/${name}-${width}.png`, fullPage: true,
        clip: { x: 0, y: 0, width, height: Math.min(height, width === 390 ? 1200 : guideHeight) } });
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: the page is ${overflow}px wider than ${width}px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function confirmWith(page, answer) {
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: answer, exact: true }).click();
  await page.locator("#confirm:not([open])").waitFor({ state: "attached" });
}

async function notice(page, text) {
  await page.locator("#notice-text", { hasText: text }).waitFor();
}

// Money as the forms take it: 1250 usd → "12.50".
const zeroDecimal = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);
const typed = (minor, currency) => (zeroDecimal.has(currency) ? String(minor) : (minor / 100).toFixed(2));
const shown = (minor, currency) => new Intl.NumberFormat("en", { style: "currency", currency: currency.toUpperCase() })
  .format(zeroDecimal.has(currency) ? minor : minor / 100);

// paidEvent is Stripe's signed checkout.session.completed for an order.
function paidEvent(order, sessionId) {
  const payload = JSON.stringify({
    id: "evt_staff_" + randomBytes(8).toString("hex"), object: "event", type: "checkout.session.completed",
    api_version: "2023-10-16", created: Math.floor(Date.now() / 1000),
    data: { object: {
      id: sessionId, object: "checkout.session", client_reference_id: order.id, metadata: { order_id: order.id },
      payment_status: "paid", status: "complete", payment_intent: "pi_staff_" + randomBytes(8).toString("hex"),
      amount_total: order.total, currency: order.currency,
    } },
  });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", webhookSecret).update(`${t}.${payload}`).digest("hex");
  return { payload, signature: `t=${t},v1=${v1}` };
}

// png is a small square picture of one colour.
function png(size, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "ascii");
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", header), chunk("IDAT", pixels), chunk("IEND", Buffer.alloc(0))]);
}

// ---- support -------------------------------------------------------------

let supportPage;

test("support signs in, finds an order by its number and ships it with a carrier and tracking number", async () => {
  const page = await openPage(1280);
  supportPage = page;
  await shoot(page, "signin", [1280]);
  await signIn(page, "support@example.com");
  await page.getByRole("heading", { name: "Orders" }).waitFor();
  await page.locator("#orders-table tbody tr[data-order]").first().waitFor();
  await shoot(page, "orders", [1280]);

  const order = await sdk.support.collection("orders").getFirstListItem('status = "paid"', { sort: "-created" });
  await page.getByLabel("Order number or customer email").fill(order.number.slice(-6));
  await page.locator(`#orders-table tbody tr[data-order="${order.id}"]`).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#orders-table tbody tr").length === 1);
  await page.getByRole("link", { name: order.number }).click();
  await page.getByRole("heading", { name: `Order ${order.number}` }).waitFor();

  await page.getByRole("button", { name: "Mark as shipped", exact: true }).click();
  // Both required fields are checked before anything is asked.
  await page.getByRole("button", { name: "Mark as shipped…" }).click();
  await page.locator('#ship-form .error[data-for="carrier"]', { hasText: "Please fill this in." }).waitFor();
  assert.equal(await page.getByLabel("Carrier", { exact: true }).getAttribute("aria-invalid"), "true");

  const tracking = "JD0146" + randomBytes(4).toString("hex").toUpperCase();
  const link = `https://www.dhl.com/en/express/tracking.html?AWB=${tracking}`;
  await page.getByLabel("Carrier", { exact: true }).fill("DHL");
  await page.getByLabel("Tracking number", { exact: true }).fill(tracking);
  await page.getByLabel("Tracking link (optional)").fill(link);
  // The confirmation starts on the safe answer, Escape leaves everything as
  // it was and gives the focus back.
  await page.getByRole("button", { name: "Mark as shipped…" }).click();
  await page.getByRole("dialog").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), "confirm-no");
  await page.keyboard.press("Escape");
  await page.locator("#confirm:not([open])").waitFor({ state: "attached" });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Mark as shipped…");
  assert.equal((await sdk.support.collection("orders").getOne(order.id)).status, "paid");

  await page.getByRole("button", { name: "Mark as shipped…" }).click();
  await confirmWith(page, "Yes, mark as shipped");
  await notice(page, `Order ${order.number} is marked as shipped.`);
  await page.locator('#order-title [data-status="shipped"]').waitFor();
  await page.locator("#order-shipping", { hasText: tracking }).waitFor();

  const saved = await sdk.support.collection("orders").getOne(order.id);
  assert.equal(saved.status, "shipped");
  assert.equal(saved.carrier, "DHL");
  assert.equal(saved.tracking_number, tracking);
  assert.equal(saved.tracking_url, link);
  assert.ok(saved.shipped_at, "shipped_at is set");
});

test("support sees a new order arrive live, then refunds part of it once paid, and adds a note", async () => {
  const page = supportPage;
  await page.getByRole("link", { name: "← All orders" }).click();
  await page.getByLabel("Order number or customer email").fill("");
  await page.getByRole("button", { name: "Search" }).click();
  await page.waitForFunction(() => document.querySelectorAll("#orders-table tbody tr").length > 1);

  // A customer checks out while support looks at the queue.
  const product = await sdk.customer.collection("products").getFirstListItem("active = true && digital = false && stock >= 5", { sort: "name" });
  const checkout = await sdk.customer.send("/api/v1/checkout", { method: "POST", body: { items: [{ product: product.id, quantity: 2 }] } });
  const order = checkout.order;
  const row = page.locator(`#orders-table tbody tr[data-order="${order.id}"]`);
  await row.locator(".badge.new", { hasText: "New" }).waitFor();
  await row.locator('[data-status="pending"]').waitFor();

  // Stripe reports the payment: the row follows.
  const { payload, signature } = paidEvent(order, checkout.session_id);
  const answer = await client().send("/api/v1/stripe/webhook", { method: "POST", body: payload, headers: { "Stripe-Signature": signature } });
  assert.equal(answer.status, "applied");
  await row.locator('[data-status="paid"]').waitFor();

  await row.getByRole("link", { name: order.number }).click();
  await page.getByRole("heading", { name: `Order ${order.number}` }).waitFor();
  await page.locator("#order-payment a", { hasText: /^pi_staff_/ }).waitFor();
  const paymentLink = page.locator("#order-payment a", { hasText: /^pi_staff_/ });
  assert.match(await paymentLink.getAttribute("href"), /^https:\/\/dashboard\.stripe\.com\/payments\/pi_staff_/);
  assert.equal(await paymentLink.getAttribute("rel"), "noopener noreferrer");

  // Refund one of the two units.
  const part = product.price;
  await page.getByRole("button", { name: "Refund money" }).click();
  const amount = page.getByLabel(`Amount to refund (${order.currency.toUpperCase()})`);
  assert.equal(await amount.inputValue(), typed(order.total, order.currency), "the whole remaining amount is offered");
  await amount.fill(typed(part, order.currency));
  await page.locator("#refund-form").getByLabel("Reason", { exact: true }).fill("One of the two arrived broken");
  await page.getByRole("button", { name: "Refund…" }).click();
  await confirmWith(page, `Yes, refund ${shown(part, order.currency)}`);
  await notice(page, `${shown(part, order.currency)} of order ${order.number} is refunded to the customer.`);

  const refunded = await sdk.support.collection("orders").getOne(order.id);
  assert.equal(refunded.refunded_amount, part, "refunded_amount grew by the part");
  assert.equal(refunded.status, "paid", "a part refund leaves the order paid");
  await page.locator("#order-summary", { hasText: "Refunded so far" }).waitFor();
  await page.locator('#order-timeline li[data-kind="refund"]', { hasText: shown(part, order.currency) }).waitFor();

  // An internal note.
  const body = `Customer called: one ${product.name.toLowerCase()} arrived torn; refunded ${shown(part, order.currency)}.`;
  await page.getByLabel("New note").fill(body);
  await page.getByRole("button", { name: "Add note…" }).click();
  await confirmWith(page, "Yes, save the note");
  await notice(page, "Your note is saved.");
  await page.locator("#notes-list li", { hasText: body }).waitFor();
  const notes = await sdk.support.collection("order_notes").getFullList({ filter: sdk.support.filter("order = {:id}", { id: order.id }) });
  assert.equal(notes.length, 1);
  assert.equal(notes[0].body, body);
  assert.equal(notes[0].author, sdk.support.authStore.record.id);
  await shoot(page, "order", [1280, 390], 1500);
});

test("support looks up a customer by email and opens one of their orders", async () => {
  const page = supportPage;
  await page.getByRole("link", { name: "Customers" }).click();
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await page.getByLabel("Customer email or name (or part of it)").fill("customer2@");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: "customer2@example.com" }).click();
  const card = page.locator("#customer-card");
  await card.locator("tbody tr").first().waitFor();
  assert.match(await card.innerText(), /Spanish/);
  const number = await card.locator("tbody tr a").first().innerText();
  await shoot(page, "customer", [1280]);
  await card.getByRole("link", { name: number }).click();
  await page.getByRole("heading", { name: `Order ${number}` }).waitFor();

  // The language switch redraws the open page, its history included.
  await page.getByLabel("Language").selectOption("es");
  await page.getByRole("heading", { name: `Pedido ${number}` }).waitFor();
  await page.getByRole("heading", { name: "Historial" }).waitFor();
  await page.locator('#order-timeline li[data-kind="created"]', { hasText: "Pedido realizado" }).waitFor();
  await page.context().close();
});

// ---- store ---------------------------------------------------------------

let storePage;

test("store adds a product with a picture and changes its price", async () => {
  // A product whose push to Stripe failed, first by name so that the
  // catalogue's first page shows it.
  const first = await sdk.store.collection("products").getFirstListItem("", { sort: "name,id" });
  await sdk.superuser.collection("products").update(first.id, { stripe_sync: "failed" });

  const page = await openPage(1280);
  storePage = page;
  await signIn(page, "store@example.com");
  await page.getByRole("heading", { name: "Catalogue" }).waitFor();
  await page.locator(`#products-table tr[data-product="${first.id}"] .sync-failed`).waitFor();
  await shoot(page, "catalogue", [1280]);

  await page.getByRole("link", { name: "Add a product" }).click();
  await page.getByRole("heading", { name: "New product" }).waitFor();
  const name = "Blue Stoneware Mug";
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Description").fill("A blue stoneware mug, 350 ml.");
  await page.getByLabel("Price", { exact: true }).fill("12.50");
  await page.getByLabel("Currency (3 letters)").fill("usd");
  await page.getByLabel("Units in stock").fill("7");
  await page.getByLabel("Featured", { exact: false }).check();
  await page.getByLabel("Picture").setInputFiles({ name: "mug.png", mimeType: "image/png", buffer: png(96, [30, 90, 200]) });
  await page.waitForFunction(() => document.querySelector("#p-image-preview").src.startsWith("data:image/png;base64,"));
  await shoot(page, "product", [1280]);
  await page.getByRole("button", { name: "Save" }).click();
  await notice(page, `${name} is added to the catalogue.`);
  await page.getByRole("heading", { name: `Edit: ${name}` }).waitFor();

  const created = await sdk.store.collection("products").getFirstListItem(sdk.store.filter("name = {:name}", { name }));
  assert.equal(created.price, 1250);
  assert.equal(created.currency, "usd");
  assert.equal(created.stock, 7);
  assert.equal(created.featured, true);
  assert.equal(created.active, true);
  assert.equal(created.digital, false);
  assert.ok(created.image, "the picture was uploaded");
  assert.equal(created.description, "A blue stoneware mug, 350 ml.");

  // A wrong price is refused beside its field; a right one is saved.
  await page.getByLabel("Price", { exact: true }).fill("14,5.0");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator('#product-form .error[data-for="price"]', { hasText: "Enter a price such as 19.99." }).waitFor();
  await page.getByLabel("Price", { exact: true }).fill("14");
  await page.getByRole("button", { name: "Save" }).click();
  await notice(page, `${name} is saved.`);
  assert.equal((await sdk.store.collection("products").getOne(created.id)).price, 1400);

  await page.getByRole("link", { name: "← Catalogue" }).click();
  await page.getByLabel("Product name").fill(name);
  await page.getByRole("button", { name: "Search" }).click();
  const row = page.locator(`#products-table tr[data-product="${created.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /\$14\.00/);
});

test("store pushes a failed product to Stripe again", async () => {
  const page = storePage;
  await page.getByLabel("Product name").fill("");
  await page.getByLabel("Show", { exact: true }).selectOption("failed");
  const failed = await sdk.store.collection("products").getFirstListItem('stripe_sync = "failed"', { sort: "name,id" });
  await page.getByRole("button", { name: `Push ${failed.name} to Stripe again` }).click();
  await notice(page, `${failed.name} is being sent to Stripe.`);
  assert.equal(await settledSync(failed.id), "synced", "stripe-mock took the product");
  // Once in step with Stripe, it leaves the list of products not sent, live.
  await page.locator(`#products-table tr[data-product="${failed.id}"]`).waitFor({ state: "detached" });
});

// settledSync waits until a product's push to Stripe has ended.
async function settledSync(id) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { stripe_sync: sync } = await sdk.store.collection("products").getOne(id);
    if (sync === "synced" || sync === "failed" || Date.now() > deadline) return sync;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test("store cannot delete a product that was ordered and hides it instead", async () => {
  const page = storePage;
  const item = await sdk.support.collection("order_items").getFirstListItem("product != ''", { sort: "created" });
  const product = await sdk.store.collection("products").getOne(item.product);
  if (!product.active) {
    await sdk.store.collection("products").update(product.id, { active: true });
    await settledSync(product.id);
  }
  await page.getByLabel("Show", { exact: true }).selectOption("");
  await page.getByLabel("Product name").fill(product.name);
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator(`#products-table tr[data-product="${product.id}"] a`).click();
  await page.getByRole("heading", { name: `Edit: ${product.name}` }).waitFor();

  expectedErrors.push("Failed to load resource: the server responded with a status of 400 (Bad Request)");
  await page.getByRole("button", { name: "Delete product…" }).click();
  await confirmWith(page, "Yes, delete it");
  const refusal = page.locator("#delete-refused");
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /deactivate it instead/i, "the server's reason is shown");
  await refusal.getByRole("button", { name: "Hide it from the shop instead" }).click();
  await confirmWith(page, "Yes, hide it");
  await notice(page, `${product.name} is hidden from the shop.`);
  assert.equal((await sdk.store.collection("products").getOne(product.id)).active, false);
  assert.ok(await sdk.store.collection("products").getOne(product.id), "the product is still there");
  await page.context().close();
});

// ---- customers -----------------------------------------------------------

test("a customer at /staff/ is told it is for staff and sees no staff data", async () => {
  const page = await openPage(1280);
  const calls = [];
  page.on("request", (req) => { if (new URL(req.url()).pathname.startsWith("/api/")) calls.push(new URL(req.url()).pathname); });
  await signIn(page, "customer@example.com");
  await page.getByRole("heading", { name: "This page is for the shop's staff" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Go to the shop" }).getAttribute("href"), "/");
  assert.equal(await page.locator("#nav").isVisible(), false);
  for (const section of ["#orders", "#order", "#customers", "#catalogue", "#product"]) {
    assert.equal(await page.locator(section).isVisible(), false, `${section} stays hidden`);
  }
  assert.deepEqual(calls.filter((p) => !["/api/collections/users/auth-with-password", "/api/v1/me"].includes(p)), [],
    "the page asked for nothing but the sign-in and the profile");
  await shoot(page, "refused", [390]);

  // The page speaks the user's language: customer2's is Spanish.
  await page.getByRole("button", { name: "Sign out" }).first().click();
  await page.getByRole("heading", { name: "Staff sign-in" }).waitFor();
  await signIn(page, "customer2@example.com");
  await page.getByRole("heading", { name: "Esta página es para el personal de la tienda" }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "es");
  // The switch changes it.
  await page.getByLabel("Idioma").selectOption("en");
  await page.getByRole("heading", { name: "This page is for the shop's staff" }).waitFor();
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
