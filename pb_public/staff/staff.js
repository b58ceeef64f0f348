// @ts-check
// The staff console at /staff/: support works the order queue, orders and
// customers; store works the catalogue. Plain JavaScript on the official
// PocketBase JS SDK (../vendor/pocketbase.umd.js), no build step, and no
// inline code: the page runs under the same Content-Security-Policy as the
// customer page. Every text goes through t(), every value into the page as
// text (el() never parses HTML).
// `make typecheck` checks this file against the generated types of
// clients/ts, imported in comments (JSDoc), which cost nothing at run time.
"use strict";

/** @typedef {import("../../clients/ts").TypedPocketBase} TypedPocketBase */
/** @typedef {import("../../clients/ts").OrdersRecord} OrdersRecord */
/** @typedef {import("../../clients/ts").OrderItemsRecord} OrderItemsRecord */
/** @typedef {import("../../clients/ts").OrderNotesRecord} OrderNotesRecord */
/** @typedef {import("../../clients/ts").ProductsRecord} ProductsRecord */
/** @typedef {import("../../clients/ts").UsersRecord} UsersRecord */
/** @typedef {import("../../clients/ts").Address} Address */
/** @typedef {import("../../clients/ts").Schemas["Me"]} Me */
/** @typedef {import("../../clients/ts").Schemas["CustomerResult"]} CustomerResult */
/** @typedef {import("../../clients/ts").Schemas["TimelineEntry"]} TimelineEntry */
/** @typedef {import("../../clients/ts").ApiAnswer<"/api/v1/orders/{id}/timeline", "get">} Timeline */

const pb = /** @type {TypedPocketBase} */ (new PocketBase(location.origin));
// A list reloads both after an action and on the realtime event that action
// causes; both loads must finish, so none is auto-cancelled.
pb.autoCancellation(false);

