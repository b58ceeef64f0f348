// The shop through the official PocketBase JS SDK, as an app would use it:
// sign-in, the custom /api/v1 routes, the records API under the roles
// table, realtime, checkout against stripe-mock and a signed Stripe webhook.
// SHOP_URL is a running shop with fresh demo data; STRIPE_WEBHOOK_SECRET
// is the secret it was started with; SUPERUSER_EMAIL/SUPERUSER_PASSWORD a
// superuser of it. Run by `make e2e`; the tests run in file order and some
// build on the state earlier ones leave (an order paid by the webhook).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import PocketBase, { BaseAuthStore, ClientResponseError } from "pocketbase";
import { EventSource } from "eventsource";

globalThis.EventSource = EventSource;

const shop = process.env.SHOP_URL;
const webhookSecret = process.env.STRIPE_WEBHOOK_SECRET;
const superuserEmail = process.env.SUPERUSER_EMAIL;
const superuserPassword = process.env.SUPERUSER_PASSWORD;
const demoPassword = "shopdash-demo";

// The roles table of CONTRACT §2.
const rolePermissions = {
  customer: ["get:orders", "create:orders", "cancel:orders", "get:products", "get:users"],
  support: ["get:orders", "update:orders", "cancel:orders", "get:products", "get:users"],
  store: ["get:products", "create:products", "update:products", "delete:products"],
};

// One client per role, each signed in once (sign-in is rate limited).
const pb = {};
const logins = {
  customer: "customer@example.com",
  customer2: "customer2@example.com",
  support: "support@example.com",
  store: "store@example.com",
};

function client() {
  // An in-memory auth store per client, and no auto-cancellation: the
  // tests make the same request from several clients on purpose.
  return new PocketBase(shop, new BaseAuthStore()).autoCancellation(false);
}

before(async () => {
  assert.ok(shop, "SHOP_URL must point at a running shop");
  assert.ok(webhookSecret, "STRIPE_WEBHOOK_SECRET must be the shop's webhook secret");
  assert.ok(superuserEmail && superuserPassword, "SUPERUSER_EMAIL and SUPERUSER_PASSWORD must be set");
  pb.guest = client();
  for (const [name, email] of Object.entries(logins)) {
    pb[name] = client();
    await pb[name].collection("users").authWithPassword(email, demoPassword);
  }
  pb.superuser = client();
  await pb.superuser.collection("_superusers").authWithPassword(superuserEmail, superuserPassword);
});

after(async () => {
  // Close every realtime connection so that node can exit.
  for (const c of Object.values(pb)) {
    await c.realtime.unsubscribe().catch(() => {});
    c.realtime.disconnect();
  }
});

// ---- helpers ----------------------------------------------------------

// refused awaits a request that must fail with the status and returns the
// ClientResponseError.
async function refused(promise, status, what) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    assert.ok(err instanceof ClientResponseError, `${what}: ${err}`);
    assert.equal(err.status, status, `${what}: got ${err.status} ${JSON.stringify(err.response)}`);
    assert.equal(err.response.status, status, `${what}: the body carries the status`);
    assert.equal(typeof err.response.message, "string", `${what}: the body carries a message`);
    assert.ok(err.response.message.length > 0, `${what}: the message is not empty`);
    return err;
  }
  assert.fail(`${what}: expected ${status}, got success ${JSON.stringify(result).slice(0, 300)}`);
}

function post(path, body, options = {}) {
  return { method: "POST", body, ...options };
}

const me = (name) => pb[name].authStore.record;

// A PocketBase UTC time string ("2026-11-24 09:40:32.893Z") as a Date.
const toDate = (s) => new Date(s.replace(" ", "T"));

// signedEvent returns the body and Stripe-Signature header of an event
// signed with the secret (Stripe's scheme: HMAC-SHA256 of "<t>.<payload>").
function signedEvent(event, secret = webhookSecret) {
  const payload = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", secret).update(`${t}.${payload}`).digest("hex");
  return { payload, signature: `t=${t},v1=${v1}` };
}

function sendWebhook({ payload, signature }) {
  return pb.guest.send("/api/v1/stripe/webhook", post("", payload, { headers: { "Stripe-Signature": signature } }));
}

