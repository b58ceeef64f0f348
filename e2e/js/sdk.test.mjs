// The shop through the official PocketBase JS SDK, as an app would use it:
// sign-in, the custom /api/v1 routes, the records API under the roles
// table, realtime, checkout against stripe-mock and a signed Stripe webhook,
// and the staff console's routes and collections (refunds, shipping, notes,
// timeline, push again) for each role.
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
  support: ["get:orders", "update:orders", "cancel:orders", "refund:orders", "get:products", "get:users"],
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

// fieldError asserts that a 400 names the field in data, with a code (the
// given one, when given) and a message, as the JS SDK's users read it.
function fieldError(err, field, code) {
  const e = err.response.data?.[field];
  assert.ok(e, `data.${field} in ${JSON.stringify(err.response.data)}`);
  assert.equal(typeof e.code, "string", `data.${field}.code`);
  assert.ok(typeof e.message === "string" && e.message.length > 0, `data.${field}.message`);
  if (code) assert.equal(e.code, code, `data.${field}.code`);
  return e;
}

// paidOrder checks out as the customer and pays the order with a signed
// checkout.session.completed, so that it carries a Stripe payment intent
// that stripe-mock refunds. It returns the order as support reads it.
async function paidOrder(name = "customer", quantity = 1) {
  const { res } = await checkout(name, quantity);
  const applied = await sendWebhook(signedEvent(completedEvent(res.order, res.session_id)));
  assert.equal(applied.applied, true, "the webhook paid the order");
  const order = await pb.support.collection("orders").getOne(res.order.id);
  assert.equal(order.status, "paid");
  assert.match(order.stripe_payment_intent, /^pi_/);
  return order;
}

// Every signed-in request under /api/v1/orders/ (cancel, refund, timeline)
// counts against one limit of 30 a minute per client IP (the shop's rate
// limit settings), and every client here is 127.0.0.1: the suite makes
// about 26 of them, so add new ones sparingly.
const refund = (name, id, body) => pb[name].send(`/api/v1/orders/${id}/refund`, post("", body));
const timeline = (name, id) => pb[name].send(`/api/v1/orders/${id}/timeline`);

// auditOf lists the audit entries of an action on a record, oldest first.
const auditOf = (action, id) =>
  pb.support.collection("audit_log").getFullList({ filter: pb.support.filter("action = {:action} && target ~ {:id}", { action, id }), sort: "created" });

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
    ["/api/v1/orders/abc123/refund", post("", { amount: 100, reason: "x" })],
    ["/api/v1/orders/abc123/timeline", {}],
    ["/api/v1/products/abc123/push", post("", {})],
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