const texts = {
  en: {
    skip: "Skip to content", staffArea: "staff", mainNav: "Main", navOrders: "Orders", navCustomers: "Customers",
    navCatalogue: "Catalogue", language: "Language", signOut: "Sign out", dismiss: "Dismiss", loading: "Loading…",
    signInTitle: "Staff sign-in", signInIntro: "For the shop's support and catalogue team. Customers sign in on the shop's page.",
    email: "Email", password: "Password", signIn: "Sign in", wrongLogin: "Email or password is not right.",
    signInMissing: "Enter your email and password.", tooManyTries: "Too many tries. Wait a minute, then try again.",
    refusedTitle: "This page is for the shop's staff",
    refusedText: "You are signed in with a customer account. Your orders and your account are on the shop's page.",
    toShop: "Go to the shop",
    codeSent: "We emailed a sign-in code to {email}. Enter it below to finish signing in (it works for 3 minutes).",
    codeLabel: "Code from the email", finishSignIn: "Finish signing in", codeAgain: "Send a new code",
    wrongCode: "The code is not right or has expired. Check the latest email, or send a new code.", codeMissing: "Enter the code from the email.",
    sessionEnded: "Your session has ended: staff sessions last at most 12 hours after you sign in. Please sign in again.",
    signedOutElsewhere: "You were signed out (your password changed, or all your sessions were ended). Please sign in again.",
    signOutAll: "Sign out of all devices", signOutAllPrompt: "To sign out of all devices (this one too), enter your password:",
    signedOutAll: "You are signed out of all your devices.",
    error: "Something went wrong: {message}", offline: "The shop could not be reached. Check your connection and try again.",
    fixErrors: "Please correct the marked fields.", required: "Please fill this in.",
    stripeFailed: "Stripe did not answer, so nothing was changed. Please try again later. If it keeps failing, tell the shop owner.",
    goBack: "No, go back", close: "Close", yes: "Yes", no: "No", none: "—", search: "Search",
    previous: "Previous", next: "Next", pages: "Pages", pageOf: "Page {page} of {pages} · {count} in all",
    sortBy: "Sort by", sortNewest: "Newest first", sortOldest: "Oldest first", sortTotalHigh: "Highest total first",
    sortTotalLow: "Lowest total first", sortName: "Name", sortStock: "Lowest stock first", status: "Status",
    allStatuses: "All", status_pending: "Waiting for payment", status_paid: "Paid", status_shipped: "Shipped",
    status_delivered: "Delivered", status_cancelled: "Cancelled", status_refunded: "Refunded",
    // The order queue
    ordersTitle: "Orders", ordersSearch: "Order number or customer email", colOrder: "Order", colDate: "Date",
    colCustomer: "Customer", colTotal: "Total", noOrders: "No orders match.", markNew: "New", markUpdated: "Updated",
    liveNew: "New order {number}.", liveUpdated: "Order {number} changed: {status}.",
    liveOff: "Live updates are off; reload the page to see new orders.",
    // One order
    backToOrders: "← All orders", orderTitle: "Order {number}", orderMissing: "Order not found",
    notFound: "This order does not exist, or it was deleted.", summary: "Summary", placed: "Placed", total: "Total",
    refundedSoFar: "Refunded so far", arrival: "Estimated arrival", paidAt: "Paid", shippedAt: "Shipped",
    deliveredAt: "Delivered", cancelledAt: "Cancelled", cancelReason: "Reason for cancelling", refundedAt: "Refunded",
    items: "Items", colProduct: "Product", colPrice: "Price", colQuantity: "Quantity", colSubtotal: "Subtotal",
    customer: "Customer", shipTo: "Shipping address (as ordered)", noAddress: "No address given.",
    customerOrders: "All orders of this customer", shipping: "Shipping", notShipped: "Not shipped yet.",
    carrier: "Carrier", trackingNumber: "Tracking number", trackingLink: "Tracking link", openTracking: "Follow the parcel",
    payment: "Payment", paymentIntent: "Payment in Stripe", invoice: "Invoice in Stripe", session: "Checkout in Stripe",
    receipt: "Customer's receipt", noPayment: "No payment yet.", noStripeIds: "No Stripe references are stored on this order.", opensNewTab: "(opens in a new tab)",
    timeline: "History", noTimeline: "Nothing recorded yet.", timelineFailed: "The history could not be loaded: {message}",
    by: "by {actor}", kind_created: "Order placed", kind_paid: "Paid", kind_shipped: "Shipped",
    kind_delivered: "Delivered", kind_cancelled: "Cancelled", kind_refunded: "Refunded in full", kind_refund: "Refund",
    kind_note: "Note", kind_email: "Email", kind_change: "Changed",
    email_order_paid: "payment confirmation", email_order_shipped: "shipping notice",
    email_order_cancelled: "cancellation notice", email_order_refunded: "refund notice",
    email_order_partly_refunded: "partial refund notice",
    emailStatus_queued: "waiting to be sent", emailStatus_sent: "sent", emailStatus_failed: "not sent yet, trying again",
    emailStatus_dead: "could not be sent", field_estimated_arrival: "estimated arrival",
    actorSuperuser: "an administrator", actorDeleted: "a deleted account", trackingShort: "tracking {number}",
    actions: "What you can do", noActions: "An order in this status cannot be changed any more.",
    actShip: "Mark as shipped", actDeliver: "Mark as delivered", actArrival: "Set estimated arrival",
    actCancel: "Cancel order", actRefund: "Refund money",
    shipHelp: "Copy the carrier and tracking number from the shipping label. The customer gets an email with them.",
    trackingLinkOptional: "Tracking link (optional)", trackingLinkHint: "The carrier's page for this parcel, starting with https://",
    httpsOnly: "The link must start with https://", shipSubmit: "Mark as shipped…",
    confirmShipTitle: "Mark as shipped?",
    confirmShip: "Order {number} will show as shipped with {carrier}, tracking number {tracking}. The customer gets an email.",
    yesShip: "Yes, mark as shipped", shippedMsg: "Order {number} is marked as shipped.",
    confirmDeliverTitle: "Mark as delivered?",
    confirmDeliver: "Mark order {number} as delivered? Do this once the carrier shows the parcel was delivered.",
    yesDeliver: "Yes, mark as delivered", deliveredMsg: "Order {number} is marked as delivered.",
    arrivalHelp: "The date the customer sees for their delivery.", arrivalDate: "Estimated arrival date",
    arrivalSubmit: "Save the date…", confirmArrivalTitle: "Change the arrival date?",
    confirmArrival: "Set the estimated arrival of order {number} to {date}?", yesArrival: "Yes, save the date",
    arrivalMsg: "Order {number} now arrives around {date}.", pickDate: "Pick a date.",
    cancelHelpPaid: "This order is paid: cancelling it gives the customer all their money back ({amount}) through Stripe.",
    cancelHelpPending: "This order is not paid: nothing was charged, so nothing is refunded.",
    reasonLabel: "Reason", reasonHint: "Kept with the order for the team; for example, what the customer asked.",
    cancelSubmit: "Cancel order…", confirmCancelTitle: "Cancel this order?",
    confirmCancelPaid: "Cancel order {number}? It was paid, so {amount} goes back to the customer through Stripe. This cannot be undone.",
    confirmCancelPending: "Cancel order {number}? It was not paid, so nothing is charged. This cannot be undone.",
    yesCancel: "Yes, cancel the order", cancelledMsg: "Order {number} is cancelled.",
    cancelledRefundedMsg: "Order {number} is cancelled and {amount} is refunded to the customer.",
    refundHelp: "Up to {amount} can still be refunded. The money goes back to the card the customer paid with; banks take 5 to 10 working days to show it.",
    refundAmount: "Amount to refund ({currency})", refundAmountHint: "The whole remaining amount is filled in; change it to refund a part.",
    refundSubmit: "Refund…", badAmount: "Enter an amount more than 0 and at most {max}, such as {example}.",
    confirmRefundTitle: "Refund money?", confirmRefund: "Refund {amount} of order {number} to the customer? This cannot be undone.",
    confirmRefundAll: "Refund {amount}, everything that remains of order {number}? The order becomes refunded. This cannot be undone.",
    yesRefund: "Yes, refund {amount}", refundedMsg: "{amount} of order {number} is refunded to the customer.",
    nothingToRefund: "This order has nothing left to refund in its status. The server said: {message}",
    notes: "Internal notes", notesHelp: "Only staff see these notes. A note cannot be changed or deleted once saved.",
    noNotes: "No notes yet.", noteLabel: "New note", addNote: "Add note…", noteCount: "{count} of 2000 characters",
    confirmNoteTitle: "Save this note?", confirmNote: "Notes cannot be changed or deleted afterwards.",
    yesNote: "Yes, save the note", noteAdded: "Your note is saved.", colleague: "A colleague",
    notesFailed: "The notes could not be loaded: {message}", orderChangedLive: "Order {number} was just updated: {status}.",
    // Customers
    customersTitle: "Customers", customersSearch: "Customer email or name (or part of it)",
    customersHint: "Type at least 3 letters of the email or name.", customersNone: "No customer's email or name contains “{q}”.",
    customersFound: "{count} customers found", customersFound1: "1 customer found", customerMissing: "This customer does not exist, or their account was deleted.",
    name: "Name", languageOf: "Language", address: "Shipping address", since: "Customer since",
    ordersOf: "Orders", noCustomerOrders: "No orders yet.", moreOrders: "The 50 newest of {count} orders.",
    lang_en: "English", lang_es: "Spanish", lang_fr: "French", lang_de: "German",
    // The catalogue
    catalogueTitle: "Catalogue", addProduct: "Add a product", productsSearch: "Product name", show: "Show",
    showAll: "All products", showActive: "In the shop", showInactive: "Hidden from the shop", showFailed: "Not sent to Stripe",
    colStock: "Stock", colInShop: "In the shop", colFeatured: "Featured", colDigital: "Download", colStripe: "Stripe",
    colActions: "Actions", noProducts: "No products match.",
    sync_pending: "Sending", sync_synced: "Up to date", sync_failed: "Failed", sync_: "Not sent",
    pushAgain: "Push to Stripe again", pushAgainFor: "Push {name} to Stripe again",
    pushNow: "Send to Stripe now", pushNowFor: "Send {name} to Stripe now",
    pushedMsg: "{name} is being sent to Stripe.",
    stripeHelp_pending: "The product is being sent to Stripe; this takes a few seconds.",
    stripeHelp_synced: "Stripe has this product and its price: customers can pay for it.",
    stripeHelp_failed: "Sending this product to Stripe failed, so customers may not be able to pay for it. Push it again; if it fails again, tell the shop owner.",
    stripeHelp_: "Not sent to Stripe yet: customers may not be able to pay for it. Send it now.",
    // One product
    backToCatalogue: "← Catalogue", newProduct: "New product", editProduct: "Edit: {name}",
    pName: "Name", pDescription: "Description", pPrice: "Price", pPriceHint: "For example 19.99",
    pCurrency: "Currency (3 letters)", pCurrencyHint: "usd, eur, gbp…", pStock: "Units in stock", pOptions: "Options",
    pActive: "In the shop (customers can see and buy it)", pFeatured: "Featured (shown first on customers' dashboards)",
    pDigital: "Download (a file instead of a parcel)", pImage: "Picture",
    pImageHint: "JPEG, PNG, WebP, GIF or SVG, up to 5 MB.", pAsset: "File that buyers download",
    pAssetHint: "For downloads only. Up to 100 MB.", currentAsset: "Current file: {name}. Choose another file to replace it.",
    save: "Save", badPrice: "Enter a price such as {example}.", badCurrency: "Three letters, such as usd or eur.",
    badStock: "A whole number: 0 or more.", notImage: "Choose a picture: JPEG, PNG, WebP, GIF or SVG.",
    imageTooBig: "The picture is larger than 5 MB.", assetTooBig: "The file is larger than 100 MB.",
    savedMsg: "{name} is saved.", createdMsg: "{name} is added to the catalogue.",
    removeTitle: "Take it out of the shop",
    removeText: "Hiding a product keeps its sales history. Only a product that was never ordered can be deleted.",
    deactivate: "Hide from the shop…", activate: "Put back in the shop…", deleteProduct: "Delete product…",
    confirmDeactivateTitle: "Hide this product?", confirmDeactivate: "{name} will no longer be shown to customers. Its past orders are kept.",
    yesDeactivate: "Yes, hide it", deactivatedMsg: "{name} is hidden from the shop.",
    confirmActivateTitle: "Show this product again?", confirmActivate: "Show {name} in the shop again?",
    yesActivate: "Yes, show it", activatedMsg: "{name} is in the shop again.",
    confirmDeleteTitle: "Delete this product?", confirmDelete: "Delete {name} for good? This cannot be undone.",
    yesDelete: "Yes, delete it", deletedMsg: "{name} is deleted.", deactivateInstead: "Hide it from the shop instead",
    title_orders: "Orders", title_customers: "Customers", title_catalogue: "Catalogue",
  },
  es: {
    skip: "Saltar al contenido", staffArea: "personal", mainNav: "Principal", navOrders: "Pedidos", navCustomers: "Clientes",
    navCatalogue: "Catálogo", language: "Idioma", signOut: "Cerrar sesión", dismiss: "Cerrar aviso", loading: "Cargando…",
    signInTitle: "Acceso del personal", signInIntro: "Para el equipo de atención al cliente y de catálogo de la tienda. Los clientes entran en la página de la tienda.",
    email: "Correo electrónico", password: "Contraseña", signIn: "Entrar", wrongLogin: "El correo o la contraseña no son correctos.",
    signInMissing: "Escribe tu correo y tu contraseña.", tooManyTries: "Demasiados intentos. Espera un minuto y vuelve a probar.",
    refusedTitle: "Esta página es para el personal de la tienda",
    refusedText: "Has entrado con una cuenta de cliente. Tus pedidos y tu cuenta están en la página de la tienda.",
    toShop: "Ir a la tienda",
    codeSent: "Te hemos enviado un código a {email}. Escríbelo abajo para terminar de entrar (sirve durante 3 minutos).",
    codeLabel: "Código del correo", finishSignIn: "Terminar de entrar", codeAgain: "Enviar un código nuevo",
    wrongCode: "El código no es correcto o ha caducado. Mira el último correo o pide un código nuevo.", codeMissing: "Escribe el código del correo.",
    sessionEnded: "Tu sesión ha terminado: las sesiones del personal duran como mucho 12 horas desde que entras. Vuelve a entrar.",
    signedOutElsewhere: "Se ha cerrado tu sesión (se cambió tu contraseña o se cerraron todas tus sesiones). Vuelve a entrar.",
    signOutAll: "Cerrar sesión en todos los dispositivos", signOutAllPrompt: "Para cerrar la sesión en todos los dispositivos (también en este), escribe tu contraseña:",
    signedOutAll: "Has cerrado la sesión en todos tus dispositivos.",
    error: "Algo ha fallado: {message}", offline: "No se pudo conectar con la tienda. Revisa la conexión y vuelve a probar.",
    fixErrors: "Corrige los campos marcados.", required: "Rellena este campo.",
    stripeFailed: "Stripe no respondió, así que no se ha cambiado nada. Vuelve a probar más tarde. Si sigue fallando, avisa a quien lleva la tienda.",
    goBack: "No, volver", close: "Cerrar", yes: "Sí", no: "No", none: "—", search: "Buscar",
    previous: "Anterior", next: "Siguiente", pages: "Páginas", pageOf: "Página {page} de {pages} · {count} en total",
    sortBy: "Ordenar por", sortNewest: "Más recientes primero", sortOldest: "Más antiguos primero",
    sortTotalHigh: "Mayor importe primero", sortTotalLow: "Menor importe primero", sortName: "Nombre",
    sortStock: "Menos existencias primero", status: "Estado",
    allStatuses: "Todos", status_pending: "Pendiente de pago", status_paid: "Pagado", status_shipped: "Enviado",
    status_delivered: "Entregado", status_cancelled: "Cancelado", status_refunded: "Reembolsado",
    ordersTitle: "Pedidos", ordersSearch: "Número de pedido o correo del cliente", colOrder: "Pedido", colDate: "Fecha",
    colCustomer: "Cliente", colTotal: "Total", noOrders: "Ningún pedido coincide.", markNew: "Nuevo", markUpdated: "Actualizado",
    liveNew: "Pedido nuevo {number}.", liveUpdated: "El pedido {number} ha cambiado: {status}.",
    liveOff: "Las actualizaciones en directo están desactivadas; recarga la página para ver pedidos nuevos.",
    backToOrders: "← Todos los pedidos", orderTitle: "Pedido {number}", orderMissing: "Pedido no encontrado",
    notFound: "Este pedido no existe o se ha borrado.", summary: "Resumen", placed: "Realizado", total: "Total",
    refundedSoFar: "Reembolsado hasta ahora", arrival: "Llegada estimada", paidAt: "Pagado", shippedAt: "Enviado",
    deliveredAt: "Entregado", cancelledAt: "Cancelado", cancelReason: "Motivo de la cancelación", refundedAt: "Reembolsado",
    items: "Artículos", colProduct: "Producto", colPrice: "Precio", colQuantity: "Cantidad", colSubtotal: "Subtotal",
    customer: "Cliente", shipTo: "Dirección de envío (la del pedido)", noAddress: "Sin dirección.",
    customerOrders: "Todos los pedidos de este cliente", shipping: "Envío", notShipped: "Aún no se ha enviado.",
    carrier: "Transportista", trackingNumber: "Número de seguimiento", trackingLink: "Enlace de seguimiento",
    openTracking: "Seguir el paquete", payment: "Pago", paymentIntent: "Pago en Stripe", invoice: "Factura en Stripe",
    session: "Pago (checkout) en Stripe", receipt: "Recibo del cliente", noPayment: "Aún no hay pago.", noStripeIds: "Este pedido no tiene referencias de Stripe guardadas.",
    opensNewTab: "(se abre en otra pestaña)",
    timeline: "Historial", noTimeline: "Aún no hay nada registrado.", timelineFailed: "No se pudo cargar el historial: {message}",
    by: "por {actor}", kind_created: "Pedido realizado", kind_paid: "Pagado", kind_shipped: "Enviado",
    kind_delivered: "Entregado", kind_cancelled: "Cancelado", kind_refunded: "Reembolsado por completo", kind_refund: "Reembolso",
    kind_note: "Nota", kind_email: "Correo", kind_change: "Cambio",
    email_order_paid: "confirmación del pago", email_order_shipped: "aviso de envío",
    email_order_cancelled: "aviso de cancelación", email_order_refunded: "aviso de reembolso",
    email_order_partly_refunded: "aviso de reembolso parcial",
    emailStatus_queued: "pendiente de envío", emailStatus_sent: "enviado", emailStatus_failed: "aún sin enviar, se reintenta",
    emailStatus_dead: "no se pudo enviar", field_estimated_arrival: "llegada estimada",
    actorSuperuser: "un administrador", actorDeleted: "una cuenta borrada", trackingShort: "seguimiento {number}",
    actions: "Qué puedes hacer", noActions: "Un pedido en este estado ya no se puede cambiar.",
    actShip: "Marcar como enviado", actDeliver: "Marcar como entregado", actArrival: "Fijar la llegada estimada",
    actCancel: "Cancelar pedido", actRefund: "Reembolsar dinero",
    shipHelp: "Copia el transportista y el número de seguimiento de la etiqueta de envío. El cliente recibe un correo con ellos.",
    trackingLinkOptional: "Enlace de seguimiento (opcional)", trackingLinkHint: "La página del transportista para este paquete, empieza por https://",
    httpsOnly: "El enlace debe empezar por https://", shipSubmit: "Marcar como enviado…",
    confirmShipTitle: "¿Marcar como enviado?",
    confirmShip: "El pedido {number} aparecerá como enviado con {carrier}, número de seguimiento {tracking}. El cliente recibe un correo.",
    yesShip: "Sí, marcar como enviado", shippedMsg: "El pedido {number} está marcado como enviado.",
    confirmDeliverTitle: "¿Marcar como entregado?",
    confirmDeliver: "¿Marcar el pedido {number} como entregado? Hazlo cuando el transportista indique que se entregó.",
    yesDeliver: "Sí, marcar como entregado", deliveredMsg: "El pedido {number} está marcado como entregado.",
    arrivalHelp: "La fecha de entrega que ve el cliente.", arrivalDate: "Fecha estimada de llegada",
    arrivalSubmit: "Guardar la fecha…", confirmArrivalTitle: "¿Cambiar la fecha de llegada?",
    confirmArrival: "¿Fijar la llegada estimada del pedido {number} el {date}?", yesArrival: "Sí, guardar la fecha",
    arrivalMsg: "El pedido {number} llega ahora hacia el {date}.", pickDate: "Elige una fecha.",
    cancelHelpPaid: "Este pedido está pagado: al cancelarlo, el cliente recupera todo su dinero ({amount}) a través de Stripe.",
    cancelHelpPending: "Este pedido no está pagado: no se cobró nada, así que no se reembolsa nada.",
    reasonLabel: "Motivo", reasonHint: "Se guarda con el pedido para el equipo; por ejemplo, lo que pidió el cliente.",
    cancelSubmit: "Cancelar pedido…", confirmCancelTitle: "¿Cancelar este pedido?",
    confirmCancelPaid: "¿Cancelar el pedido {number}? Está pagado, así que {amount} vuelve al cliente a través de Stripe. No se puede deshacer.",
    confirmCancelPending: "¿Cancelar el pedido {number}? No está pagado, así que no se cobra nada. No se puede deshacer.",
    yesCancel: "Sí, cancelar el pedido", cancelledMsg: "El pedido {number} está cancelado.",
    cancelledRefundedMsg: "El pedido {number} está cancelado y se han reembolsado {amount} al cliente.",
    refundHelp: "Se pueden reembolsar hasta {amount}. El dinero vuelve a la tarjeta con la que pagó el cliente; los bancos tardan de 5 a 10 días laborables en mostrarlo.",
    refundAmount: "Importe a reembolsar ({currency})", refundAmountHint: "Está puesto todo lo que queda; cámbialo para reembolsar una parte.",
    refundSubmit: "Reembolsar…", badAmount: "Escribe un importe mayor que 0 y como mucho {max}, por ejemplo {example}.",
    confirmRefundTitle: "¿Reembolsar dinero?", confirmRefund: "¿Reembolsar {amount} del pedido {number} al cliente? No se puede deshacer.",
    confirmRefundAll: "¿Reembolsar {amount}, todo lo que queda del pedido {number}? El pedido pasa a reembolsado. No se puede deshacer.",
    yesRefund: "Sí, reembolsar {amount}", refundedMsg: "Se han reembolsado {amount} del pedido {number} al cliente.",
    nothingToRefund: "En su estado, este pedido no tiene nada que reembolsar. El servidor dijo: {message}",
    notes: "Notas internas", notesHelp: "Solo el personal ve estas notas. Una nota guardada no se puede cambiar ni borrar.",
    noNotes: "Aún no hay notas.", noteLabel: "Nota nueva", addNote: "Añadir nota…", noteCount: "{count} de 2000 caracteres",
    confirmNoteTitle: "¿Guardar esta nota?", confirmNote: "Las notas no se pueden cambiar ni borrar después.",
    yesNote: "Sí, guardar la nota", noteAdded: "Tu nota está guardada.", colleague: "Un compañero",
    notesFailed: "No se pudieron cargar las notas: {message}", orderChangedLive: "El pedido {number} acaba de cambiar: {status}.",
    customersTitle: "Clientes", customersSearch: "Correo o nombre del cliente (o parte)",
    customersHint: "Escribe al menos 3 letras del correo o del nombre.", customersNone: "Ningún correo ni nombre de cliente contiene «{q}».",
    customersFound: "{count} clientes encontrados", customersFound1: "1 cliente encontrado", customerMissing: "Este cliente no existe o borró su cuenta.",
    name: "Nombre", languageOf: "Idioma", address: "Dirección de envío", since: "Cliente desde",
    ordersOf: "Pedidos", noCustomerOrders: "Aún no hay pedidos.", moreOrders: "Los 50 más recientes de {count} pedidos.",
    lang_en: "inglés", lang_es: "español", lang_fr: "francés", lang_de: "alemán",
    catalogueTitle: "Catálogo", addProduct: "Añadir un producto", productsSearch: "Nombre del producto", show: "Mostrar",
    showAll: "Todos los productos", showActive: "En la tienda", showInactive: "Ocultos en la tienda", showFailed: "Sin enviar a Stripe",
    colStock: "Existencias", colInShop: "En la tienda", colFeatured: "Destacado", colDigital: "Descarga", colStripe: "Stripe",
    colActions: "Acciones", noProducts: "Ningún producto coincide.",
    sync_pending: "Enviando", sync_synced: "Al día", sync_failed: "Falló", sync_: "Sin enviar",
    pushAgain: "Enviar a Stripe de nuevo", pushAgainFor: "Enviar {name} a Stripe de nuevo",
    pushNow: "Enviar a Stripe ahora", pushNowFor: "Enviar {name} a Stripe ahora",
    pushedMsg: "{name} se está enviando a Stripe.",
    stripeHelp_pending: "El producto se está enviando a Stripe; tarda unos segundos.",
    stripeHelp_synced: "Stripe tiene este producto y su precio: los clientes pueden pagarlo.",
    stripeHelp_failed: "El envío de este producto a Stripe falló, así que puede que los clientes no puedan pagarlo. Envíalo de nuevo; si vuelve a fallar, avisa a quien lleva la tienda.",
    stripeHelp_: "Aún no se ha enviado a Stripe: puede que los clientes no puedan pagarlo. Envíalo ahora.",
    backToCatalogue: "← Catálogo", newProduct: "Producto nuevo", editProduct: "Editar: {name}",
    pName: "Nombre", pDescription: "Descripción", pPrice: "Precio", pPriceHint: "Por ejemplo 19.99",
    pCurrency: "Moneda (3 letras)", pCurrencyHint: "usd, eur, gbp…", pStock: "Unidades en existencia", pOptions: "Opciones",
    pActive: "En la tienda (los clientes lo ven y lo pueden comprar)", pFeatured: "Destacado (se muestra primero en el panel de los clientes)",
    pDigital: "Descarga (un archivo en lugar de un paquete)", pImage: "Imagen",
    pImageHint: "JPEG, PNG, WebP, GIF o SVG, hasta 5 MB.", pAsset: "Archivo que descargan los compradores",
    pAssetHint: "Solo para descargas. Hasta 100 MB.", currentAsset: "Archivo actual: {name}. Elige otro archivo para cambiarlo.",
    save: "Guardar", badPrice: "Escribe un precio como {example}.", badCurrency: "Tres letras, como usd o eur.",
    badStock: "Un número entero: 0 o más.", notImage: "Elige una imagen: JPEG, PNG, WebP, GIF o SVG.",
    imageTooBig: "La imagen ocupa más de 5 MB.", assetTooBig: "El archivo ocupa más de 100 MB.",
    savedMsg: "{name} está guardado.", createdMsg: "{name} se ha añadido al catálogo.",
    removeTitle: "Retirarlo de la tienda",
    removeText: "Ocultar un producto conserva su historial de ventas. Solo se puede borrar un producto que nunca se pidió.",
    deactivate: "Ocultar en la tienda…", activate: "Volver a mostrar en la tienda…", deleteProduct: "Borrar producto…",
    confirmDeactivateTitle: "¿Ocultar este producto?", confirmDeactivate: "{name} dejará de mostrarse a los clientes. Sus pedidos anteriores se conservan.",
    yesDeactivate: "Sí, ocultarlo", deactivatedMsg: "{name} está oculto en la tienda.",
    confirmActivateTitle: "¿Mostrar de nuevo este producto?", confirmActivate: "¿Volver a mostrar {name} en la tienda?",
    yesActivate: "Sí, mostrarlo", activatedMsg: "{name} vuelve a estar en la tienda.",
    confirmDeleteTitle: "¿Borrar este producto?", confirmDelete: "¿Borrar {name} para siempre? No se puede deshacer.",
    yesDelete: "Sí, borrarlo", deletedMsg: "{name} está borrado.", deactivateInstead: "Ocultarlo en la tienda en su lugar",
    title_orders: "Pedidos", title_customers: "Clientes", title_catalogue: "Catálogo",
  },
};