// completedEvent pays an order: its own session, its total, its currency.
function completedEvent(order, sessionId) {
  const orderId = order.id;
  const now = Math.floor(Date.now() / 1000);
  return {
    id: "evt_sdk_" + randomBytes(10).toString("hex"),
    object: "event",
    type: "checkout.session.completed",
    api_version: "2023-10-16",
    created: now,
    data: {
      object: {
        id: sessionId,
        object: "checkout.session",
        client_reference_id: orderId,
        metadata: { order_id: orderId },
        payment_status: "paid",
        payment_intent: "pi_sdk_" + randomBytes(10).toString("hex"),
        amount_total: order.total,
        currency: order.currency,
      },
    },
  };
}

// A physical, active product with stock, from the guest's catalogue.
let physicalProduct;
async function someProduct() {
  if (!physicalProduct) {
    physicalProduct = await pb.guest.collection("products").getFirstListItem("active = true && digital = false && stock >= 5", { sort: "name" });
  }
  return physicalProduct;
}

async function checkout(name, quantity = 2) {
  const product = await someProduct();
  const res = await pb[name].send("/api/v1/checkout", post("", { items: [{ product: product.id, quantity }] }));
  return { res, product };
}

// events collects the realtime messages of a subscription; waitFor resolves
// with the first one that matches, or fails after the timeout.
function recorder() {
  const events = [];
  const waiters = [];
  const cb = (e) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (w.match(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(e);
      }
    }
  };
  const waitFor = (match, ms, what) => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { match, resolve };
      w.timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(w), 1);
        reject(new Error(`no realtime event within ${ms} ms: ${what}; got ${JSON.stringify(events.map((e) => [e.action, e.record?.id, e.record?.status]))}`));
      }, ms);
      waiters.push(w);
    });
  };
  return { events, cb, waitFor };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- 1. sign-in and /me -----------------------------------------------

test("each demo role signs in with the SDK and /api/v1/me reports its role and exactly its permissions", async () => {
  const expected = { customer: "customer", customer2: "customer", support: "support", store: "store" };
  for (const [name, role] of Object.entries(expected)) {
    assert.ok(pb[name].authStore.isValid, `${name} holds a valid token`);
    assert.equal(me(name).email, logins[name]);
    assert.equal(me(name).collectionName, "users");
    const profile = await pb[name].send("/api/v1/me");
    assert.equal(profile.id, me(name).id, `${name}: /me is the signed-in user`);
    assert.equal(profile.email, logins[name]);
    assert.equal(profile.role, role, `${name}: role`);
    assert.deepEqual([...profile.permissions].sort(), [...rolePermissions[role]].sort(), `${name}: permissions`);
    for (const secret of ["password", "passwordHash", "tokenKey", "stripe_customer"]) {
      assert.ok(!(secret in profile), `${name}: /me has no ${secret}`);
    }
  }
  assert.ok(pb.superuser.authStore.isSuperuser, "the superuser signed in through _superusers");
});

test("a guest gets 401 from every signed-in /api/v1 route", async () => {
  const routes = [
    ["/api/v1/me", {}],
    ["/api/v1/dashboard", {}],
    ["/api/v1/purchases", {}],
    ["/api/v1/downloads", {}],
    ["/api/v1/me/export", {}],
    ["/api/v1/checkout", post("", { items: [{ product: "x", quantity: 1 }] })],
    ["/api/v1/orders/abc123/cancel", post("", { reason: "x" })],
    ["/api/v1/me", { method: "DELETE", body: { password: demoPassword } }],
    ["/api/v1/admin/jobs", {}],
  ];
  for (const [path, options] of routes) {
    await refused(pb.guest.send(path, options), 401, `guest ${options.method || "GET"} ${path}`);
  }
});

// ---- 2. the custom routes -----------------------------------------------