test("admin jobs: a superuser sees the five background jobs; customers and store get 403", async () => {
  const jobs = await pb.superuser.send("/api/v1/admin/jobs");
  assert.equal(jobs.items.length, 5);
  assert.deepEqual(jobs.items.map((j) => j.name).sort(), ["email_outbox", "stale_orders", "stripe_replay", "stripe_sync", "webhook_outbox"]);
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

    const shipped = await pb.support.collection("orders").update(order.id, { status: "shipped", carrier: "UPS", tracking_number: "1Z999AA10123456784" });
    assert.equal(shipped.status, "shipped");
    const got = await customer.waitFor((e) => e.record?.id === order.id && e.record.status === "shipped", 5000, "the customer's shipped order");
    assert.equal(got.action, "update");
    assert.equal(got.record.user, me("customer").id);

    // customer2's own order, shipped after: its event proves customer2 is
    // listening, and arrives after any leaked event for the first one.
    await pb.support.collection("orders").update(control.id, { status: "shipped", carrier: "DHL", tracking_number: "JJD000390007" });
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

// ---- 6. the staff console (CONTRACT §5) ---------------------------------

test("refund:orders is support's alone: /api/v1/me lists it for support, not for customers or store", async () => {
  const support = await pb.support.send("/api/v1/me");
  assert.ok(support.permissions.includes("refund:orders"), `support: ${support.permissions}`);
  for (const name of ["customer", "store"]) {
    const profile = await pb[name].send("/api/v1/me");
    assert.ok(!profile.permissions.includes("refund:orders"), `${name}: ${profile.permissions}`);
  }
});

test("refund: support refunds part of a paid order (it stays paid), then the rest (refunded, stock back); bad amounts and no reason 400, pending and cancelled 409, customer and store 403, guest 401, unknown 404", async () => {
  const product = await someProduct();
  const stockBefore = (await pb.guest.collection("products").getOne(product.id)).stock;
  const order = await paidOrder("customer", 2);
  const total = order.total;
  assert.equal(total, product.price * 2);
  assert.equal(order.refunded_amount, 0);
  const reason = "parcel arrived damaged";

  // Refused, and nothing changes.
  fieldError(await refused(refund("support", order.id, { amount: 0, reason }), 400, "amount 0"), "amount");
  fieldError(await refused(refund("support", order.id, { amount: -100, reason }), 400, "a negative amount"), "amount");
  fieldError(await refused(refund("support", order.id, { amount: 100 }), 400, "no reason"), "reason");
  await refused(refund("customer", order.id, { amount: 100, reason }), 403, "the customer refunds their own order");
  await refused(refund("store", order.id, { amount: 100, reason }), 403, "store refunds");
  await refused(refund("guest", order.id, { amount: 100, reason }), 401, "a guest refunds");
  await refused(refund("support", "nosuchorder0000", { reason }), 404, "support refunds an unknown order");
  let stored = await pb.customer.collection("orders").getOne(order.id);
  assert.equal(stored.status, "paid");
  assert.equal(stored.refunded_amount, 0, "the refused refunds refunded nothing");
  assert.equal(stored.stripe_refund, "");

  // A part: refunded_amount grows, the order stays paid.
  const part = Math.floor(total / 4);
  const partial = await refund("support", order.id, { amount: part, reason });
  assert.equal(partial.id, order.id, "200 with the order");
  assert.equal(partial.status, "paid");
  assert.equal(partial.refunded_amount, part);
  assert.match(partial.stripe_refund, /^re_/, "refunded through Stripe");
  stored = await pb.customer.collection("orders").getOne(order.id);
  assert.equal(stored.status, "paid", "the customer reads it still paid");
  assert.equal(stored.refunded_amount, part, "the customer reads what was refunded");
  assert.equal(stored.refunded_at, "", "refunded_at waits for the whole");

  // More than remains.
  const tooMuch = await refused(refund("support", order.id, { amount: total - part + 1, reason }), 400, "more than remains");
  fieldError(tooMuch, "amount", "validation_refund_too_large");
  assert.equal((await pb.support.collection("orders").getOne(order.id)).refunded_amount, part, "nothing more was refunded");

  // The rest, by default: the order becomes refunded and its stock comes back.
  const rest = await refund("support", order.id, { reason: "customer sent it back" });
  assert.equal(rest.status, "refunded");
  assert.equal(rest.refunded_amount, total);
  assert.ok(rest.refunded_at, "refunded_at is set");
  stored = await pb.customer.collection("orders").getOne(order.id);
  assert.equal(stored.status, "refunded");
  assert.equal(stored.refunded_amount, total);
  assert.equal((await pb.guest.collection("products").getOne(product.id)).stock, stockBefore, "the stock taken by the order is back");

  const audit = await auditOf("order.refund", order.id);
  assert.deepEqual(audit.map((a) => a.data.amount), [part, total - part], "each refund is audited with its amount");
  assert.equal(audit[0].actor, `users/${me("support").id}`);

  // Nothing to refund: a pending order and a cancelled one.
  const pending = await pb.customer2.collection("orders").getFirstListItem('status = "pending"');
  await refused(refund("support", pending.id, { reason }), 409, "refunding a pending order");
  const cancelled = await pb.customer.collection("orders").getFirstListItem('status = "cancelled"');
  await refused(refund("support", cancelled.id, { reason }), 409, "refunding a cancelled order");
  assert.equal((await pb.customer2.collection("orders").getOne(pending.id)).status, "pending");
  const after = await pb.customer.collection("orders").getOne(cancelled.id);
  assert.equal(after.status, "cancelled");
  assert.equal(after.refunded_amount, cancelled.refunded_amount);
});

test("refund: two refunds of the whole order at once give one 200 and one 409 or 400, and never refund more than the total", async () => {
  const order = await paidOrder("customer", 1);
  const results = await Promise.allSettled([
    refund("support", order.id, { amount: order.total, reason: "double click, first" }),
    refund("support", order.id, { amount: order.total, reason: "double click, second" }),
  ]);
  const ok = results.filter((r) => r.status === "fulfilled");
  const failed = results.filter((r) => r.status === "rejected");
  assert.equal(ok.length, 1, `exactly one succeeds: ${JSON.stringify(results.map((r) => r.value?.status ?? r.reason?.status))}`);
  assert.equal(ok[0].value.status, "refunded");
  assert.ok(failed[0].reason instanceof ClientResponseError, String(failed[0].reason));
  assert.ok([400, 409].includes(failed[0].reason.status), `the other is 409 or 400, got ${failed[0].reason.status} ${JSON.stringify(failed[0].reason.response)}`);

  const stored = await pb.customer.collection("orders").getOne(order.id);
  assert.equal(stored.status, "refunded");
  assert.equal(stored.refunded_amount, order.total, "refunded once: the total, never more");
  assert.equal((await auditOf("order.refund", order.id)).length, 1, "one refund is audited");
});

test("realtime: support subscribed to orders sees a customer's new order arrive (create) and get paid (update); store and another customer hear nothing of it", async () => {
  const support = recorder();
  const store = recorder();
  const customer2 = recorder();
  const unsubscribe = [
    await pb.support.collection("orders").subscribe("*", support.cb),
    await pb.store.collection("orders").subscribe("*", store.cb),
    await pb.customer2.collection("orders").subscribe("*", customer2.cb),
  ];
  try {
    const { res } = await checkout("customer", 1);
    const created = await support.waitFor((e) => e.record?.id === res.order.id, 5000, "the new order");
    assert.equal(created.action, "create");
    assert.equal(created.record.status, "pending");
    assert.equal(created.record.user, me("customer").id);
    assert.equal(created.record.total, res.order.total);
    assert.equal(created.record.number, res.order.number);

    await sendWebhook(signedEvent(completedEvent(res.order, res.session_id)));
    const paid = await support.waitFor((e) => e.record?.id === res.order.id && e.record.status === "paid", 5000, "the order paid");
    assert.equal(paid.action, "update");

    await sleep(300);
    assert.deepEqual(store.events, [], "store receives no order");
    assert.deepEqual(customer2.events.filter((e) => e.record?.id === res.order.id), [], "customer2 receives nothing of the customer's order");
  } finally {
    for (const u of unsubscribe) await u();
  }
});

// The order the shipping test ships; the notes and timeline tests use it.
let shippedOrder;

test("shipping: support ships a paid order only with a carrier, a tracking number and an https tracking link (400 on the field otherwise); the customer reads them back", async () => {
  const order = await paidOrder("customer", 1);
  const ship = (details) => pb.support.collection("orders").update(order.id, { status: "shipped", ...details });

  const bare = await refused(ship({}), 400, "shipped with nothing");
  fieldError(bare, "carrier", "validation_required_to_ship");
  fieldError(bare, "tracking_number", "validation_required_to_ship");
  const noCarrier = await refused(ship({ tracking_number: "JJD000390007" }), 400, "no carrier");
  fieldError(noCarrier, "carrier", "validation_required_to_ship");
  assert.ok(!noCarrier.response.data.tracking_number, "the tracking number was given");
  fieldError(await refused(ship({ carrier: "   ", tracking_number: "JJD000390007" }), 400, "a blank carrier"), "carrier");
  const noNumber = await refused(ship({ carrier: "DHL" }), 400, "no tracking number");
  fieldError(noNumber, "tracking_number", "validation_required_to_ship");
  assert.ok(!noNumber.response.data.carrier, "the carrier was given");
  for (const link of ["javascript:alert(1)", "http://tracking.example.com/JJD000390007", "https://"]) {
    const bad = await refused(ship({ carrier: "DHL", tracking_number: "JJD000390007", tracking_url: link }), 400, `tracking_url ${link}`);
    fieldError(bad, "tracking_url");
  }
  // Customers and store cannot ship at all.
  await refused(pb.customer.collection("orders").update(order.id, { status: "shipped", carrier: "DHL", tracking_number: "X1" }), 404, "the customer ships their order");
  await refused(pb.store.collection("orders").update(order.id, { status: "shipped", carrier: "DHL", tracking_number: "X1" }), 404, "store ships an order");
  let stored = await pb.customer.collection("orders").getOne(order.id);
  assert.equal(stored.status, "paid", "the refused moves left the order paid");
  assert.deepEqual([stored.carrier, stored.tracking_number, stored.tracking_url, stored.shipped_at], ["", "", "", ""]);

  const details = { carrier: "DHL", tracking_number: "JJD000390007", tracking_url: "https://tracking.example.com/JJD000390007" };
  const before = Date.now();
  const shipped = await ship(details);
  assert.equal(shipped.status, "shipped");
  assert.ok(shipped.shipped_at, "shipped_at is set");
  const at = toDate(shipped.shipped_at).getTime();
  assert.ok(at >= before - 5000 && at <= Date.now() + 5000, `shipped_at ${shipped.shipped_at} is now`);

  stored = await pb.customer.collection("orders").getOne(order.id);
  assert.equal(stored.status, "shipped");
  assert.equal(stored.carrier, details.carrier);
  assert.equal(stored.tracking_number, details.tracking_number);
  assert.equal(stored.tracking_url, details.tracking_url);
  assert.equal(stored.shipped_at, shipped.shipped_at);
  assert.equal(stored.paid_at, order.paid_at, "paid_at is kept");
  await refused(pb.customer2.collection("orders").getOne(order.id), 404, "another customer reads the shipped order");
  shippedOrder = stored;
});

// The note support writes in the notes test.
let firstNote;

test("order_notes: support writes a note in their own name and lists it; another author, a blank or too long body are refused; nobody edits or deletes it; customers, store and guests see none, by list, view, filter or expand", async () => {
  assert.ok(shippedOrder, "the shipping test shipped an order");
  const supportId = me("support").id;
  const notes = pb.support.collection("order_notes");
  const ofOrder = pb.support.filter("order = {:id}", { id: shippedOrder.id });
  const body = "Customer asked to leave the parcel with the neighbour at number 12.";

  firstNote = await notes.create({ order: shippedOrder.id, author: supportId, body });
  assert.equal(firstNote.author, supportId);
  assert.equal(firstNote.order, shippedOrder.id);
  assert.equal(firstNote.body, body);
  assert.ok(firstNote.created);
  assert.deepEqual((await notes.getFullList({ filter: ofOrder })).map((n) => n.id), [firstNote.id], "support lists it");
  assert.equal((await notes.getOne(firstNote.id)).body, body, "support views it");

  // In someone else's name, or with no author: the create rule refuses.
  await refused(notes.create({ order: shippedOrder.id, author: me("customer").id, body: "posing as the customer" }), 400, "support writes as the customer");
  await refused(notes.create({ order: shippedOrder.id, body: "no author" }), 400, "support writes with no author");
  fieldError(await refused(notes.create({ order: shippedOrder.id, author: supportId, body: "" }), 400, "a blank note"), "body");
  fieldError(await refused(notes.create({ order: shippedOrder.id, author: supportId, body: "x".repeat(2001) }), 400, "a note of 2,001 characters"), "body");
  assert.equal((await notes.getList(1, 1, { filter: ofOrder })).totalItems, 1, "the refused creates left no note");

  // Nobody but a superuser edits or deletes a note.
  for (const name of ["support", "customer", "store", "guest"]) {
    await refused(pb[name].collection("order_notes").update(firstNote.id, { body: "rewritten" }), 403, `${name} edits a note`);
    await refused(pb[name].collection("order_notes").delete(firstNote.id), 403, `${name} deletes a note`);
  }
  const kept = await notes.getOne(firstNote.id);
  assert.equal(kept.body, body, "the note is unchanged");
  assert.equal(kept.author, supportId);

  // Customers (the order's own customer too), store and guests see none.
  for (const name of ["customer", "customer2", "store", "guest"]) {
    const list = await pb[name].collection("order_notes").getList(1, 50);
    assert.equal(list.totalItems, 0, `${name} lists no notes`);
    assert.deepEqual(list.items, []);
    await refused(pb[name].collection("order_notes").getOne(firstNote.id), 404, `${name} views a note`);
    await refused(pb[name].collection("order_notes").create({ order: shippedOrder.id, author: me(name)?.id ?? "", body: "hello" }), 400, `${name} writes a note`);
  }
  const byNote = await pb.customer.collection("orders").getList(1, 50, { filter: 'order_notes_via_order.body ~ "neighbour"' });
  assert.equal(byNote.totalItems, 0, "a customer cannot find their order by a note's text");
  const expanded = await pb.customer.collection("orders").getOne(shippedOrder.id, { expand: "order_notes_via_order" });
  assert.ok(!expanded.expand?.order_notes_via_order, `no notes expanded: ${JSON.stringify(expanded.expand)}`);
  assert.ok(!JSON.stringify(expanded).includes("neighbour"));
  const author = await pb.customer.collection("users").getList(1, 50, { filter: 'order_notes_via_author.body ~ "neighbour"' });
  assert.equal(author.totalItems, 0, "nor find a user by a note's text");

  // The superuser sees it (and is the only one who may change it).
  assert.equal((await pb.superuser.collection("order_notes").getOne(firstNote.id)).body, body);
});

test("realtime: a customer subscribed to order_notes and orders receives no note event (nor does store; a guest may not subscribe) while support writes a note on their order and a superuser edits one; support receives both", async () => {
  assert.ok(firstNote, "the notes test wrote a note");
  const support = recorder();
  const customerNotes = recorder();
  const customerOrders = recorder();
  const storeNotes = recorder();
  const guestNotes = recorder();

  // A guest follows products only: the subscription itself is refused.
  await refused(pb.guest.collection("order_notes").subscribe("*", guestNotes.cb), 403, "a guest subscribes to order_notes");
  await pb.guest.realtime.unsubscribe().catch(() => {});
  pb.guest.realtime.disconnect();

  const unsubscribe = [
    await pb.support.collection("order_notes").subscribe("*", support.cb),
    await pb.customer.collection("order_notes").subscribe("*", customerNotes.cb),
    await pb.customer.collection("order_notes").subscribe(firstNote.id, customerNotes.cb),
    await pb.customer.collection("orders").subscribe("*", customerOrders.cb),
    await pb.store.collection("order_notes").subscribe("*", storeNotes.cb),
  ];
  try {
    await sleep(200);
    assert.deepEqual(customerNotes.events, [], "subscribing itself sends the customer nothing");
    assert.deepEqual(storeNotes.events, [], "nor store");

    const second = await pb.support.collection("order_notes").create({ order: shippedOrder.id, author: me("support").id, body: "Parcel held at the depot, driver informed." });
    const created = await support.waitFor((e) => e.record?.id === second.id, 5000, "support's new note");
    assert.equal(created.action, "create");
    assert.equal(created.record.body, second.body);

    const edited = await pb.superuser.collection("order_notes").update(firstNote.id, { body: firstNote.body + " (confirmed by phone)" });
    const update = await support.waitFor((e) => e.record?.id === firstNote.id && e.action === "update", 5000, "the superuser's edit");
    assert.equal(update.record.body, edited.body);

    // A change of the customer's own order, after the notes: it proves their
    // connection delivers, and comes after any leaked note event.
    const arrival = new Date(Date.now() + 5 * 86400e3).toISOString().slice(0, 10) + " 12:00:00.000Z";
    await pb.support.collection("orders").update(shippedOrder.id, { estimated_arrival: arrival });
    await customerOrders.waitFor((e) => e.record?.id === shippedOrder.id && e.action === "update", 5000, "the customer's own order changed");
    await sleep(1500);
    assert.deepEqual(customerNotes.events, [], "the customer received no note event");
    assert.deepEqual(storeNotes.events, [], "store received no note event");
    assert.deepEqual(guestNotes.events, [], "the refused guest received nothing");
    for (const e of customerOrders.events) {
      assert.equal(e.record?.collectionName, "orders");
      assert.ok(!/depot|neighbour/.test(JSON.stringify(e)), "no note text in the customer's order events");
    }
  } finally {
    for (const u of unsubscribe) await u();
  }
});

test("timeline: support reads a shipped, partly refunded order's life oldest first (created, paid by Stripe, shipped with its carrier, the refund, the notes); customer and store 403, guest 401, unknown 404", async () => {
  assert.ok(shippedOrder, "the shipping test shipped an order");
  const refunded = await refund("support", shippedOrder.id, { amount: 500, reason: "late delivery" });
  assert.equal(refunded.status, "shipped", "a part refunded from shipped stays shipped");
  assert.equal(refunded.refunded_amount, 500);

  const { items } = await timeline("support", shippedOrder.id);
  assert.ok(Array.isArray(items) && items.length >= 6, JSON.stringify(items));
  for (const item of items) {
    assert.ok(!Number.isNaN(toDate(item.at).getTime()), `at of ${item.kind}: ${item.at}`);
    assert.equal(typeof item.kind, "string");
    assert.equal(typeof item.actor, "string");
    assert.equal(typeof item.text, "string");
    assert.equal(typeof item.data, "object");
  }
  const times = items.map((i) => toDate(i.at).getTime());
  assert.deepEqual(times, [...times].sort((a, b) => a - b), "oldest first");
  const one = (kind) => {
    const found = items.filter((i) => i.kind === kind);
    assert.equal(found.length, 1, `one ${kind} entry in ${JSON.stringify(items.map((i) => i.kind))}`);
    return found[0];
  };
  const supportName = new RegExp(logins.support.replace(".", "\\."));

  const created = one("created");
  assert.match(created.actor, new RegExp(logins.customer.replace(".", "\\.")));
  assert.equal(created.data.total, shippedOrder.total);
  assert.equal(one("paid").actor, "Stripe");
  const shipped = one("shipped");
  assert.match(shipped.actor, supportName, "support shipped it");
  assert.equal(shipped.data.carrier, "DHL");
  assert.equal(shipped.data.tracking_number, "JJD000390007");
  const refund500 = one("refund");
  assert.match(refund500.actor, supportName);
  assert.equal(refund500.data.amount, 500);
  assert.equal(refund500.data.reason, "late delivery");
  const notes = items.filter((i) => i.kind === "note");
  assert.equal(notes.length, 2, "both notes");
  assert.ok(notes.some((n) => n.data.body.includes("confirmed by phone")), "the edited note as it is now");
  assert.ok(notes.some((n) => n.data.body.includes("depot")));
  for (const n of notes) assert.match(n.actor, supportName);
  assert.ok(!items.some((i) => i.kind === "refunded"), "a part refund does not make it refunded");
  // paid_at is the Stripe event's time, in whole seconds: within the second
  // of the checkout it may read before created.
  assert.ok(toDate(one("paid").at) <= toDate(shipped.at) && toDate(created.at) <= toDate(shipped.at), "shipped after placed and paid");

  await refused(timeline("customer", shippedOrder.id), 403, "the customer reads their own order's timeline");
  await refused(timeline("store", shippedOrder.id), 403, "store reads a timeline");
  await refused(timeline("guest", shippedOrder.id), 401, "a guest reads a timeline");
  await refused(timeline("support", "nosuchorder0000"), 404, "the timeline of an unknown order");
});

test("push: store pushes a product whose Stripe push failed (202, pending, then synced by stripe-mock) and gets 409 once it is in step; customer and support 403, guest 401, unknown 404", async () => {
  const product = await pb.store.collection("products").getFirstListItem("active = false", { sort: "name" });
  // A failed push, as the background push leaves it after its last retry.
  await pb.superuser.collection("products").update(product.id, { stripe_sync: "failed" });
  assert.equal((await pb.store.collection("products").getOne(product.id)).stripe_sync, "failed");
  const push = (name, id) => pb[name].send(`/api/v1/products/${id}/push`, post("", {}));

  await refused(push("customer", product.id), 403, "a customer pushes");
  await refused(push("support", product.id), 403, "support pushes");
  await refused(push("guest", product.id), 401, "a guest pushes");
  await refused(push("store", "nosuchproduct0"), 404, "store pushes an unknown product");
  assert.equal((await pb.store.collection("products").getOne(product.id)).stripe_sync, "failed", "the refused pushes changed nothing");

  // The SDK's send hides the status: fetch, with the store's token.
  const res = await fetch(new URL(`/api/v1/products/${product.id}/push`, shop), {
    method: "POST",
    headers: { Authorization: pb.store.authStore.token, "Content-Type": "application/json" },
    body: "{}",
  });
  assert.equal(res.status, 202);
  const accepted = await res.json();
  assert.equal(accepted.product.id, product.id);
  assert.equal(accepted.product.stripe_sync, "pending");

  let synced;
  for (let i = 0; i < 50; i++) {
    synced = await pb.store.collection("products").getOne(product.id);
    if (synced.stripe_sync !== "pending") break;
    await sleep(100);
  }
  assert.equal(synced.stripe_sync, "synced", "stripe-mock took the push");
  assert.match(synced.stripe_product, /^prod_/);
  assert.match(synced.stripe_price, /^price_/);
  assert.equal(synced.active, false, "still inactive");

  const conflict = await refused(push("store", product.id), 409, "pushing a product in step with Stripe");
  assert.ok(conflict.response.message);
  assert.equal((await auditOf("product.push", product.id)).length, 1, "the push is audited once");
});

// ---- last: account deletion ---------------------------------------------

test("DELETE /api/v1/me needs the password or a recent sign-in (401 reauth_required, 403 wrong), then deletes customer2 and keeps their orders without personal data", async () => {
  const id = me("customer2").id;
  const orders = await pb.customer2.collection("orders").getFullList({ fields: "id" });
  assert.ok(orders.length > 0);

  // A superuser's impersonation token carries no sign-in time: as a
  // session older than 10 minutes, it needs the password.
  const stale = await pb.superuser.collection("users").impersonate(id, 600);
  const missing = await refused(stale.send("/api/v1/me", { method: "DELETE", body: {} }), 401, "no password, no recent sign-in");
  assert.equal(missing.response.data.password?.code, "reauth_required", `data.password in ${JSON.stringify(missing.response.data)}`);
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