const state = {
  lang: "en",
  me: /** @type {Me | null} */ (null),
  view: "",
  // asked counts a list's loads, so that only the latest one is shown.
  orders: { page: 1, perPage: 20, q: "", status: "", sort: "-created", totalPages: 1, asked: 0 },
  products: { page: 1, perPage: 20, q: "", show: "", sort: "name", totalPages: 1, asked: 0 },
  // Orders created or changed since the page opened: id → "new" | "updated".
  marks: /** @type {Map<string, "new" | "updated">} */ (new Map()),
  order: /** @type {OrdersRecord | null} */ (null),
  // Until then, an update of the open order is this page's own doing and
  // is not announced as someone else's.
  ownChangeUntil: 0,
  product: /** @type {ProductsRecord | null} */ (null),
  // The next change of address keeps the message on screen (it is about
  // the page being opened, such as a product just added).
  keepNotice: false,
  customers: /** @type {CustomerResult[] | null} */ (null),
  customerQuery: "",
  // The second step of a staff sign-in: PocketBase's MFA id and the
  // emailed code's id.
  mfa: /** @type {{email: string, mfaId: string, otpId: string} | null} */ (null),
};
const views = ["signin", "refused", "orders", "order", "customers", "catalogue", "product"];
const $ = (sel, root = document) => root.querySelector(sel);

// Text and language -----------------------------------------------------

function t(key, vars = {}) {
  const words = texts[state.lang] || texts.en;
  return (words[key] ?? texts.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
}

// preferredLanguage: a choice made in this browser tab first, then the
// staff user's own language, then the browser's.
function preferredLanguage() {
  const chosen = sessionStorage.getItem("staff-language");
  if (texts[chosen]) return chosen;
  const own = state.me ? state.me.language : (navigator.language || "").slice(0, 2);
  return own === "es" ? "es" : "en";
}

function applyLanguage(lang) {
  state.lang = texts[lang] ? lang : "en";
  document.documentElement.lang = state.lang;
  $("#lang").value = state.lang;
  /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-i18n]")).forEach((node) => { node.textContent = t(node.dataset.i18n); });
  /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("[data-i18n-label]")).forEach((node) => { node.setAttribute("aria-label", t(node.dataset.i18nLabel)); });
}

// Amounts are in minor units as Stripe counts them, the lists of
// collections/currency.go (the customer page, app.js, keeps the same copy).
const zeroDecimal = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);
const threeDecimal = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

function decimals(currency) {
  const code = (currency || "").toLowerCase();
  return zeroDecimal.has(code) ? 0 : threeDecimal.has(code) ? 3 : 2;
}

function money(minor, currency) {
  const code = (currency || "usd").toLowerCase();
  const amount = (minor || 0) / 10 ** decimals(code);
  try {
    return new Intl.NumberFormat(state.lang, { style: "currency", currency: code.toUpperCase() }).format(amount);
  } catch {
    return `${amount.toFixed(decimals(code))} ${code.toUpperCase()}`;
  }
}

// fromMinor is an amount as typed in a form: 1999 usd → "19.99".
function fromMinor(minor, currency) {
  return ((minor || 0) / 10 ** decimals(currency)).toFixed(decimals(currency));
}