test("the dashboard shows a customer active featured products, their newest order with items and 12-month stats that match their orders", async () => {
  const customerId = me("customer").id;
  const dash = await pb.customer.send("/api/v1/dashboard");
  assert.equal(dash.user.id, customerId);
  assert.equal(dash.user.email, logins.customer);
  assert.ok(!("permissions" in dash.user), "the dashboard's user is /me without permissions");

  assert.ok(Array.isArray(dash.featured_products));
  assert.ok(dash.featured_products.length > 0 && dash.featured_products.length <= 8, `${dash.featured_products.length} featured products`);
  for (const p of dash.featured_products) {
    assert.equal(p.active, true, `${p.name} is active`);
    assert.equal(p.featured, true, `${p.name} is featured`);
    assert.ok(Number.isInteger(p.price) && p.currency === "usd", `${p.name}: integer price in usd`);
  }

  const orders = await pb.customer.collection("orders").getFullList({ sort: "-created,-id" });
  assert.ok(dash.recent_order, "the demo customer has orders");
  assert.equal(dash.recent_order.id, orders[0].id, "recent_order is the newest order");
  assert.equal(dash.recent_order.user, customerId);
  assert.ok(dash.recent_order.items.length > 0, "the recent order carries its items");
  for (const item of dash.recent_order.items) {
    assert.equal(item.order, dash.recent_order.id);
    assert.ok(item.product_name && Number.isInteger(item.unit_price) && item.quantity >= 1);
  }
  const count = dash.recent_order.items.reduce((n, i) => n + i.quantity, 0);
  assert.equal(dash.recent_order.item_count, count, "item_count sums the items' quantities");

  const since = new Date();
  since.setUTCFullYear(since.getUTCFullYear() - 1);
  const spending = orders.filter((o) => ["paid", "shipped", "delivered"].includes(o.status) && toDate(o.created) >= since);
  assert.deepEqual(dash.stats, {
    orders_12m: spending.length,
    spent_12m: spending.reduce((n, o) => n + o.total, 0),
    currency: "usd",
  });
  assert.ok(dash.stats.orders_12m > 0, "the demo customer spent in the last 12 months");

  // A store manager is signed in too, but has no orders.
  const storeDash = await pb.store.send("/api/v1/dashboard");
  assert.equal(storeDash.user.id, me("store").id);
  assert.equal(storeDash.recent_order, null);
  assert.equal(storeDash.stats.orders_12m, 0);
  assert.equal(storeDash.stats.spent_12m, 0);
});

test("purchases lists only the customer's own items, sorts by total, pages, and answers 400 with data.perPage for perPage=101", async () => {
  const own = new Set((await pb.customer.collection("orders").getFullList({ fields: "id" })).map((o) => o.id));

  const page = await pb.customer.send("/api/v1/purchases", { query: { perPage: 100, sort: "-total" } });
  assert.equal(page.page, 1);
  assert.equal(page.perPage, 100);
  assert.ok(page.totalItems > 0 && page.items.length === Math.min(100, page.totalItems));
  assert.equal(page.totalPages, Math.ceil(page.totalItems / 100));
  const totals = page.items.map((i) => i.total);
  assert.deepEqual(totals, [...totals].sort((a, b) => b - a), "sorted by total, descending");
  for (const item of page.items) {
    assert.ok(own.has(item.order), `item ${item.id} belongs to one of the customer's orders`);
    assert.equal(item.total, item.unit_price * item.quantity, `item ${item.id}: total = unit_price × quantity`);
    assert.equal(item.currency, "usd");
    for (const key of ["id", "order_number", "status", "product", "product_name", "estimated_arrival", "created"]) {
      assert.ok(key in item, `item has ${key}`);
    }
  }

  const ascending = await pb.customer.send("/api/v1/purchases", { query: { perPage: 5, sort: "product_name", page: 2 } });
  assert.equal(ascending.page, 2);
  assert.equal(ascending.items.length, 5);
  const names = ascending.items.map((i) => i.product_name);
  assert.deepEqual(names, [...names].sort(), "sorted by product name, ascending");

  const err = await refused(pb.customer.send("/api/v1/purchases", { query: { perPage: 101 } }), 400, "perPage=101");
  assert.ok(err.response.data.perPage, `data.perPage in ${JSON.stringify(err.response.data)}`);
  assert.equal(typeof err.response.data.perPage.code, "string");
  const badSort = await refused(pb.customer.send("/api/v1/purchases", { query: { sort: "password" } }), 400, "sort=password");
  assert.ok(badSort.response.data.sort, `data.sort in ${JSON.stringify(badSort.response.data)}`);

  // Support holds get:orders but bought nothing; store lacks it.
  const support = await pb.support.send("/api/v1/purchases");
  assert.equal(support.totalItems, 0);
  assert.deepEqual(support.items, []);
  await refused(pb.store.send("/api/v1/purchases"), 403, "store GET /purchases");
});

