// @ts-check
// The customer page: plain JavaScript on the official PocketBase JS SDK
// (vendor/pocketbase.umd.js, copied from npm by `make sdk`). No build step.
// `make typecheck` checks this file against the generated types of
// clients/ts, imported in comments (JSDoc), which cost nothing at run time.
"use strict";

/** @typedef {import("../clients/ts").TypedPocketBase} TypedPocketBase */
/** @typedef {import("../clients/ts").OrdersRecord} OrdersRecord */
/** @typedef {import("../clients/ts").Schemas["Me"]} Me */
/** @typedef {import("../clients/ts").Schemas["Dashboard"]} Dashboard */
/** @typedef {import("../clients/ts").Schemas["PurchasesPage"]} PurchasesPage */
/** @typedef {import("../clients/ts").ApiBody<"/api/v1/checkout", "post">} CheckoutBody */
/** @typedef {import("../clients/ts").ApiAnswer<"/api/v1/checkout", "post", 201>} CheckoutAnswer */
/** @typedef {import("../clients/ts").ApiAnswer<"/api/v1/downloads", "get">} Downloads */

const pb = /** @type {TypedPocketBase} */ (new PocketBase(location.origin));
// The page reloads a list both after an action and on the realtime event
// that action causes; both loads must finish, so none is auto-cancelled.
pb.autoCancellation(false);