// toMinor reads a typed amount ("19.99", "19,99", "20") in minor units,
// without floating-point rounding; NaN when it is not an amount.
function toMinor(text, currency) {
  const places = decimals(currency);
  const clean = String(text).trim().replace(/\s/g, "").replace(",", ".");
  const pattern = places === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${places}})?$`);
  if (!pattern.test(clean)) return NaN;
  const [whole, fraction = ""] = clean.split(".");
  return Number(whole) * 10 ** places + Number(fraction.padEnd(places, "0") || 0);
}

const parseDate = (value) => new Date(String(value).replace(" ", "T"));

// day is a calendar date as stored (UTC), such as an estimated arrival.
function day(value) {
  if (!value) return t("none");
  return new Intl.DateTimeFormat(state.lang, { dateStyle: "medium", timeZone: "UTC" }).format(parseDate(value));
}

// moment is a point in time, shown in the browser's time zone.
function moment(value) {
  if (!value) return t("none");
  return new Intl.DateTimeFormat(state.lang, { dateStyle: "medium", timeStyle: "short" }).format(parseDate(value));
}

// Building the page -----------------------------------------------------

// el makes an element; attributes that are null, undefined or false are
// left out, children are appended as nodes or text.
/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [attrs] values, or listeners for the "on…" names
 * @param {...any} children nodes, text, or lists of them
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  node.append(...present(children));
  return node;
}

// present drops the children a condition left out, at any depth.
const present = (children) => children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false);

// keepingFocus redraws a table's rows and puts the focus back on the same
// row's link or button, so that a live update does not lose a keyboard
// user's place.
function keepingFocus(tbody, redraw) {
  const active = document.activeElement;
  const row = tbody.contains(active) ? active.closest("tr") : null;
  redraw();
  if (!row) return;
  const key = row.dataset.order ? `[data-order="${CSS.escape(row.dataset.order)}"]` : `[data-product="${CSS.escape(row.dataset.product || "")}"]`;
  tbody.querySelector(`tr${key} ${active.tagName.toLowerCase()}`)?.focus();
}

// fill replaces a node's children, as el() appends them.
function fill(node, ...children) {
  node.replaceChildren(...present(children));
}

const statusBadge = (status) => el("span", { class: "status", "data-status": status }, t("status_" + status));
const yesNo = (value) => el("span", { class: `badge ${value ? "yes" : "no"}` }, t(value ? "yes" : "no"));

// cell is a table cell that a phone shows as "label: value".
function cell(label, content, cls) {
  return el("td", { class: cls, "data-label": label }, el("span", {}, content));
}

// facts is a definition list of the pairs whose value is set.
function facts(pairs) {
  return el("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

// outLink opens another site (Stripe, a carrier) in a new tab, https only.
function outLink(url, text) {
  if (!/^https:\/\//i.test(url || "")) return null;
  return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text, el("span", { class: "sr-only" }, " " + t("opensNewTab")));
}

// field is a labelled input with its hint and error slot; name is the
// API's field name, which the server's field errors use.
/** @param {{id: string, name: string, label: string, hint?: string, input: HTMLInputElement | HTMLTextAreaElement}} options */
function field({ id, name, label, hint, input }) {
  input.id = id;
  input.name = name;
  const hintEl = hint ? el("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return el("div", { class: "field" }, el("label", { for: id }, label), input, hintEl, el("p", { class: "error", "data-for": name }));
}

function formError() {
  return el("p", { class: "error form-error", role: "alert", "data-for": "_form" });
}

// Messages --------------------------------------------------------------

function notify(message, { bad = false, focus = false } = {}) {
  const box = $("#notice");
  $("#notice-text").textContent = message;
  box.classList.toggle("bad", bad);
  box.setAttribute("role", bad ? "alert" : "status");
  box.hidden = false;
  if (focus) box.focus();
}

function clearNotice() {
  $("#notice").hidden = true;
}

function errorMessage(err) {
  if (err?.status === 0) return t("offline");
  if (err?.status === 502) return t("stripeFailed");
  return err?.response?.message || err?.message || String(err);
}

function fail(err) {
  if (err?.status === 401) {
    signOut(err?.response?.data?.session?.code === "session_expired" ? "sessionEnded" : "signedOutElsewhere");
    return;
  }
  notify(err?.status === 502 ? t("stripeFailed") : t("error", { message: errorMessage(err) }), { bad: true, focus: true });
}

// showFieldErrors puts each message next to its field (PocketBase's
// `data: {field: {code, message}}`, or plain strings from the page's own
// checks); a message without a field goes to the form's "_form" slot. The
// first field in error gets the focus.
function showFieldErrors(form, errors = {}) {
  form.querySelectorAll(".error[data-for]").forEach((p) => { p.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((input) => {
    input.removeAttribute("aria-invalid");
    if (input.dataset.describedby) input.setAttribute("aria-describedby", input.dataset.describedby);
    else input.removeAttribute("aria-describedby");
  });
  let first = null;
  for (const [name, value] of Object.entries(errors)) {
    const message = typeof value === "string" ? value : value?.message;
    if (!message) continue;
    const slot = form.querySelector(`.error[data-for="${CSS.escape(name)}"]`) || form.querySelector('.error[data-for="_form"]');
    if (!slot) continue;
    slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input && slot.dataset.for === name) {
      slot.id = slot.id || `${form.id}-${name}-error`;
      input.dataset.describedby ??= input.getAttribute("aria-describedby") || "";
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", [input.dataset.describedby, slot.id].filter(Boolean).join(" "));
      first ??= input;
    }
  }
  first?.focus();
}

// showServerError shows a refused request in its form: field messages
// beside their fields, the rest in the form's own slot.
function showServerError(form, err, messages = {}) {
  if (err?.status === 401) {
    fail(err);
    return;
  }
  const data = err?.response?.data || {};
  const hasFields = Object.keys(data).length > 0;
  showFieldErrors(form, { ...data, _form: messages[err?.status] || (hasFields ? t("fixErrors") : errorMessage(err)) });
}

// ask shows a confirmation and resolves true for yes; the focus starts on
// the safe answer and returns where it was.
function ask({ title, text, yes, danger = false }) {
  const dialog = $("#confirm");
  const opener = document.activeElement;
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-yes").textContent = yes;
  $("#confirm-yes").className = danger ? "danger" : "";
  dialog.returnValue = "";
  dialog.showModal();
  $("#confirm-no").focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(dialog.returnValue === "yes");
    }, { once: true });
  });
}

// changing marks the open order as being changed from this page.
function changing() {
  state.ownChangeUntil = Date.now() + 5000;
}

// busy disables a button while its request runs.
async function busy(button, work) {
  if (button) button.disabled = true;
  try {
    return await work();
  } finally {
    if (button) button.disabled = false;
  }
}

// Screens ---------------------------------------------------------------

const can = (/** @type {Me["permissions"][number]} */ permission) => Boolean(state.me?.permissions?.includes(permission));
const isSupport = () => can("update:orders");
const isStore = () => can("update:products");

function parseHash() {
  const [view = "", id = ""] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { view, id };
}

function show(view) {
  $("#loading").hidden = true;
  for (const id of views) $("#" + id).hidden = id !== view;
  state.view = view;
  const staff = isSupport() || isStore();
  $("#nav").hidden = !staff;
  $('#nav a[data-view="orders"]').hidden = !isSupport();
  $('#nav a[data-view="customers"]').hidden = !isSupport();
  $('#nav a[data-view="catalogue"]').hidden = !isStore();
  const section = { order: "orders", product: "catalogue" }[view] || view;
  document.querySelectorAll("#nav a").forEach((/** @type {HTMLAnchorElement} */ a) => {
    if (a.dataset.view === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  $("#signout").hidden = !state.me;
  $("#signout-all").hidden = !state.me;
  $("#who").textContent = state.me ? state.me.name || state.me.email : "";
  document.title = (t("title_" + section) !== "title_" + section ? t("title_" + section) + " · " : "") + "shopdash";
}

function focusHeading() {
  const heading = $(`#${state.view} h1`);
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}

// route shows the screen the address names, if the signed-in user may see
// it. focus: move the focus to its heading (not on a live update).
async function route({ focus = true } = {}) {
  if (!pb.authStore.isValid) {
    state.me = null;
    applyLanguage(preferredLanguage());
    show("signin");
    if (focus) $("#signin-email").focus();
    return;
  }
  if (!state.me) {
    try {
      state.me = await pb.send("/api/v1/me", {});
    } catch (err) {
      if (err?.status === 401) {
        pb.authStore.clear();
        return route({ focus });
      }
      throw err;
    }
    applyLanguage(preferredLanguage());
    if (isSupport() || isStore()) await subscribe();
  }
  if (!isSupport() && !isStore()) {
    show("refused");
    if (focus) focusHeading();
    return;
  }
  const { view, id } = parseHash();
  const allowed = [...(isSupport() ? ["orders", "customers"] : []), ...(isStore() ? ["catalogue"] : [])];
  if (!allowed.includes(view)) {
    location.replace("#/" + allowed[0]);
    return;
  }
  if (view === "orders" && id) {
    show("order");
    await loadOrder(id);
  } else if (view === "orders") {
    show("orders");
    await loadOrders();
  } else if (view === "customers") {
    show("customers");
    await loadCustomers(id);
  } else if (view === "catalogue" && id) {
    show("product");
    await loadProduct(id === "new" ? null : id);
  } else {
    show("catalogue");
    await loadProducts();
  }
  if (focus) focusHeading();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const message = $("#signin-error");
  message.textContent = "";
  const email = form.email.value.trim();
  if (!email || !form.password.value) {
    message.textContent = t("signInMissing");
    return;
  }
  $("#signin-notice").hidden = true;
  try {
    await busy(form.querySelector("button"), () => pb.collection("users").authWithPassword(email, form.password.value));
  } catch (err) {
    if (err?.status === 401 && err?.response?.mfaId) {
      // The second factor (staff, SHOPDASH_STAFF_MFA): a code by email.
      state.mfa = { email, mfaId: err.response.mfaId, otpId: "" };
      form.reset();
      await sendCode().catch((e) => { $("#code-error").textContent = e?.status === 429 ? t("tooManyTries") : errorMessage(e); });
      return;
    }
    message.textContent = err?.status === 429 ? t("tooManyTries") : err?.status === 0 ? t("offline") : t("wrongLogin");
    return;
  }
  await signedIn(form);
}

async function signedIn(form) {
  form.reset();
  clearNotice();
  state.me = null;
  state.mfa = null;
  $("#code-form").hidden = true;
  $("#signin-form").hidden = false;
  await route();
}

// sendCode mails a one-time code for the second step and shows its form.
async function sendCode() {
  const mfa = /** @type {{email: string, mfaId: string, otpId: string}} */ (state.mfa);
  $("#signin-form").hidden = true;
  $("#code-form").hidden = false;
  $("#code-error").textContent = "";
  $("#code-sent").textContent = t("codeSent", { email: mfa.email });
  $("#signin-code").focus();
  const { otpId } = await pb.collection("users").requestOTP(mfa.email);
  mfa.otpId = otpId;
}

/** @param {SubmitEvent} event */
async function enterCode(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const mfa = state.mfa;
  const code = form.code.value.trim();
  $("#code-error").textContent = "";
  if (!mfa || !code) {
    $("#code-error").textContent = t("codeMissing");
    return;
  }
  try {
    await busy(form.querySelector("button"), () => pb.collection("users").authWithOTP(mfa.otpId, code, { mfaId: mfa.mfaId }));
  } catch (err) {
    $("#code-error").textContent = err?.status === 429 ? t("tooManyTries") : err?.status === 0 ? t("offline") : t("wrongCode");
    return;
  }
  await signedIn(form);
}

