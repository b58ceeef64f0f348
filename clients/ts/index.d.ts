// The shop's TypeScript types for front-end developers: the collections'
// records (collections.d.ts, generated from the migrated schema) and every
// /api/v1/ body and answer (api.d.ts, generated from the OpenAPI document
// by openapi-typescript). docs/api.md shows how to use them with the JS SDK.

import type { components, paths } from "./api.js";

export * from "./collections.js";
export type { components, operations, paths, webhooks } from "./api.js";

/** The document's named schemas: `Schemas["Dashboard"]`, `Schemas["ApiError"]`. */
export type Schemas = components["schemas"];

/** A path of the document, such as "/api/v1/dashboard". */
export type ApiPath = keyof paths;

type Operation<P extends ApiPath, M extends string> = M extends keyof paths[P] ? NonNullable<paths[P][M]> : never;

/**
 * The JSON answer of a route for a status (200 unless given):
 * `ApiAnswer<"/api/v1/purchases", "get">`, `ApiAnswer<"/api/v1/checkout", "post", 201>`.
 */
export type ApiAnswer<P extends ApiPath, M extends string, S extends number = 200> =
  Operation<P, M> extends { responses: { [K in S]: { content: { "application/json": infer T } } } } ? T : never;

/** The JSON body a route takes: `ApiBody<"/api/v1/checkout", "post">`. */
export type ApiBody<P extends ApiPath, M extends string> =
  Operation<P, M> extends { requestBody?: { content: { "application/json": infer T } } } ? T : never;
