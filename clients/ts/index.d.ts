// The shop's TypeScript types for front-end developers: the collections'
// records (collections.d.ts, generated from the migrated schema) and every
// /api/v1/ body and answer (api.d.ts, generated from the OpenAPI document
// by openapi-typescript). docs/api.md shows how to use them with the JS SDK.

export * from "./collections.js";