// signOutEverywhere ends every session of the account, this one too,
// after asking for the password.
async function signOutEverywhere() {
  const password = prompt(t("signOutAllPrompt"));
  if (!password) return;
  try {
    await pb.send("/api/v1/me/sessions/revoke", { method: "POST", body: /** @satisfies {import("../../clients/ts").ApiBody<"/api/v1/me/sessions/revoke", "post">} */ ({ password }) });
  } catch (err) {
    if (err?.status === 401 && !err?.response?.data?.session) {
      notify(errorMessage(err), { bad: true, focus: true });
      return;
    }
    throw err;
  }
  await signOut("signedOutAll");
}

/** @param {string} [reason] a text key saying why, shown on the sign-in page */
async function signOut(reason) {
  await pb.realtime.unsubscribe().catch(() => {});
  pb.authStore.clear();
  Object.assign(state, { me: null, order: null, product: null, customers: null, customerQuery: "" });
  state.marks.clear();
  clearNotice();
  history.replaceState(null, "", location.pathname);
  $("#signin-notice").textContent = reason ? t(reason) : "";
  $("#signin-notice").hidden = !reason;
  await route();
}

// Live updates ----------------------------------------------------------

async function subscribe() {
  await pb.realtime.unsubscribe().catch(() => {});
  try {
    if (isSupport()) await pb.collection("orders").subscribe("*", onOrderEvent);
    if (isStore()) await pb.collection("products").subscribe("*", onProductEvent);
  } catch {
    $("#orders-live").textContent = t("liveOff");
  }
}

// later runs fn once, ms after the last call for the same key: a burst of
// events (or an action and its own event) makes one reload.
const timers = {};
function later(key, fn, ms = 250) {
  clearTimeout(timers[key]);
  timers[key] = setTimeout(() => { fn().catch(fail); }, ms);
}

function onOrderEvent(e) {
  const order = e.record;
  if (e.action === "create") state.marks.set(order.id, "new");
  else if (e.action === "update" && state.marks.get(order.id) !== "new") state.marks.set(order.id, "updated");
  else if (e.action === "delete") state.marks.delete(order.id);
  if (state.view === "orders") {
    $("#orders-live").textContent = t(e.action === "create" ? "liveNew" : "liveUpdated",
      { number: order.number, status: t("status_" + order.status) });
    later("orders", loadOrders);
  }
  if (state.view === "order" && state.order?.id === order.id && e.action === "update") {
    state.marks.delete(order.id);
    if (Date.now() > state.ownChangeUntil) {
      notify(t("orderChangedLive", { number: order.number, status: t("status_" + order.status) }));
    }
    later("order", () => refreshOrder(order.id));
  }
}

function onProductEvent(e) {
  const product = e.record;
  if (state.view === "catalogue") later("products", loadProducts);
  if (state.view === "product" && state.product?.id === product.id && e.action === "update") {
    state.product = product;
    renderProductState(product);
  }
}

// The order queue -------------------------------------------------------

async function loadOrders() {
  const o = state.orders;
  const filters = [];
  if (o.q) filters.push(pb.filter("(number ~ {:q} || customer_email ~ {:q})", { q: o.q }));
  if (o.status) filters.push(pb.filter("status = {:status}", { status: o.status }));
  const sort = o.sort.endsWith("created") ? o.sort : `${o.sort},-created`;
  const asked = ++o.asked;
  const list = await pb.collection("orders").getList(o.page, o.perPage, { filter: filters.join(" && "), sort });
  if (asked !== o.asked) return; // a newer search is on its way
  o.totalPages = Math.max(list.totalPages, 1);
  const rows = list.items.map(orderRow);
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: "5", class: "empty" }, t("noOrders"))));
  keepingFocus($("#orders-table tbody"), () => fill($("#orders-table tbody"), ...rows));
  $("#orders-page").textContent = t("pageOf", { page: o.page, pages: o.totalPages, count: list.totalItems });
  $("#orders-prev").disabled = o.page <= 1;
  $("#orders-next").disabled = o.page >= o.totalPages;
}

/** @param {OrdersRecord} order */
function orderRow(order) {
  const mark = state.marks.get(order.id);
  return el("tr", { class: mark ? "marked" : null, "data-order": order.id },
    cell(t("colOrder"), [el("a", { href: `#/orders/${encodeURIComponent(order.id)}` }, order.number),
      mark ? [" ", el("span", { class: `badge ${mark}` }, t(mark === "new" ? "markNew" : "markUpdated"))] : null], "main"),
    cell(t("colDate"), moment(order.created)),
    cell(t("colCustomer"), [order.customer_name || "", order.customer_name ? el("br") : null,
      el("span", { class: "muted" }, order.customer_email || t("none"))], "wide"),
    cell(t("colTotal"), money(order.total, order.currency), "num"),
    cell(t("status"), statusBadge(order.status)),
  );
}

function readOrderFilters() {
  const form = $("#orders-filter");
  Object.assign(state.orders, { q: form.q.value.trim(), status: form.status.value, sort: form.sort.value, page: 1 });
  loadOrders().catch(fail);
}

// One order -------------------------------------------------------------

/** @type {Record<string, (order: OrdersRecord) => boolean>} */
const orderActions = {
  ship: (o) => o.status === "paid",
  deliver: (o) => o.status === "shipped",
  arrival: (o) => o.status === "paid" || o.status === "shipped",
  cancel: (o) => o.status === "pending" || o.status === "paid",
  refund: (o) => ["paid", "shipped", "delivered"].includes(o.status) && remaining(o) > 0,
};
const remaining = (/** @type {OrdersRecord} */ order) => Math.max(0, (order.total || 0) - (order.refunded_amount || 0));

async function loadOrder(id) {
  state.marks.delete(id);
  state.order = null;
  $("#order-title").textContent = t("loading");
  fill($("#order-body"));
  /** @type {OrdersRecord} */
  let order;
  try {
    order = await pb.collection("orders").getOne(id);
  } catch (err) {
    if (err?.status !== 404) throw err;
    $("#order-title").textContent = t("orderMissing");
    fill($("#order-body"), el("p", {}, t("notFound")));
    return;
  }
  const [items, timeline, notes] = await Promise.allSettled([
    pb.collection("order_items").getFullList({ filter: pb.filter("order = {:id}", { id }) }),
    fetchTimeline(id),
    fetchNotes(id),
  ]);
  if (items.status === "rejected") throw items.reason;
  state.order = order;
  const left = el("div", {},
    el("div", { class: "card", id: "order-summary" }),
    el("div", { class: "card", id: "order-items" }),
    el("div", { class: "card", id: "order-customer" }),
    el("div", { class: "card", id: "order-shipping" }),
    el("div", { class: "card", id: "order-payment" }),
    el("div", { class: "card", id: "order-timeline" }));
  const right = el("div", {},
    el("div", { class: "card", id: "order-actions" }),
    el("div", { class: "card", id: "order-notes" }));
  fill($("#order-body"), left, right);
  renderOrderFacts(order, timeline);
  renderItems(order, items.value);
  renderActions(order);
  renderNotes(notes);
}

const fetchTimeline = (id) => /** @type {Promise<Timeline>} */ (pb.send(`/api/v1/orders/${encodeURIComponent(id)}/timeline`, {}));
const fetchNotes = (id) => pb.collection("order_notes").getFullList({
  filter: pb.filter("order = {:id}", { id }), sort: "created", expand: "author",
});

// refreshOrder redraws what an update changes without touching a form
// being filled in: the actions are redrawn only when none is open.
async function refreshOrder(id) {
  if (state.view !== "order" || state.order?.id !== id) return;
  const [order, [timeline, notes]] = await Promise.all([
    pb.collection("orders").getOne(id),
    Promise.allSettled([fetchTimeline(id), fetchNotes(id)]),
  ]);
  if (state.view !== "order" || state.order?.id !== id) return;
  const statusChanged = order.status !== state.order.status;
  state.order = order;
  renderOrderFacts(order, timeline);
  renderNotes(notes, { keepForm: true });
  if (statusChanged || !$("#order-actions form:not([hidden])")) renderActions(order);
}

/**
 * @param {OrdersRecord} order
 * @param {PromiseSettledResult<Timeline>} timeline
 */
function renderOrderFacts(order, timeline) {
  fill($("#order-title"), t("orderTitle", { number: order.number }), " ", statusBadge(order.status));
  document.title = `${t("orderTitle", { number: order.number })} · shopdash`;
  const refunded = order.refunded_amount || 0;
  fill($("#order-summary"), el("h2", {}, t("summary")), facts([
    [t("status"), statusBadge(order.status)],
    [t("placed"), moment(order.created)],
    [t("total"), money(order.total, order.currency)],
    [t("refundedSoFar"), refunded > 0 ? money(refunded, order.currency) : null],
    [t("arrival"), order.estimated_arrival ? day(order.estimated_arrival) : null],
    [t("paidAt"), order.paid_at ? moment(order.paid_at) : null],
    [t("shippedAt"), order.shipped_at ? moment(order.shipped_at) : null],
    [t("deliveredAt"), order.delivered_at ? moment(order.delivered_at) : null],
    [t("cancelledAt"), order.cancelled_at ? moment(order.cancelled_at) : null],
    [t("cancelReason"), order.cancel_reason || null],
    [t("refundedAt"), order.refunded_at ? moment(order.refunded_at) : null],
  ]));

  /** @type {Partial<Address>} */
  const a = order.shipping_address || {};
  const cityLine = [a.postal_code, a.city, a.region].filter(Boolean).join(" ");
  const addressLines = [a.line1, a.line2, cityLine, a.country].filter(Boolean);
  fill($("#order-customer"), el("h2", {}, t("customer")), facts([
    [t("name"), order.customer_name || t("none")],
    [t("email"), order.customer_email ? el("a", { href: `mailto:${order.customer_email}` }, order.customer_email) : t("none")],
    [t("shipTo"), addressLines.length ? el("address", {}, addressLines.flatMap((line, i) => (i ? [el("br"), line] : [line]))) : t("noAddress")],
  ]), order.user ? el("p", {}, el("a", { href: `#/customers/${encodeURIComponent(order.user)}` }, t("customerOrders"))) : null);

  fill($("#order-shipping"), el("h2", {}, t("shipping")), order.carrier || order.tracking_number ? facts([
    [t("carrier"), order.carrier || t("none")],
    [t("trackingNumber"), order.tracking_number || t("none")],
    [t("trackingLink"), outLink(order.tracking_url, t("openTracking"))],
  ]) : el("p", { class: "muted" }, t("notShipped")));

  const stripe = (path, id) => (/^[\w-]+$/.test(id || "") ? outLink(`https://dashboard.stripe.com/${path}/${id}`, id) : null);
  const payment = [
    [t("paymentIntent"), stripe("payments", order.stripe_payment_intent)],
    [t("invoice"), stripe("invoices", order.stripe_invoice)],
    [t("session"), stripe("checkout/sessions", order.stripe_session)],
    [t("receipt"), outLink(order.receipt_url, t("receipt"))],
  ];
  fill($("#order-payment"), el("h2", {}, t("payment")),
    payment.some(([, v]) => v) ? facts(payment) : el("p", { class: "muted" }, t(order.status === "pending" ? "noPayment" : "noStripeIds")));

  const box = $("#order-timeline");
  if (timeline.status === "rejected") {
    fill(box, el("h2", {}, t("timeline")), el("p", { class: "error" }, t("timelineFailed", { message: errorMessage(timeline.reason) })));
    return;
  }
  const entries = timeline.value?.items || [];
  fill(box, el("h2", {}, t("timeline")), entries.length
    ? el("ol", { class: "timeline" }, entries.map((entry) => timelineEntry(entry, order)))
    : el("p", { class: "muted" }, t("noTimeline")));
}