const texts = {
  en: {
    skip: "Skip to content", navDashboard: "Dashboard", navAccount: "Account", signOut: "Sign out",
    signInTitle: "Sign in", email: "Email", password: "Password", signIn: "Sign in",
    dashboardTitle: "Your dashboard", featured: "Featured products", recentOrder: "Your latest order",
    purchases: "Purchases of the last 12 months", colProduct: "Product", colPrice: "Price", colQuantity: "Quantity",
    colArrival: "Estimated arrival", colStatus: "Status", colDate: "Date", previous: "Previous", next: "Next",
    pageOf: "Page {page} of {pages}", noPurchases: "No purchases in the last 12 months.", noOrders: "No orders yet.",
    accountTitle: "Your account", profile: "Profile", name: "Name", address: "Shipping address",
    line1: "Street and number", line2: "Apartment, suite (optional)", city: "City", region: "Region (optional)",
    postalCode: "Postal code", country: "Country (2 letters)", language: "Language",
    orderUpdates: "Email me when my orders ship", marketing: "Send me news and offers", save: "Save",
    saved: "Your profile is saved.", fixErrors: "Please correct the marked fields.",
    orders: "Orders", downloads: "Downloads", noDownloads: "No downloads yet.", download: "Download",
    yourData: "Your data", export: "Export my data", deleteLabel: "To delete your account, enter your password",
    deleteAccount: "Delete my account", deleted: "Your account is deleted.", cancel: "Cancel order",
    confirmCancel: "Cancel order {number}? A paid order is refunded.", confirmDelete: "Delete your account for good? Your orders are kept for accounting without your personal data.",
    yes: "Yes", no: "No, keep it", cancelled: "Order {number} is cancelled.", buy: "Buy",
    checkoutSuccess: "Thank you! Your payment is being confirmed; your order appears below in a moment.",
    checkoutCancelled: "Checkout cancelled: nothing was charged.", orderChanged: "Order {number} is now {status}.",
    items: "{count} items", total: "Total", arrival: "Arrives", wrongLogin: "Email or password is not right.",
    error: "Something went wrong: {message}",
    status_pending: "pending", status_paid: "paid", status_shipped: "shipped", status_delivered: "delivered",
    status_cancelled: "cancelled", status_refunded: "refunded",
    unverified: "Please confirm your email address with the link we sent you: you can order once it is confirmed.",
    resendLink: "Send the link again", linkSent: "We sent a new link to {email}.",
    history: "History", placed: "Placed", at_paid_at: "Paid", at_shipped_at: "Shipped", at_delivered_at: "Delivered",
    at_cancelled_at: "Cancelled", at_refunded_at: "Refunded", track: "Track the parcel ({carrier} {number})",
    shippedWith: "Shipped with {carrier}, tracking number {number}", receipt: "Receipt",
    sessionsTitle: "Where you are signed in", signOutAllLabel: "To sign out of all devices (this one too), enter your password",
    signOutAll: "Sign out of all devices", signedOutAll: "You are signed out of all your devices.",
    sessionEnded: "Your session has ended: for your safety a session lasts at most 30 days after you enter your password. Please sign in again.",
    signedOutElsewhere: "You were signed out (your password changed, or all sessions were ended). Please sign in again.",
    reauth: "For your safety, enter your password to make this change.",
    refundedPart: "Refunded so far: {amount}", buyAgain: "Buy again", nothingToBuy: "None of these products can be bought any more.",
  },
  es: {
    skip: "Saltar al contenido", navDashboard: "Panel", navAccount: "Cuenta", signOut: "Cerrar sesión",
    signInTitle: "Iniciar sesión", email: "Correo electrónico", password: "Contraseña", signIn: "Entrar",
    dashboardTitle: "Tu panel", featured: "Productos destacados", recentOrder: "Tu último pedido",
    purchases: "Compras de los últimos 12 meses", colProduct: "Producto", colPrice: "Precio", colQuantity: "Cantidad",
    colArrival: "Llegada estimada", colStatus: "Estado", colDate: "Fecha", previous: "Anterior", next: "Siguiente",
    pageOf: "Página {page} de {pages}", noPurchases: "Sin compras en los últimos 12 meses.", noOrders: "Aún no hay pedidos.",
    accountTitle: "Tu cuenta", profile: "Perfil", name: "Nombre", address: "Dirección de envío",
    line1: "Calle y número", line2: "Piso, puerta (opcional)", city: "Ciudad", region: "Provincia (opcional)",
    postalCode: "Código postal", country: "País (2 letras)", language: "Idioma",
    orderUpdates: "Avisarme cuando se envíen mis pedidos", marketing: "Enviarme novedades y ofertas", save: "Guardar",
    saved: "Tu perfil está guardado.", fixErrors: "Corrige los campos marcados.",
    orders: "Pedidos", downloads: "Descargas", noDownloads: "Aún no hay descargas.", download: "Descargar",
    yourData: "Tus datos", export: "Exportar mis datos", deleteLabel: "Para borrar tu cuenta, escribe tu contraseña",
    deleteAccount: "Borrar mi cuenta", deleted: "Tu cuenta está borrada.", cancel: "Cancelar pedido",
    confirmCancel: "¿Cancelar el pedido {number}? Un pedido pagado se reembolsa.", confirmDelete: "¿Borrar tu cuenta para siempre? Tus pedidos se guardan para la contabilidad sin tus datos personales.",
    yes: "Sí", no: "No, mantener", cancelled: "El pedido {number} está cancelado.", buy: "Comprar",
    checkoutSuccess: "¡Gracias! Estamos confirmando tu pago; tu pedido aparecerá enseguida.",
    checkoutCancelled: "Pago cancelado: no se ha cobrado nada.", orderChanged: "El pedido {number} ahora está {status}.",
    items: "{count} artículos", total: "Total", arrival: "Llega", wrongLogin: "El correo o la contraseña no son correctos.",
    error: "Algo ha fallado: {message}",
    status_pending: "pendiente", status_paid: "pagado", status_shipped: "enviado", status_delivered: "entregado",
    status_cancelled: "cancelado", status_refunded: "reembolsado",
    unverified: "Confirma tu correo electrónico con el enlace que te enviamos: podrás hacer pedidos en cuanto esté confirmado.",
    resendLink: "Enviar el enlace de nuevo", linkSent: "Te enviamos un enlace nuevo a {email}.",
    history: "Historial", placed: "Realizado", at_paid_at: "Pagado", at_shipped_at: "Enviado", at_delivered_at: "Entregado",
    at_cancelled_at: "Cancelado", at_refunded_at: "Reembolsado", track: "Seguir el paquete ({carrier} {number})",
    shippedWith: "Enviado con {carrier}, número de seguimiento {number}", receipt: "Recibo",
    sessionsTitle: "Dónde has iniciado sesión", signOutAllLabel: "Para cerrar la sesión en todos los dispositivos (también en este), escribe tu contraseña",
    signOutAll: "Cerrar sesión en todos los dispositivos", signedOutAll: "Has cerrado la sesión en todos tus dispositivos.",
    sessionEnded: "Tu sesión ha terminado: por seguridad, las sesiones duran como mucho 30 días desde que escribes tu contraseña. Vuelve a iniciar sesión.",
    signedOutElsewhere: "Se ha cerrado tu sesión (se cambió tu contraseña o se cerraron todas las sesiones). Vuelve a iniciar sesión.",
    reauth: "Por seguridad, escribe tu contraseña para hacer este cambio.",
    refundedPart: "Reembolsado hasta ahora: {amount}", buyAgain: "Volver a comprar", nothingToBuy: "Ninguno de estos productos se puede comprar ya.",
  },
};

