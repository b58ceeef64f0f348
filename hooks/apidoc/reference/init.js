// The API reference page (/api/docs): Scalar's standalone renderer
// (pb_public/vendor/scalar-api-reference.js, pinned in package-lock.json)
// on the shop's own document. Nothing leaves the shop: no fonts, telemetry,
// proxy, AI agent or MCP of Scalar's; "Test Request" calls this shop.
"use strict";
window.Scalar.createApiReference("#reference", {
  url: "/api/v1/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  proxyUrl: "",
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: "never",
  hideClientButton: false,
  persistAuth: false,
  hideDownloadButton: false,
  documentDownloadType: "json",
  servers: [{ url: window.location.origin, description: "This shop" }],
  authentication: { preferredSecurityScheme: "pocketbaseToken" },
});