// timelineEntry says one event of the order's life in the page's language,
// from the details the server sends with it (its own text is English).
/**
 * @param {TimelineEntry} entry
 * @param {OrdersRecord} order
 */
function timelineEntry(entry, order) {
  /** @type {{amount?: number, currency?: string, total?: number, carrier?: string, tracking_number?: string, reason?: string, body?: string, template?: string, status?: string, fields?: string[]}} */
  const data = entry.data || {};
  const known = Boolean(texts.en["kind_" + entry.kind]);
  const amount = data.amount;
  const currency = data.currency || order.currency;
  const translated = (prefix, value) => (value && texts.en[prefix + value] ? t(prefix + value) : value);
  const details = {
    created: [data.total ? money(data.total, currency) : null],
    shipped: [data.carrier, data.tracking_number ? t("trackingShort", { number: data.tracking_number }) : null],
    cancelled: [data.reason],
    refund: [amount ? money(amount, currency) : null, data.reason],
    note: [data.body],
    email: [translated("email_", data.template), translated("emailStatus_", data.status)],
    change: [(data.fields || []).map((f) => translated("field_", f) || f).join(", ")],
  }[entry.kind] || [amount ? money(amount, currency) : null];
  if (!known && entry.text) details.unshift(entry.text);
  const actor = { "a superuser": t("actorSuperuser"), "a deleted account": t("actorDeleted") }[entry.actor] || entry.actor;
  return el("li", { "data-kind": entry.kind },
    el("span", { class: "when" }, moment(entry.at)),
    el("span", { class: "what" }, known ? t("kind_" + entry.kind) : entry.kind),
    details.filter(Boolean).map((d) => ` · ${d}`),
    actor ? el("span", { class: "muted" }, ` · ${t("by", { actor })}`) : null);
}

/**
 * @param {OrdersRecord} order
 * @param {OrderItemsRecord[]} items
 */
function renderItems(order, items) {
  const rows = items.map((i) => el("tr", {},
    cell(t("colProduct"), i.product_name, "main"),
    cell(t("colPrice"), money(i.unit_price, order.currency), "num"),
    cell(t("colQuantity"), String(i.quantity), "num"),
    cell(t("colSubtotal"), money(i.unit_price * i.quantity, order.currency), "num")));
  fill($("#order-items"), el("h2", {}, t("items")), el("div", { class: "table-wrap" }, el("table", { class: "stack pairs" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("colProduct")), el("th", { scope: "col", class: "num" }, t("colPrice")),
      el("th", { scope: "col", class: "num" }, t("colQuantity")), el("th", { scope: "col", class: "num" }, t("colSubtotal")))),
    el("tbody", {}, rows),
    el("tfoot", {}, el("tr", {}, el("th", { scope: "row", colspan: "3" }, t("total")),
      el("td", { class: "num" }, money(order.total, order.currency)))))));
}

// renderActions shows a button for each action the order's status allows;
// a button opens its form (one at a time), and every form asks before it
// changes anything.
/** @param {OrdersRecord} order */
function renderActions(order) {
  const box = $("#order-actions");
  const builders = { ship: shipForm, arrival: arrivalForm, cancel: cancelForm, refund: refundForm };
  const labels = { ship: "actShip", deliver: "actDeliver", arrival: "actArrival", cancel: "actCancel", refund: "actRefund" };
  const allowed = Object.keys(orderActions).filter((name) => orderActions[name](order));
  const panels = allowed.filter((name) => builders[name]).map((name) => {
    const form = builders[name](order);
    form.hidden = true;
    return form;
  });
  const buttons = allowed.map((name) => {
    if (name === "deliver") {
      return el("button", { type: "button", class: "secondary", id: "action-deliver", onclick: (e) => markDelivered(order, e.currentTarget) }, t(labels[name]));
    }
    return el("button", {
      type: "button", class: name === "cancel" || name === "refund" ? "secondary danger-text" : "secondary",
      id: `action-${name}`, "aria-expanded": "false", "aria-controls": `${name}-form`,
      onclick: (e) => togglePanel(name, e.currentTarget),
    }, t(labels[name]));
  });
  fill(box, el("h2", {}, t("actions")),
    allowed.length ? el("div", { class: "buttons" }, buttons) : el("p", { class: "muted" }, t("noActions")), panels);
}

function togglePanel(name, button) {
  const open = button.getAttribute("aria-expanded") !== "true";
  document.querySelectorAll("#order-actions [aria-expanded]").forEach((b) => b.setAttribute("aria-expanded", "false"));
  /** @type {NodeListOf<HTMLFormElement>} */ (document.querySelectorAll("#order-actions form")).forEach((f) => { f.hidden = true; });
  if (!open) return;
  button.setAttribute("aria-expanded", "true");
  const form = $(`#${name}-form`);
  form.hidden = false;
  form.querySelector("input, textarea")?.focus();
}

// actionForm is the frame of an action's form: a help text, the fields,
// the form's error slot, the submit button and a button that closes it.
function actionForm(name, { help, fields, submit, danger = false, onsubmit }) {
  return el("form", { id: `${name}-form`, class: "panel", novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    onsubmit(event.currentTarget, event.submitter).catch(fail);
  } },
  help ? el("p", { class: "muted" }, help) : null, fields, formError(),
  el("div", { class: "buttons" },
    el("button", { type: "submit", class: danger ? "danger" : null }, submit),
    el("button", { type: "button", class: "secondary", onclick: () => togglePanel(name, $(`#action-${name}`)) }, t("close"))));
}

// afterAction shows the result, closes the action's form and redraws the
// order once, with the realtime event the action causes.
async function afterAction(message) {
  notify(message, { focus: true });
  /** @type {NodeListOf<HTMLFormElement>} */ (document.querySelectorAll("#order-actions form")).forEach((f) => { f.hidden = true; });
  const id = state.order.id;
  later("order", () => refreshOrder(id));
}

/** @param {OrdersRecord} order */
function shipForm(order) {
  return actionForm("ship", {
    help: t("shipHelp"),
    fields: [
      field({ id: "ship-carrier", name: "carrier", label: t("carrier"), input: el("input", { required: true, maxlength: "100", autocomplete: "off" }) }),
      field({ id: "ship-tracking", name: "tracking_number", label: t("trackingNumber"), input: el("input", { required: true, maxlength: "100", autocomplete: "off" }) }),
      field({ id: "ship-url", name: "tracking_url", label: t("trackingLinkOptional"), hint: t("trackingLinkHint"), input: el("input", { type: "url", autocomplete: "off" }) }),
    ],
    submit: t("shipSubmit"),
    onsubmit: async (form, button) => {
      const carrier = form.carrier.value.trim();
      const tracking = form.tracking_number.value.trim();
      const url = form.tracking_url.value.trim();
      const errors = {};
      if (!carrier) errors.carrier = t("required");
      if (!tracking) errors.tracking_number = t("required");
      if (url && !/^https:\/\/\S+$/i.test(url)) errors.tracking_url = t("httpsOnly");
      showFieldErrors(form, errors);
      if (Object.keys(errors).length) return;
      if (!(await ask({ title: t("confirmShipTitle"), text: t("confirmShip", { number: order.number, carrier, tracking }), yes: t("yesShip") }))) return;
      try {
        changing();
        await busy(button, () => pb.collection("orders").update(order.id, /** @satisfies {Partial<OrdersRecord>} */ ({ status: "shipped", carrier, tracking_number: tracking, tracking_url: url })));
      } catch (err) {
        showServerError(form, err);
        return;
      }
      await afterAction(t("shippedMsg", { number: order.number }));
    },
  });
}

/**
 * @param {OrdersRecord} order
 * @param {HTMLButtonElement} button
 */
async function markDelivered(order, button) {
  if (!(await ask({ title: t("confirmDeliverTitle"), text: t("confirmDeliver", { number: order.number }), yes: t("yesDeliver") }))) return;
  try {
    changing();
    await busy(button, () => pb.collection("orders").update(order.id, /** @satisfies {Partial<OrdersRecord>} */ ({ status: "delivered" })));
  } catch (err) {
    fail(err);
    return;
  }
  await afterAction(t("deliveredMsg", { number: order.number }));
}

/** @param {OrdersRecord} order */
function arrivalForm(order) {
  const current = order.estimated_arrival ? String(order.estimated_arrival).slice(0, 10) : "";
  return actionForm("arrival", {
    help: t("arrivalHelp"),
    fields: [field({ id: "arrival-date", name: "estimated_arrival", label: t("arrivalDate"), input: el("input", { type: "date", required: true, value: current }) })],
    submit: t("arrivalSubmit"),
    onsubmit: async (form, button) => {
      const value = form.estimated_arrival.value;
      showFieldErrors(form, value ? {} : { estimated_arrival: t("pickDate") });
      if (!value) return;
      const stored = `${value} 12:00:00.000Z`;
      if (!(await ask({ title: t("confirmArrivalTitle"), text: t("confirmArrival", { number: order.number, date: day(stored) }), yes: t("yesArrival") }))) return;
      try {
        changing();
        await busy(button, () => pb.collection("orders").update(order.id, /** @satisfies {Partial<OrdersRecord>} */ ({ estimated_arrival: stored })));
      } catch (err) {
        showServerError(form, err);
        return;
      }
      await afterAction(t("arrivalMsg", { number: order.number, date: day(stored) }));
    },
  });
}

/** @param {OrdersRecord} order */
function cancelForm(order) {
  const paid = order.status === "paid";
  const amount = money(remaining(order), order.currency);
  return actionForm("cancel", {
    help: paid ? t("cancelHelpPaid", { amount }) : t("cancelHelpPending"),
    fields: [field({ id: "cancel-reason", name: "reason", label: t("reasonLabel"), hint: t("reasonHint"), input: el("textarea", { rows: "2", required: true, maxlength: "500" }) })],
    submit: t("cancelSubmit"),
    danger: true,
    onsubmit: async (form, button) => {
      const reason = form.reason.value.trim();
      showFieldErrors(form, reason ? {} : { reason: t("required") });
      if (!reason) return;
      const text = paid ? t("confirmCancelPaid", { number: order.number, amount }) : t("confirmCancelPending", { number: order.number });
      if (!(await ask({ title: t("confirmCancelTitle"), text, yes: t("yesCancel"), danger: true }))) return;
      try {
        changing();
        await busy(button, () => pb.send(`/api/v1/orders/${encodeURIComponent(order.id)}/cancel`, { method: "POST",
          body: /** @satisfies {import("../../clients/ts").ApiBody<"/api/v1/orders/{id}/cancel", "post">} */ ({ reason }) }));
      } catch (err) {
        showServerError(form, err);
        return;
      }
      await afterAction(paid ? t("cancelledRefundedMsg", { number: order.number, amount }) : t("cancelledMsg", { number: order.number }));
    },
  });
}