const state = { lang: "en", me: /** @type {Me | null} */ (null), sort: "-created", page: 1, perPage: 10, totalPages: 1 };
const $ = (sel) => document.querySelector(sel);

function t(key, vars = {}) {
  const words = texts[state.lang] || texts.en;
  return (words[key] ?? texts.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
}

function applyLanguage(lang) {
  state.lang = texts[lang] ? lang : "en";
  document.documentElement.lang = state.lang;
  /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-i18n]")).forEach((el) => { el.textContent = t(el.dataset.i18n); });
}

// Amounts are in minor units as Stripe counts them, the lists of
// collections/currency.go: not the locale data's decimals, which are 0 for
// ISK, HUF or IDR where Stripe counts hundredths.
const zeroDecimal = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);
const threeDecimal = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

function money(minor, currency) {
  const code = currency.toLowerCase();
  const places = zeroDecimal.has(code) ? 0 : threeDecimal.has(code) ? 3 : 2;
  const amount = minor / 10 ** places;
  try {
    return new Intl.NumberFormat(state.lang, { style: "currency", currency: code.toUpperCase() }).format(amount);
  } catch {
    return `${amount.toFixed(places)} ${code.toUpperCase()}`;
  }
}

function day(value) {
  if (!value) return "—";
  return new Intl.DateTimeFormat(state.lang, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(value.replace(" ", "T")));
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [attrs] values, or listeners for the "on…" names
 * @param {...any} children nodes or text
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function notify(message, bad = false) {
  const box = $("#notice");
  box.textContent = message;
  box.classList.toggle("bad", bad);
  box.hidden = false;
}

function fail(err) {
  notify(t("error", { message: err?.response?.message || err?.message || String(err) }), true);
}

function ask(question) {
  const dialog = $("#confirm");
  $("#confirm-text").textContent = question;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
  });
}

// resendVerification asks PocketBase to email the confirmation link again.
async function resendVerification() {
  try {
    await pb.collection("users").requestVerification(state.me.email);
    notify(t("linkSent", { email: state.me.email }));
  } catch (err) {
    fail(err);
  }
}

// Screens --------------------------------------------------------------

function show(screen) {
  for (const id of ["signin", "dashboard", "account"]) $("#" + id).hidden = id !== screen;
  $("#nav").hidden = screen === "signin";
  $("#main").focus();
}

// signedOut shows the sign-in page saying why the session ended: its
// lifetime (session_expired, or a token the SDK already sees as expired),
// or a revoke or password change elsewhere.
function signedOut(reason) {
  pb.authStore.clear();
  const box = $("#signin-notice");
  box.textContent = t(reason);
  box.hidden = false;
  return route();
}

/** @param {any} err */
function endedReason(err) {
  return err?.response?.data?.session?.code === "session_expired" ? "sessionEnded" : "signedOutElsewhere";
}