test("downloads gives the customer links to their digital items that fetch without an Authorization header, and only for them", async () => {
  const { items } = await pb.customer.send("/api/v1/downloads");
  assert.ok(items.length > 0, "the demo customer has a paid digital purchase");
  const own = new Set((await pb.customer.collection("orders").getFullList({ filter: 'status = "paid" || status = "shipped" || status = "delivered"', fields: "id" })).map((o) => o.id));
  for (const item of items) {
    assert.ok(own.has(item.order), `download ${item.item} is from a paid order of the customer`);
    assert.ok(item.url.includes(`/api/v1/downloads/${item.item}?token=`), item.url);
    assert.ok(toDate(item.expires) > new Date(), "the link has not expired");
  }

  // The link as issued, on this shop (the link's origin is SHOPDASH_APP_URL).
  const link = new URL(items[0].url);
  const res = await fetch(new URL(link.pathname + link.search, shop));
  assert.equal(res.status, 200, "the link works without Authorization");
  assert.match(res.headers.get("content-disposition") || "", /^attachment/);
  assert.match(res.headers.get("cache-control") || "", /no-store/);
  assert.ok((await res.arrayBuffer()).byteLength > 0, "the asset has content");

  const bare = await fetch(new URL(link.pathname, shop));
  assert.equal(bare.status, 401, "no token and no auth: 401");
  const foreign = await fetch(new URL(link.pathname, shop), { headers: { Authorization: pb.customer2.authStore.token } });
  assert.equal(foreign.status, 404, "someone else's item: 404");

  const storeDownloads = await pb.store.send("/api/v1/downloads");
  assert.deepEqual(storeDownloads.items, [], "the store manager bought nothing");
});

test("the export holds the customer's profile, their own orders with items and emails, and no password or token key", async () => {
  const customerId = me("customer").id;
  const doc = await pb.customer.send("/api/v1/me/export");
  assert.deepEqual(Object.keys(doc).sort(), ["emails", "exported_at", "orders", "profile"]);
  assert.equal(doc.profile.id, customerId);
  assert.equal(doc.profile.email, logins.customer);
  const orders = await pb.customer.collection("orders").getFullList({ fields: "id" });
  assert.deepEqual(doc.orders.map((o) => o.id).sort(), orders.map((o) => o.id).sort(), "every own order, no other");
  for (const o of doc.orders) {
    assert.equal(o.user, customerId);
    assert.ok(Array.isArray(o.items) && o.items.length > 0, `order ${o.number} has its items`);
  }
  assert.ok(Array.isArray(doc.emails));
  const text = JSON.stringify(doc);
  for (const secret of ["password", "tokenKey", "stripe_customer"]) {
    assert.ok(!text.includes(`"${secret}"`), `the export has no ${secret}`);
  }
  const other = await pb.customer2.send("/api/v1/me/export");
  assert.equal(other.profile.email, logins.customer2);
  assert.ok(other.orders.every((o) => o.user === me("customer2").id), "customer2's export has only customer2's orders");
});

// The order that the checkout route test creates and the webhook test pays.
let checkedOut;