/** @param {OrdersRecord} order */
function refundForm(order) {
  const left = remaining(order);
  const upper = order.currency.toUpperCase();
  return actionForm("refund", {
    help: t("refundHelp", { amount: money(left, order.currency) }),
    fields: [
      field({ id: "refund-amount", name: "amount", label: t("refundAmount", { currency: upper }), hint: t("refundAmountHint"),
        input: el("input", { inputmode: "decimal", autocomplete: "off", required: true, value: fromMinor(left, order.currency) }) }),
      field({ id: "refund-reason", name: "reason", label: t("reasonLabel"), hint: t("reasonHint"), input: el("textarea", { rows: "2", required: true, maxlength: "500" }) }),
    ],
    submit: t("refundSubmit"),
    danger: true,
    onsubmit: async (form, button) => {
      const amount = toMinor(form.amount.value, order.currency);
      const reason = form.reason.value.trim();
      const errors = {};
      if (!(amount > 0 && amount <= left)) {
        errors.amount = t("badAmount", { max: money(left, order.currency), example: fromMinor(Math.min(left, 10 ** decimals(order.currency) * 10), order.currency) });
      }
      if (!reason) errors.reason = t("required");
      showFieldErrors(form, errors);
      if (Object.keys(errors).length) return;
      const shown = money(amount, order.currency);
      const text = amount === left ? t("confirmRefundAll", { amount: shown, number: order.number }) : t("confirmRefund", { amount: shown, number: order.number });
      if (!(await ask({ title: t("confirmRefundTitle"), text, yes: t("yesRefund", { amount: shown }), danger: true }))) return;
      try {
        changing();
        await busy(button, () => pb.send(`/api/v1/orders/${encodeURIComponent(order.id)}/refund`, { method: "POST",
          body: /** @satisfies {import("../../clients/ts").ApiBody<"/api/v1/orders/{id}/refund", "post">} */ ({ amount, reason }) }));
      } catch (err) {
        showServerError(form, err, {
          409: t("nothingToRefund", { message: err?.response?.message || "" }),
          502: t("stripeFailed"),
        });
        return;
      }
      await afterAction(t("refundedMsg", { amount: shown, number: order.number }));
    },
  });
}

// renderNotes lists the order's notes, oldest first, and the form that adds
// one (kept as typed when keepForm).
/** @param {PromiseSettledResult<OrderNotesRecord[]>} notes */
function renderNotes(notes, { keepForm = false } = {}) {
  const box = $("#order-notes");
  const list = notes.status === "rejected"
    ? el("p", { class: "error" }, t("notesFailed", { message: errorMessage(notes.reason) }))
    : notes.value.length
      ? el("ul", { class: "notes", id: "notes-list" }, notes.value.map((note) => {
        const author = note.expand?.author;
        return el("li", {},
          el("span", { class: "muted" }, `${author ? author.name || author.email : t("colleague")} · ${moment(note.created)}`),
          el("p", { class: "body" }, note.body));
      }))
      : el("p", { class: "muted", id: "notes-list" }, t("noNotes"));
  const existing = $("#note-form");
  if (keepForm && existing) {
    fill(box, el("h2", {}, t("notes")), el("p", { class: "hint" }, t("notesHelp")), list, existing);
    return;
  }
  const counter = el("p", { class: "hint counter", id: "note-count", "aria-live": "polite" }, t("noteCount", { count: 0 }));
  const textarea = el("textarea", { rows: "3", maxlength: "2000", required: true,
    oninput: (e) => { counter.textContent = t("noteCount", { count: e.target.value.length }); } });
  const form = el("form", { id: "note-form", novalidate: true, onsubmit: (event) => { event.preventDefault(); addNote(event.currentTarget, event.submitter).catch(fail); } },
    field({ id: "note-body", name: "body", label: t("noteLabel"), input: textarea }), counter, formError(),
    el("button", { type: "submit" }, t("addNote")));
  textarea.setAttribute("aria-describedby", "note-count");
  fill(box, el("h2", {}, t("notes")), el("p", { class: "hint" }, t("notesHelp")), list, form);
}

async function addNote(form, button) {
  const body = form.body.value.trim();
  showFieldErrors(form, body ? {} : { body: t("required") });
  if (!body) return;
  if (!(await ask({ title: t("confirmNoteTitle"), text: t("confirmNote"), yes: t("yesNote") }))) return;
  try {
    changing();
    await busy(button, () => pb.collection("order_notes").create(
      /** @satisfies {Partial<OrderNotesRecord>} */ ({ order: state.order.id, author: state.me.id, body })));
  } catch (err) {
    showServerError(form, err);
    return;
  }
  form.reset();
  $("#note-count").textContent = t("noteCount", { count: 0 });
  notify(t("noteAdded"));
  const id = state.order.id;
  later("order", () => refreshOrder(id));
}

// Customers -------------------------------------------------------------

async function loadCustomers(id) {
  $("#customers-q").value = state.customerQuery;
  renderCustomerResults();
  if (!id) {
    fill($("#customer-detail"));
    return;
  }
  await showCustomer(id);
}

async function searchCustomers(event) {
  event.preventDefault();
  const q = $("#customers-q").value.trim();
  state.customerQuery = q;
  if (q.length < 3) {
    state.customers = null;
    fill($("#customer-results"), el("p", { class: "muted", role: "status" }, t("customersHint")));
    return;
  }
  state.customers = await findCustomers(q);
  renderCustomerResults();
  if (parseHash().id) {
    history.replaceState(null, "", "#/customers");
    fill($("#customer-detail"));
  }
}

// findCustomers finds up to 20 customers whose email or name holds q,
// through GET /api/v1/customers: PocketBase's records API lets only
// superusers filter users by an email they have not made public.
async function findCustomers(q) {
  /** @type {import("../../clients/ts").ApiAnswer<"/api/v1/customers", "get">} */
  const res = await pb.send("/api/v1/customers", { query: { q } });
  return res.items;
}

function renderCustomerResults() {
  const box = $("#customer-results");
  if (!state.customers) {
    fill(box);
    return;
  }
  fill(box, el("p", { class: "muted", role: "status" }, state.customers.length
    ? t(state.customers.length === 1 ? "customersFound1" : "customersFound", { count: state.customers.length })
    : t("customersNone", { q: state.customerQuery })),
  state.customers.length ? el("ul", { class: "results card" }, state.customers.map((u) => el("li", {},
    el("span", {}, el("a", { href: `#/customers/${encodeURIComponent(u.id)}` }, u.email || u.id), u.name ? ` · ${u.name}` : ""),
    el("span", { class: "muted" }, `${t("since")} ${day(u.created)}`)))) : null);
}

async function showCustomer(id) {
  const box = $("#customer-detail");
  /** @type {UsersRecord} */
  let user;
  try {
    user = await pb.collection("users").getOne(id);
  } catch (err) {
    if (err?.status !== 404) throw err;
    fill(box, el("p", { class: "card" }, t("customerMissing")));
    return;
  }
  const orders = await pb.collection("orders").getList(1, 50, { filter: pb.filter("user = {:id}", { id }), sort: "-created" });
  /** @type {Partial<Address>} */
  const a = user.shipping_address || {};
  const lines = [a.line1, a.line2, [a.postal_code, a.city, a.region].filter(Boolean).join(" "), a.country].filter(Boolean);
  const rows = orders.items.map((o) => el("tr", {},
    cell(t("colOrder"), el("a", { href: `#/orders/${encodeURIComponent(o.id)}` }, o.number), "main"),
    cell(t("colDate"), moment(o.created)),
    cell(t("colTotal"), money(o.total, o.currency), "num"),
    cell(t("status"), statusBadge(o.status))));
  fill(box, el("div", { class: "card", id: "customer-card" },
    el("h2", { id: "customer-name", tabindex: "-1" }, user.name || user.email),
    facts([
      [t("name"), user.name || t("none")],
      [t("email"), user.email ? el("a", { href: `mailto:${user.email}` }, user.email) : t("none")],
      [t("languageOf"), t("lang_" + (user.language || "en"))],
      [t("address"), lines.length ? el("address", {}, lines.flatMap((line, i) => (i ? [el("br"), line] : [line]))) : t("noAddress")],
      [t("since"), day(user.created)],
    ]),
    el("h3", {}, t("ordersOf")),
    rows.length ? el("div", { class: "table-wrap" }, el("table", { class: "stack" },
      el("thead", {}, el("tr", {}, [t("colOrder"), t("colDate"), t("colTotal"), t("status")].map((h, i) => el("th", { scope: "col", class: i === 2 ? "num" : null }, h)))),
      el("tbody", {}, rows))) : el("p", { class: "muted" }, t("noCustomerOrders")),
    orders.totalItems > orders.items.length ? el("p", { class: "muted" }, t("moreOrders", { count: orders.totalItems })) : null));
}

// The catalogue ---------------------------------------------------------

async function loadProducts() {
  const p = state.products;
  const filters = [];
  if (p.q) filters.push(pb.filter("name ~ {:q}", { q: p.q }));
  if (p.show === "active") filters.push("active = true");
  if (p.show === "inactive") filters.push("active = false");
  if (p.show === "failed") filters.push('(stripe_sync = "failed" || stripe_sync = "")');
  const sort = p.sort === "name" ? "name,id" : `${p.sort},name`;
  const asked = ++p.asked;
  const list = await pb.collection("products").getList(p.page, p.perPage, { filter: filters.join(" && "), sort });
  if (asked !== p.asked) return; // a newer search is on its way
  p.totalPages = Math.max(list.totalPages, 1);
  const rows = list.items.map(productRow);
  if (rows.length === 0) rows.push(el("tr", {}, el("td", { colspan: "8", class: "empty" }, t("noProducts"))));
  keepingFocus($("#products-table tbody"), () => fill($("#products-table tbody"), ...rows));
  $("#products-page").textContent = t("pageOf", { page: p.page, pages: p.totalPages, count: list.totalItems });
  $("#products-prev").disabled = p.page <= 1;
  $("#products-next").disabled = p.page >= p.totalPages;
}

const syncBadge = (sync) => el("span", { class: `badge sync-${sync || "pending"}` }, t("sync_" + (sync || "")));

/** @param {ProductsRecord} product */
function productRow(product) {
  return el("tr", { "data-product": product.id },
    cell(t("colProduct"), [
      product.image ? el("img", { class: "thumb", src: pb.files.getURL(product, product.image, { thumb: "400x400" }), alt: "" }) : null,
      el("a", { href: `#/catalogue/${encodeURIComponent(product.id)}` }, product.name)], "main"),
    cell(t("colPrice"), money(product.price, product.currency), "num"),
    cell(t("colStock"), String(product.stock ?? 0), "num"),
    cell(t("colInShop"), yesNo(product.active)),
    cell(t("colFeatured"), yesNo(product.featured)),
    cell(t("colDigital"), yesNo(product.digital)),
    cell(t("colStripe"), syncBadge(product.stripe_sync)),
    pushable(product)
      ? cell(t("colActions"), pushButton(product), "wide")
      : el("td", {}));
}