async function route() {
  if (!pb.authStore.isValid) {
    applyLanguage(navigator.language?.slice(0, 2));
    if (pb.authStore.token) return signedOut("sessionEnded");
    show("signin");
    return;
  }
  try {
    state.me = await pb.send("/api/v1/me", {});
    applyLanguage(state.me.language);
    await loadFooter();
    if (location.hash === "#/account") {
      show("account");
      await loadAccount();
    } else {
      show("dashboard");
      await loadDashboard();
    }
  } catch (err) {
    if (err?.status === 401) return signedOut(endedReason(err));
    fail(err);
  }
}

async function loadFooter() {
  try {
    const shop = await pb.collection("shop").getFirstListItem("");
    $("#shop-info").textContent = ["shopdash", shop.address, shop.support_email].filter(Boolean).join(" · ");
  } catch {
    $("#shop-info").textContent = "shopdash";
  }
}

// Dashboard ------------------------------------------------------------

async function loadDashboard() {
  $("#verify").hidden = state.me.verified !== false;
  /** @type {Dashboard} */
  const data = await pb.send("/api/v1/dashboard", {});
  const featured = $("#featured");
  featured.replaceChildren(...data.featured_products.map((p) => el("li", {},
    p.image ? el("img", { src: pb.files.getURL(p, p.image, { thumb: "400x400" }), alt: "" }) : null,
    el("strong", {}, p.name),
    el("span", { class: "price" }, money(p.price, p.currency)),
    el("button", { type: "button", onclick: () => buy(p.id), "aria-label": `${t("buy")}: ${p.name}` }, t("buy")),
  )));
  renderRecent(data.recent_order);
  await loadPurchases();
}

/** @param {Dashboard["recent_order"]} order */
function renderRecent(order) {
  const box = $("#recent");
  if (!order) {
    box.replaceChildren(el("p", { class: "muted" }, t("noOrders")));
    return;
  }
  box.replaceChildren(
    el("p", {}, el("strong", {}, order.number), " · ", el("span", { class: "status", "data-status": order.status }, t("status_" + order.status)),
      " · ", day(order.created)),
    el("ul", { class: "list" }, ...(order.items || []).map((i) => el("li", {},
      el("span", {}, `${i.product_name} × ${i.quantity}`), el("span", {}, money(i.unit_price * i.quantity, order.currency))))),
    el("p", {}, `${t("total")}: ${money(order.total, order.currency)}`,
      order.estimated_arrival ? ` · ${t("arrival")}: ${day(order.estimated_arrival)}` : ""),
  );
}

async function loadPurchases() {
  const query = new URLSearchParams({ sort: state.sort, page: String(state.page), perPage: String(state.perPage) });
  /** @type {PurchasesPage} */
  const data = await pb.send("/api/v1/purchases?" + query, {});
  state.totalPages = Math.max(data.totalPages, 1);
  const rows = data.items.map((p) => el("tr", {},
    el("td", {}, p.product_name),
    el("td", { class: "num" }, money(p.unit_price, p.currency)),
    el("td", { class: "num" }, String(p.quantity)),
    el("td", {}, day(p.estimated_arrival)),
    el("td", {}, el("span", { class: "status", "data-status": p.status }, t("status_" + p.status))),
    el("td", {}, day(p.created)),
  ));
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: "6", class: "muted" }, t("noPurchases"))));
  $("#purchases tbody").replaceChildren(...rows);
  /** @type {NodeListOf<HTMLTableCellElement>} */ (document.querySelectorAll("#purchases th[data-sort]")).forEach((th) => {
    const field = th.dataset.sort;
    const sort = state.sort === field ? "ascending" : state.sort === "-" + field ? "descending" : "none";
    th.setAttribute("aria-sort", sort);
    th.querySelector(".arrow").textContent = { ascending: " ▲", descending: " ▼", none: "" }[sort];
  });
  $("#page-info").textContent = t("pageOf", { page: state.page, pages: state.totalPages });
  $("#prev").disabled = state.page <= 1;
  $("#next").disabled = state.page >= state.totalPages;
}