test("checkout gives a customer 201 with a pending order and a Stripe session, staff 403, and bad items 400 with data.items", async () => {
  const { res, product } = await checkout("customer", 2);
  assert.match(res.session_id, /^cs_/);
  assert.match(res.checkout_url, /^https:\/\//);
  assert.equal(res.order.status, "pending");
  assert.equal(res.order.user, me("customer").id);
  assert.equal(res.order.total, product.price * 2, "the price comes from the product");
  assert.equal(res.order.currency, product.currency);
  assert.equal(res.order.item_count, 2);
  assert.equal(res.order.stripe_session, res.session_id);
  const stored = await pb.customer.collection("orders").getOne(res.order.id);
  assert.equal(stored.status, "pending");
  assert.equal(stored.total, product.price * 2);
  checkedOut = res;

  // The price in the body is ignored.
  const cheap = await pb.customer.send("/api/v1/checkout", post("", { items: [{ product: product.id, quantity: 1, unit_price: 1, price: 1 }] }));
  assert.equal(cheap.order.total, product.price);
  await pb.customer.send(`/api/v1/orders/${cheap.order.id}/cancel`, post("", { reason: "test cleanup" }));

  const body = { items: [{ product: product.id, quantity: 1 }] };
  await refused(pb.support.send("/api/v1/checkout", post("", body)), 403, "support checkout");
  await refused(pb.store.send("/api/v1/checkout", post("", body)), 403, "store checkout");

  const empty = await refused(pb.customer.send("/api/v1/checkout", post("", { items: [] })), 400, "no items");
  assert.ok(empty.response.data.items, `data.items in ${JSON.stringify(empty.response.data)}`);
  const unknown = await refused(pb.customer.send("/api/v1/checkout", post("", { items: [{ product: "nosuchproduct00", quantity: 1 }] })), 400, "unknown product");
  assert.ok(unknown.response.data.items?.["0"]?.product, `data.items.0.product in ${JSON.stringify(unknown.response.data)}`);
  const zero = await refused(pb.customer.send("/api/v1/checkout", post("", { items: [{ product: product.id, quantity: 0 }] })), 400, "quantity 0");
  assert.ok(zero.response.data.items?.["0"]?.quantity, `data.items.0.quantity in ${JSON.stringify(zero.response.data)}`);
  const tooMany = await refused(pb.customer.send("/api/v1/checkout", post("", { items: [{ product: product.id, quantity: product.stock + 1 }] })), 400, "more than the stock");
  assert.ok(tooMany.response.data.items?.["0"]?.quantity, `data.items.0.quantity in ${JSON.stringify(tooMany.response.data)}`);
});

test("the Stripe webhook answers 400 to a bad signature and marks the checkout's order paid, once, for a signed completed event", async () => {
  assert.ok(checkedOut, "the checkout test ran");
  const orderId = checkedOut.order.id;
  const event = completedEvent(checkedOut.order, checkedOut.session_id);

  const forged = signedEvent(event, "whsec_not_the_shops_secret");
  const bad = await refused(sendWebhook(forged), 400, "wrong secret");
  assert.match(bad.response.message, /signature/i);
  const good = signedEvent(event);
  await refused(sendWebhook({ payload: good.payload.replace('"paid"', '"unpaid"'), signature: good.signature }), 400, "tampered payload");
  await refused(sendWebhook({ payload: good.payload, signature: "" }), 400, "no signature");
  assert.equal((await pb.customer.collection("orders").getOne(orderId)).status, "pending", "nothing changed yet");

  const first = await sendWebhook(good);
  assert.deepEqual(first, { received: true, applied: true, status: "applied" });
  const again = await sendWebhook(signedEvent(event));
  assert.deepEqual(again, { received: true, applied: false }, "the same event id is applied once");

  const order = await pb.customer.collection("orders").getOne(orderId);
  assert.equal(order.status, "paid");
  assert.equal(order.stripe_payment_intent, event.data.object.payment_intent);
  assert.ok(order.paid_at, "paid_at is set");

  const unhandled = await sendWebhook(signedEvent({ ...completedEvent(checkedOut.order, checkedOut.session_id), type: "customer.created", data: { object: { id: "cus_x", object: "customer" } } }));
  assert.equal(unhandled.received, true, "200 to an event the shop does not handle");
});

test("cancel: a customer cancels their own pending order but gets 404 for another's and 409 for a shipped one; support needs a reason and refunds a paid order", async () => {
  // The customer's own pending order, fresh from checkout.
  const { res } = await checkout("customer", 1);
  const cancelled = await pb.customer.send(`/api/v1/orders/${res.order.id}/cancel`, post("", { reason: "changed my mind" }));
  assert.equal(cancelled.id, res.order.id);
  assert.equal(cancelled.status, "cancelled");
  assert.ok(cancelled.cancelled_at, "cancelled_at is set");
  assert.equal((await pb.customer.collection("orders").getOne(res.order.id)).status, "cancelled");
  await refused(pb.customer.send(`/api/v1/orders/${res.order.id}/cancel`, post("", {})), 409, "cancelling a cancelled order");

  // Another customer's pending order.
  const theirs = await pb.customer2.collection("orders").getFirstListItem('status = "pending"');
  await refused(pb.customer.send(`/api/v1/orders/${theirs.id}/cancel`, post("", {})), 404, "customer cancels customer2's order");
  assert.equal((await pb.customer2.collection("orders").getOne(theirs.id)).status, "pending", "customer2's order is untouched");

  // A shipped order.
  const shipped = await pb.customer.collection("orders").getFirstListItem('status = "shipped"');
  const conflict = await refused(pb.customer.send(`/api/v1/orders/${shipped.id}/cancel`, post("", {})), 409, "cancelling a shipped order");
  assert.ok(conflict.response.message);
  assert.equal((await pb.customer.collection("orders").getOne(shipped.id)).status, "shipped");

  // Support: a reason is required; with one, a paid order is refunded.
  const noReason = await refused(pb.support.send(`/api/v1/orders/${theirs.id}/cancel`, post("", {})), 400, "support without a reason");
  assert.ok(noReason.response.data.reason, `data.reason in ${JSON.stringify(noReason.response.data)}`);
  await refused(pb.store.send(`/api/v1/orders/${theirs.id}/cancel`, post("", { reason: "x" })), 403, "store cancels");

  assert.ok(checkedOut, "the webhook test paid an order");
  const paid = await pb.support.collection("orders").getOne(checkedOut.order.id);
  assert.equal(paid.status, "paid");
  const refunded = await pb.support.send(`/api/v1/orders/${paid.id}/cancel`, post("", { reason: "customer called support" }));
  assert.equal(refunded.status, "cancelled");
  assert.equal(refunded.cancel_reason, "customer called support");
  assert.ok(refunded.stripe_refund, "the paid order was refunded through Stripe");
  const seen = await pb.customer.collection("orders").getOne(paid.id);
  assert.equal(seen.status, "cancelled");
  assert.equal(seen.stripe_refund, refunded.stripe_refund);

  const audit = await pb.support.collection("audit_log").getFullList({ filter: pb.support.filter("action = 'order.cancel' && target ~ {:id}", { id: paid.id }) });
  assert.equal(audit.length, 1, "the support cancel is audited once");
});

test("admin jobs: a superuser sees the three background jobs; customers and store get 403", async () => {
  const jobs = await pb.superuser.send("/api/v1/admin/jobs");
  assert.equal(jobs.items.length, 3);
  assert.deepEqual(jobs.items.map((j) => j.name).sort(), ["email_outbox", "stale_orders", "stripe_sync"]);
  for (const j of jobs.items) {
    assert.equal(typeof j.paused, "boolean");
    assert.ok(Array.isArray(j.last_runs));
  }
  await refused(pb.customer.send("/api/v1/admin/jobs"), 403, "customer GET /admin/jobs");
  await refused(pb.store.send("/api/v1/admin/jobs"), 403, "store GET /admin/jobs");
  await refused(pb.customer.send("/api/v1/admin/jobs/stripe_sync/pause", post("", {})), 403, "customer pauses a job");
});

// ---- 3. the records API under the roles table ---------------------------

test("the records API shows a customer only their own orders: another's is 404, a filter for them is empty, and creating one is 403", async () => {
  const customerId = me("customer").id;
  const customer2Id = me("customer2").id;
  const own = await pb.customer.collection("orders").getFullList();
  assert.ok(own.length > 0);
  for (const o of own) assert.equal(o.user, customerId, `order ${o.number} is the customer's`);

  const theirs = await pb.customer2.collection("orders").getFullList();
  assert.ok(theirs.length > 0, "customer2 has orders");
  for (const o of theirs) assert.equal(o.user, customer2Id);
  await refused(pb.customer.collection("orders").getOne(theirs[0].id), 404, "customer reads customer2's order");
  const filtered = await pb.customer.collection("orders").getList(1, 50, { filter: pb.customer.filter("user = {:id}", { id: customer2Id }) });
  assert.equal(filtered.totalItems, 0);
  assert.deepEqual(filtered.items, []);
  const items = await pb.customer.collection("order_items").getList(1, 50, { filter: pb.customer.filter("order = {:id}", { id: theirs[0].id }) });
  assert.equal(items.totalItems, 0, "nor their order items");

  await refused(pb.customer.collection("orders").create({ user: customerId, status: "paid", total: 1, currency: "usd" }), 403, "customer creates an order");
  await refused(pb.customer.collection("orders").update(own[0].id, { status: "delivered" }), 404, "customer updates their order");
  await refused(pb.customer.collection("users").update(customerId, { role: "support" }), 404, "customer makes themself support");
  assert.equal((await pb.customer.send("/api/v1/me")).role, "customer");
  await refused(pb.customer.collection("users").getOne(customer2Id), 404, "customer reads customer2's profile");
});

test("support sees both customers' orders and store sees none", async () => {
  const all = await pb.support.collection("orders").getFullList({ fields: "id,user" });
  const users = new Set(all.map((o) => o.user));
  assert.ok(users.has(me("customer").id), "support sees the customer's orders");
  assert.ok(users.has(me("customer2").id), "support sees customer2's orders");
  const customerOrders = await pb.customer.collection("orders").getFullList({ fields: "id" });
  assert.equal(all.filter((o) => o.user === me("customer").id).length, customerOrders.length);

  const store = await pb.store.collection("orders").getList(1, 50);
  assert.equal(store.totalItems, 0);
  assert.deepEqual(store.items, []);
  await refused(pb.store.collection("orders").getOne(all[0].id), 404, "store reads an order");

  const guest = await pb.guest.collection("orders").getList(1, 50);
  assert.equal(guest.totalItems, 0, "a guest sees no orders");
});

test("a guest lists only active products, store also sees inactive ones and creates and deletes a product, which other roles cannot", async () => {
  const guest = await pb.guest.collection("products").getFullList();
  assert.ok(guest.length > 0);
  for (const p of guest) assert.equal(p.active, true, `${p.name} is active`);
  const store = await pb.store.collection("products").getFullList();
  const inactive = store.filter((p) => !p.active);
  assert.ok(inactive.length > 0, "the demo shop has inactive products");
  assert.equal(store.length, guest.length + inactive.length);
  await refused(pb.guest.collection("products").getOne(inactive[0].id), 404, "guest reads an inactive product");
  await refused(pb.customer.collection("products").getOne(inactive[0].id), 404, "customer reads an inactive product");
  const guestUsers = await pb.guest.collection("users").getList(1, 50);
  assert.equal(guestUsers.totalItems, 0, "a guest sees no users");

  const product = { name: "SDK Test Lamp", description: "made by sdk.test.mjs", price: 2345, currency: "usd", stock: 3, active: true };
  // A create rule that does not match is PocketBase's 400 "Failed to create
  // record" (403 is only for a superuser-only collection, like orders).
  await refused(pb.customer.collection("products").create(product), 400, "customer creates a product");
  await refused(pb.support.collection("products").create(product), 400, "support creates a product");
  await refused(pb.guest.collection("products").create(product), 400, "guest creates a product");
  const none = await pb.store.collection("products").getList(1, 1, { filter: pb.store.filter("name = {:name}", { name: product.name }) });
  assert.equal(none.totalItems, 0, "the refused creates left no product");

  const created = await pb.store.collection("products").create(product);
  try {
    assert.equal(created.name, product.name);
    assert.equal(created.price, 2345);
    assert.equal(created.active, true);
    const seen = await pb.guest.collection("products").getOne(created.id);
    assert.equal(seen.name, product.name, "the new product is in the guest's catalogue");
    await refused(pb.customer.collection("products").delete(created.id), 404, "customer deletes a product");
  } finally {
    await pb.store.collection("products").delete(created.id);
  }
  await refused(pb.store.collection("products").getOne(created.id), 404, "the product is gone");
});

// ---- 4. realtime ----------------------------------------------------------

test("realtime: when support ships a customer's paid order only that customer's subscription receives it as shipped", async () => {
  const customer = recorder();
  const customer2 = recorder();
  const unsubscribe1 = await pb.customer.collection("orders").subscribe("*", customer.cb);
  const unsubscribe2 = await pb.customer2.collection("orders").subscribe("*", customer2.cb);
  try {
    const order = await pb.customer.collection("orders").getFirstListItem('status = "paid"', { sort: "created" });
    const control = await pb.customer2.collection("orders").getFirstListItem('status = "paid"', { sort: "created" });

    const shipped = await pb.support.collection("orders").update(order.id, { status: "shipped" });
    assert.equal(shipped.status, "shipped");
    const got = await customer.waitFor((e) => e.record?.id === order.id && e.record.status === "shipped", 5000, "the customer's shipped order");
    assert.equal(got.action, "update");
    assert.equal(got.record.user, me("customer").id);

    // customer2's own order, shipped after: its event proves customer2 is
    // listening, and arrives after any leaked event for the first one.
    await pb.support.collection("orders").update(control.id, { status: "shipped" });
    await customer2.waitFor((e) => e.record?.id === control.id && e.record.status === "shipped", 5000, "customer2's own shipped order");
    await sleep(200);
    assert.deepEqual(customer2.events.filter((e) => e.record?.id === order.id), [], "customer2 got nothing about the customer's order");
    assert.deepEqual(customer.events.filter((e) => e.record?.user !== me("customer").id), [], "the customer got nothing about others' orders");

    const refusedMove = await refused(pb.support.collection("orders").update(order.id, { status: "paid" }), 400, "shipped back to paid");
    assert.ok(refusedMove.response.data.status, `data.status in ${JSON.stringify(refusedMove.response.data)}`);
  } finally {
    await unsubscribe1();
    await unsubscribe2();
  }
  assert.equal(pb.customer.realtime.isConnected, false, "unsubscribing the last topic disconnects");
});

// ---- 5. checkout, webhook and realtime together -------------------------

test("a checkout paid by a signed webhook shows as paid through the SDK and reaches the customer's realtime subscription", async () => {
  const customer = recorder();
  const unsubscribe = await pb.customer.collection("orders").subscribe("*", customer.cb);
  try {
    const { res } = await checkout("customer", 1);
    await customer.waitFor((e) => e.record?.id === res.order.id && e.record.status === "pending", 5000, "the new pending order");

    const applied = await sendWebhook(signedEvent(completedEvent(res.order, res.session_id)));
    assert.deepEqual(applied, { received: true, applied: true, status: "applied" });

    const order = await pb.customer.collection("orders").getOne(res.order.id);
    assert.equal(order.status, "paid");
    assert.ok(order.paid_at);
    const got = await customer.waitFor((e) => e.record?.id === res.order.id && e.record.status === "paid", 5000, "the order paid");
    assert.equal(got.action, "update");

    const dash = await pb.customer.send("/api/v1/dashboard");
    assert.equal(dash.recent_order.id, res.order.id, "the dashboard's newest order is the one just paid");
    assert.equal(dash.recent_order.status, "paid");
  } finally {
    await unsubscribe();
  }
});

// ---- last: account deletion ---------------------------------------------

test("DELETE /api/v1/me needs the password (400 without, 403 wrong), then deletes customer2 and keeps their orders without personal data", async () => {
  const id = me("customer2").id;
  const orders = await pb.customer2.collection("orders").getFullList({ fields: "id" });
  assert.ok(orders.length > 0);

  const missing = await refused(pb.customer2.send("/api/v1/me", { method: "DELETE", body: {} }), 400, "no password");
  assert.ok(missing.response.data.password, `data.password in ${JSON.stringify(missing.response.data)}`);
  await refused(pb.customer2.send("/api/v1/me", { method: "DELETE", body: { password: "not-the-password" } }), 403, "wrong password");
  assert.equal((await pb.customer2.send("/api/v1/me")).id, id, "still there");

  await pb.customer2.send("/api/v1/me", { method: "DELETE", body: { password: demoPassword } });
  await refused(pb.customer2.send("/api/v1/me"), 401, "the deleted account's token");
  await refused(pb.support.collection("users").getOne(id), 404, "the user record is gone");

  const kept = await pb.support.collection("orders").getFullList({ filter: orders.map((o) => `id = "${o.id}"`).join(" || ") });
  assert.equal(kept.length, orders.length, "the orders stay for accounting");
  for (const o of kept) {
    assert.equal(o.user, "", `order ${o.number} is unlinked`);
    assert.ok(!o.customer_name, `order ${o.number}: no name`);
    assert.ok(!o.customer_email, `order ${o.number}: no email`);
    assert.ok(!o.shipping_address?.line1, `order ${o.number}: no shipping address`);
    assert.ok(!JSON.stringify(o).includes(logins.customer2), `order ${o.number} does not carry the email`);
  }
  const audit = await pb.support.collection("audit_log").getFullList({ filter: "action = 'user.delete_account'" });
  assert.equal(audit.length, 1, "the deletion is audited");
});