// A product Stripe failed to take, or never got, can be pushed now.
const pushable = (/** @type {ProductsRecord} */ product) => product.stripe_sync === "failed" || !product.stripe_sync;

/**
 * @param {ProductsRecord} product
 * @param {string} [id]
 */
function pushButton(product, id) {
  const again = product.stripe_sync === "failed";
  return el("button", { type: "button", class: "secondary", id,
    "aria-label": t(again ? "pushAgainFor" : "pushNowFor", { name: product.name }),
    onclick: (e) => pushAgain(product, e.currentTarget) }, t(again ? "pushAgain" : "pushNow"));
}

/**
 * @param {ProductsRecord} product
 * @param {HTMLButtonElement} button
 */
async function pushAgain(product, button) {
  /** @type {import("../../clients/ts").ApiAnswer<"/api/v1/products/{id}/push", "post", 202>} */
  let answer;
  try {
    answer = await busy(button, () => pb.send(`/api/v1/products/${encodeURIComponent(product.id)}/push`, { method: "POST" }));
  } catch (err) {
    fail(err);
    return;
  }
  notify(t("pushedMsg", { name: product.name }));
  if (state.view === "product" && answer?.product) {
    state.product = answer.product;
    renderProductState(answer.product);
  } else if (state.view === "catalogue") {
    await loadProducts();
  }
}

function readProductFilters() {
  const form = $("#products-filter");
  Object.assign(state.products, { q: form.q.value.trim(), show: form.show.value, sort: form.sort.value, page: 1 });
  loadProducts().catch(fail);
}

// One product -----------------------------------------------------------

const imageTypes = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/svg+xml"];

async function loadProduct(id) {
  const form = $("#product-form");
  form.reset();
  showFieldErrors(form, {});
  $("#delete-refused").hidden = true;
  state.product = id ? await pb.collection("products").getOne(id) : null;
  /** @type {Partial<ProductsRecord>} */
  const p = state.product || { currency: "usd", price: 0, stock: 0, active: true };
  form.name.value = p.name || "";
  form.description.value = p.description || "";
  form.currency.value = p.currency || "usd";
  form.price.value = state.product ? fromMinor(p.price, p.currency) : "";
  form.stock.value = String(p.stock ?? 0);
  form.active.checked = Boolean(p.active);
  form.featured.checked = Boolean(p.featured);
  form.digital.checked = Boolean(p.digital);
  const preview = $("#p-image-preview");
  preview.hidden = !p.image;
  if (p.image) preview.src = pb.files.getURL(p, p.image, { thumb: "400x400" });
  else preview.removeAttribute("src");
  $("#p-asset-hint").textContent = p.asset ? t("currentAsset", { name: p.asset }) : t("pAssetHint");
  $("#p-asset-field").hidden = !form.digital.checked;
  $("#product-title").textContent = state.product ? t("editProduct", { name: p.name }) : t("newProduct");
  document.title = `${$("#product-title").textContent} · shopdash`;
  $("#product-danger").hidden = !state.product;
  $("#product-stripe").hidden = !state.product;
  if (state.product) renderProductState(state.product);
}

// renderProductState shows what changes without the form: the Stripe
// state and whether the product is in the shop.
/** @param {ProductsRecord} product */
function renderProductState(product) {
  const box = $("#product-stripe");
  const sync = product.stripe_sync || "";
  fill(box, el("h2", {}, t("colStripe"), " ", syncBadge(sync)), el("p", { class: "muted" }, t("stripeHelp_" + sync)),
    pushable(product) ? pushButton(product, "push-again") : null);
  $("#product-toggle").textContent = t(product.active ? "deactivate" : "activate");
}

function previewImage(event) {
  const form = $("#product-form");
  const file = event.target.files[0];
  const preview = $("#p-image-preview");
  const problem = file && (!imageTypes.includes(file.type) ? t("notImage") : file.size > 5 << 20 ? t("imageTooBig") : "");
  showFieldErrors(form, problem ? { image: problem } : {});
  if (!file || problem) return;
  // A data: URL, as the page's policy allows no blob: images.
  const reader = new FileReader();
  reader.addEventListener("load", () => {
    preview.src = reader.result;
    preview.hidden = false;
  });
  reader.readAsDataURL(file);
}

async function saveProduct(event) {
  event.preventDefault();
  const form = event.target;
  const name = form.name.value.trim();
  const currency = form.currency.value.trim().toLowerCase();
  const validCurrency = /^[a-z]{3}$/.test(currency);
  const price = toMinor(form.price.value, validCurrency ? currency : "usd");
  const stock = form.stock.value.trim() === "" ? 0 : Number(form.stock.value);
  const image = form.image.files[0];
  const asset = form.digital.checked ? form.asset.files[0] : undefined;
  const errors = {};
  if (!name) errors.name = t("required");
  if (!Number.isFinite(price)) errors.price = t("badPrice", { example: fromMinor(1999, validCurrency ? currency : "usd") });
  if (!validCurrency) errors.currency = t("badCurrency");
  if (!Number.isInteger(stock) || stock < 0) errors.stock = t("badStock");
  if (image && !imageTypes.includes(image.type)) errors.image = t("notImage");
  else if (image && image.size > 5 << 20) errors.image = t("imageTooBig");
  if (asset && asset.size > 100 << 20) errors.asset = t("assetTooBig");
  if (Object.keys(errors).length) {
    showFieldErrors(form, { ...errors, _form: t("fixErrors") });
    return;
  }
  const data = new FormData();
  data.append("name", name);
  data.append("description", form.description.value.trim());
  data.append("price", String(price));
  data.append("currency", currency);
  data.append("stock", String(stock));
  for (const flag of ["active", "featured", "digital"]) data.append(flag, form[flag].checked ? "true" : "false");
  if (image) data.append("image", image);
  if (asset) data.append("asset", asset);
  let saved;
  try {
    saved = await busy($("#product-save"), () => (state.product
      ? pb.collection("products").update(state.product.id, data)
      : pb.collection("products").create(data)));
  } catch (err) {
    showServerError(form, err);
    return;
  }
  showFieldErrors(form, {});
  notify(t(state.product ? "savedMsg" : "createdMsg", { name: saved.name }));
  if (state.product) {
    await loadProduct(saved.id);
  } else {
    state.keepNotice = true;
    location.hash = `#/catalogue/${encodeURIComponent(saved.id)}`;
  }
}

async function setActive(active) {
  const product = state.product;
  const prefix = active ? "Activate" : "Deactivate";
  if (!(await ask({ title: t(`confirm${prefix}Title`), text: t(`confirm${prefix}`, { name: product.name }), yes: t(`yes${prefix}`), danger: !active }))) return;
  await busy($("#product-toggle"), () => pb.collection("products").update(product.id, /** @satisfies {Partial<ProductsRecord>} */ ({ active })));
  await loadProduct(product.id);
  notify(t(active ? "activatedMsg" : "deactivatedMsg", { name: product.name }), { focus: true });
}

async function deleteProduct() {
  const product = state.product;
  if (!(await ask({ title: t("confirmDeleteTitle"), text: t("confirmDelete", { name: product.name }), yes: t("yesDelete"), danger: true }))) return;
  try {
    await busy($("#product-delete"), () => pb.collection("products").delete(product.id));
  } catch (err) {
    const refusal = err?.status === 400 ? err.response?.data?.active?.message : "";
    if (!refusal) throw err;
    $("#delete-refused-text").textContent = refusal;
    $("#deactivate-instead").hidden = !product.active;
    $("#delete-refused").hidden = false;
    (product.active ? $("#deactivate-instead") : $("#product-delete")).focus();
    return;
  }
  notify(t("deletedMsg", { name: product.name }));
  state.keepNotice = true;
  location.hash = "#/catalogue";
}

// Wiring ----------------------------------------------------------------

// debounce calls fn ms after the last call; cancel() drops a pending call
// (a search sent with the button needs no second one as typed).
function debounce(fn, ms) {
  let timer;
  const call = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  call.cancel = () => clearTimeout(timer);
  return call;
}

document.addEventListener("DOMContentLoaded", () => {
  $("#skip").addEventListener("click", (e) => {
    e.preventDefault();
    $("#main").focus();
  });
  $("#lang").addEventListener("change", (e) => {
    sessionStorage.setItem("staff-language", e.target.value);
    applyLanguage(e.target.value);
    route({ focus: false }).catch(fail);
  });
  $("#notice-close").addEventListener("click", clearNotice);
  $("#signin-form").addEventListener("submit", (e) => { signIn(e).catch(fail); });
  $("#signout").addEventListener("click", () => { signOut().catch(fail); });
  $("#signout-all").addEventListener("click", () => { signOutEverywhere().catch(fail); });
  $("#code-form").addEventListener("submit", (e) => { enterCode(e).catch(fail); });
  $("#code-again").addEventListener("click", () => { sendCode().catch((e) => { $("#code-error").textContent = e?.status === 429 ? t("tooManyTries") : errorMessage(e); }); });
  $("#refused-signout").addEventListener("click", () => { signOut().catch(fail); });

  const typedOrderSearch = debounce(readOrderFilters, 400);
  $("#orders-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    typedOrderSearch.cancel();
    readOrderFilters();
  });
  $("#orders-q").addEventListener("input", typedOrderSearch);
  $("#orders-status").addEventListener("change", readOrderFilters);
  $("#orders-sort").addEventListener("change", readOrderFilters);
  $("#orders-prev").addEventListener("click", () => { state.orders.page--; loadOrders().catch(fail); });
  $("#orders-next").addEventListener("click", () => { state.orders.page++; loadOrders().catch(fail); });

  $("#customers-filter").addEventListener("submit", (e) => { searchCustomers(e).catch(fail); });

  const typedProductSearch = debounce(readProductFilters, 400);
  $("#products-filter").addEventListener("submit", (e) => {
    e.preventDefault();
    typedProductSearch.cancel();
    readProductFilters();
  });
  $("#products-q").addEventListener("input", typedProductSearch);
  $("#products-show").addEventListener("change", readProductFilters);
  $("#products-sort").addEventListener("change", readProductFilters);
  $("#products-prev").addEventListener("click", () => { state.products.page--; loadProducts().catch(fail); });
  $("#products-next").addEventListener("click", () => { state.products.page++; loadProducts().catch(fail); });

  $("#product-form").addEventListener("submit", (e) => { saveProduct(e).catch(fail); });
  $("#p-image").addEventListener("change", previewImage);
  $("#p-digital").addEventListener("change", (e) => { $("#p-asset-field").hidden = !e.target.checked; });
  $("#p-currency").addEventListener("change", (e) => { e.target.value = e.target.value.trim().toLowerCase(); });
  $("#product-toggle").addEventListener("click", () => { setActive(!state.product.active).catch(fail); });
  $("#product-delete").addEventListener("click", () => { deleteProduct().catch(fail); });
  $("#deactivate-instead").addEventListener("click", () => {
    $("#delete-refused").hidden = true;
    setActive(false).catch(fail);
  });

  window.addEventListener("hashchange", () => {
    if (!state.keepNotice) clearNotice();
    state.keepNotice = false;
    route().catch(fail);
  });
  route().catch(fail);
});