function sortBy(field) {
  state.sort = state.sort === field ? "-" + field : field;
  state.page = 1;
  loadPurchases().catch(fail);
}

async function buy(productId) {
  try {
    /** @type {CheckoutAnswer} */
    const res = await pb.send("/api/v1/checkout", { method: "POST", body: /** @satisfies {CheckoutBody} */ ({ items: [{ product: productId, quantity: 1 }] }) });
    location.assign(res.checkout_url);
  } catch (err) {
    fail(err);
  }
}

// Account --------------------------------------------------------------

async function loadAccount() {
  fillProfile(state.me);
  const [orders, downloads] = await Promise.all([
    pb.collection("orders").getList(1, 50, { sort: "-created", filter: pb.filter("user = {:id}", { id: state.me.id }) }),
    /** @type {Promise<Downloads>} */ (pb.send("/api/v1/downloads", {})),
  ]);
  $("#orders").replaceChildren(...(orders.items.length ? orders.items.map(orderRow) : [el("li", { class: "muted" }, t("noOrders"))]));
  $("#downloads").replaceChildren(...(downloads.items.length
    ? downloads.items.map((d) => el("li", {}, el("span", {}, `${d.product_name} · ${d.order_number}`),
      el("a", { href: d.url, download: "" }, t("download"))))
    : [el("li", { class: "muted" }, t("noDownloads"))]));
}

// orderRow is one of the customer's orders: number, date, total, status,
// and under "History" the date of each status, the tracking link once
// shipped, Stripe's receipt, what was refunded, and "buy again".
/** @param {OrdersRecord} order */
function orderRow(order) {
  const cancellable = order.status === "pending" || order.status === "paid";
  const dates = [el("li", {}, `${t("placed")}: ${day(order.created)}`)];
  for (const field of /** @type {const} */ (["paid_at", "shipped_at", "delivered_at", "cancelled_at", "refunded_at"])) {
    if (order[field]) dates.push(el("li", {}, `${t("at_" + field)}: ${day(order[field])}`));
  }
  const extra = [];
  if (order.tracking_number) {
    const words = { carrier: order.carrier, number: order.tracking_number };
    extra.push(el("p", {}, safeLink(order.tracking_url)
      ? el("a", { href: order.tracking_url, rel: "noopener noreferrer", target: "_blank" }, t("track", words))
      : t("shippedWith", words)));
  }
  if (order.refunded_amount > 0 && order.refunded_amount < order.total) {
    extra.push(el("p", {}, t("refundedPart", { amount: money(order.refunded_amount, order.currency) })));
  }
  if (safeLink(order.receipt_url)) {
    extra.push(el("p", {}, el("a", { href: order.receipt_url, rel: "noopener noreferrer", target: "_blank" }, t("receipt"))));
  }
  return el("li", { "data-order": order.id },
    el("span", {}, el("strong", {}, order.number), " · ", day(order.created), " · ", money(order.total, order.currency), " · ",
      el("span", { class: "status", "data-status": order.status }, t("status_" + order.status))),
    el("span", { class: "actions" },
      order.status !== "pending" ? el("button", { type: "button", onclick: () => buyAgain(order) }, t("buyAgain")) : null,
      cancellable ? el("button", { type: "button", class: "danger", onclick: () => cancelOrder(order) }, t("cancel")) : null),
    el("details", { class: "history" }, el("summary", {}, t("history")), el("ul", { class: "dates" }, ...dates), ...extra),
  );
}

// safeLink accepts only https links for hrefs built from order fields (the
// server allows nothing else; this keeps a javascript: link out anyway).
function safeLink(link) {
  try {
    return !!link && new URL(link).protocol === "https:";
  } catch {
    return false;
  }
}

// buyAgain starts a checkout with the order's items at today's prices
// (the server prices them). Left out: products no longer sold (the
// customer sees active products only, so their expand is empty), those
// out of stock, and downloads, which the customer owns already.
/** @param {OrdersRecord} order */
async function buyAgain(order) {
  try {
    const items = await pb.collection("order_items").getFullList({ filter: pb.filter("order = {:id}", { id: order.id }), expand: "product" });
    const lines = items.filter((i) => {
      const p = i.expand?.product;
      return p && p.active && !p.digital && p.stock > 0;
    }).map((i) => ({ product: i.product, quantity: Math.min(i.quantity, i.expand.product.stock) }));
    if (lines.length === 0) {
      notify(t("nothingToBuy"), true);
      return;
    }
    /** @type {CheckoutAnswer} */
    const res = await pb.send("/api/v1/checkout", { method: "POST", body: /** @satisfies {CheckoutBody} */ ({ items: lines }) });
    location.assign(res.checkout_url);
  } catch (err) {
    fail(err);
  }
}

/** @param {OrdersRecord} order */
async function cancelOrder(order) {
  if (!(await ask(t("confirmCancel", { number: order.number })))) return;
  try {
    await pb.send(`/api/v1/orders/${order.id}/cancel`, { method: "POST", body: /** @satisfies {import("../clients/ts").ApiBody<"/api/v1/orders/{id}/cancel", "post">} */ ({}) });
    notify(t("cancelled", { number: order.number }));
    await loadAccount();
  } catch (err) {
    fail(err);
  }
}

/** @param {Me} me */
function fillProfile(me) {
  const form = $("#profile");
  const address = me.shipping_address || {};
  form.name.value = me.name || "";
  for (const key of ["line1", "line2", "city", "region", "postal_code", "country"]) form[key].value = address[key] || "";
  form.language.value = me.language || "en";
  form.order_updates.checked = !!me.order_updates;
  form.marketing_emails.checked = !!me.marketing_emails;
}

function showFieldErrors(form, data) {
  form.querySelectorAll(".error[data-for]").forEach((p) => { p.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  const walk = (errors, path) => {
    for (const [key, value] of Object.entries(errors || {})) {
      const name = path ? `${path}.${key}` : key;
      if (value && typeof value.message === "string") {
        const slot = form.querySelector(`.error[data-for="${name}"]`) || form.querySelector(`.error[data-for="${path}"]`);
        if (slot) {
          slot.textContent = value.message;
          slot.id = slot.id || "err-" + name.replace(/\W/g, "-");
          const input = slot.parentElement.querySelector("input, select");
          if (input) {
            input.setAttribute("aria-invalid", "true");
            input.setAttribute("aria-describedby", slot.id);
          }
        }
      } else if (value && typeof value === "object") {
        walk(value, name);
      }
    }
  };
  walk(data, "");
}

async function saveProfile(event) {
  event.preventDefault();
  const form = event.target;
  const address = {};
  for (const key of ["line1", "line2", "city", "region", "postal_code", "country"]) address[key] = form[key].value.trim();
  const hasAddress = Object.values(address).some(Boolean);
  if (address.country) address.country = address.country.toUpperCase();
  try {
    const saved = await pb.collection("users").update(state.me.id, {
      name: form.name.value.trim(),
      shipping_address: hasAddress ? address : null,
      language: form.language.value,
      order_updates: form.order_updates.checked,
      marketing_emails: form.marketing_emails.checked,
    });
    showFieldErrors(form, {});
    state.me = { ...state.me, ...saved };
    applyLanguage(saved.language);
    notify(t("saved"));
  } catch (err) {
    showFieldErrors(form, err?.response?.data);
    notify(t("fixErrors"), true);
  }
}

async function exportData() {
  try {
    const res = await fetch("/api/v1/me/export", { headers: { Authorization: pb.authStore.token } });
    if (!res.ok) throw new Error(res.statusText);
    const url = URL.createObjectURL(await res.blob());
    const link = el("a", { href: url, download: `shopdash-export-${new Date().toISOString().slice(0, 10)}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  } catch (err) {
    fail(err);
  }
}

async function deleteAccount(event) {
  event.preventDefault();
  const form = event.target;
  const password = $("#delete-password").value;
  if (!(await ask(t("confirmDelete")))) return;
  try {
    await pb.send("/api/v1/me", { method: "DELETE", body: /** @satisfies {import("../clients/ts").ApiBody<"/api/v1/me", "delete">} */ ({ password }) });
    pb.authStore.clear();
    notify(t("deleted"));
    route();
  } catch (err) {
    if (err?.response?.data?.password?.code === "reauth_required") {
      notify(t("reauth"), true);
      $("#delete-password").focus();
      return;
    }
    showFieldErrors(form, err?.response?.data);
    fail(err);
  }
}

// signOutEverywhere ends every session of the account, this one too.
/** @param {SubmitEvent} event */
async function signOutEverywhere(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const password = /** @type {HTMLInputElement} */ ($("#signout-all-password")).value;
  showFieldErrors(form, {});
  try {
    await pb.send("/api/v1/me/sessions/revoke", { method: "POST", body: /** @satisfies {import("../clients/ts").ApiBody<"/api/v1/me/sessions/revoke", "post">} */ ({ password }) });
    form.reset();
    await pb.collection("orders").unsubscribe().catch(() => {});
    await signedOut("signedOutAll");
  } catch (err) {
    if (err?.status === 400) return showFieldErrors(form, err.response?.data);
    if (err?.status === 401 && !err?.response?.data?.session) {
      return showFieldErrors(form, { password: { message: err.response?.message } });
    }
    if (err?.status === 401) return signedOut(endedReason(err));
    fail(err);
  }
}

// Live updates ---------------------------------------------------------

async function subscribeOrders() {
  await pb.collection("orders").unsubscribe();
  if (!pb.authStore.isValid) return;
  await pb.collection("orders").subscribe("*", (e) => {
    notify(t("orderChanged", { number: e.record.number, status: t("status_" + e.record.status) }));
    if (!$("#dashboard").hidden) loadDashboard().catch(fail);
    if (!$("#account").hidden) loadAccount().catch(fail);
  });
}

// Wiring ---------------------------------------------------------------

function checkoutReturn() {
  const params = new URLSearchParams(location.search);
  const outcome = params.get("checkout");
  if (outcome === "success") notify(t("checkoutSuccess"));
  if (outcome === "cancelled") notify(t("checkoutCancelled"), true);
  if (outcome) history.replaceState(null, "", location.pathname + location.hash);
}

document.addEventListener("DOMContentLoaded", () => {
  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    $("#signin-error").hidden = true;
    $("#signin-notice").hidden = true;
    try {
      await pb.collection("users").authWithPassword(form.email.value.trim(), form.password.value);
      form.reset();
      await subscribeOrders();
      await route();
    } catch {
      $("#signin-error").textContent = t("wrongLogin");
      $("#signin-error").hidden = false;
    }
  });
  $("#signout").addEventListener("click", async () => {
    await pb.collection("orders").unsubscribe().catch(() => {});
    pb.authStore.clear();
    route();
  });
  document.querySelectorAll("#purchases th[data-sort] button").forEach((b) => {
    b.addEventListener("click", () => sortBy(b.closest("th").dataset.sort));
  });
  $("#prev").addEventListener("click", () => { state.page--; loadPurchases().catch(fail); });
  $("#next").addEventListener("click", () => { state.page++; loadPurchases().catch(fail); });
  $("#profile").addEventListener("submit", saveProfile);
  $("#export").addEventListener("click", exportData);
  $("#resend-verification").addEventListener("click", resendVerification);
  $("#delete-form").addEventListener("submit", deleteAccount);
  $("#signout-all-form").addEventListener("submit", signOutEverywhere);
  window.addEventListener("hashchange", route);

  checkoutReturn();
  route().then(subscribeOrders).catch(fail);
});
