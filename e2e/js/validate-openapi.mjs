// Validates an OpenAPI document with @seriousme/openapi-schema-validator,
// a validator independent of the kin-openapi the Go tests use. The
// document is a file, or a URL to fetch (the running shop's).
// Usage: node e2e/js/validate-openapi.mjs hooks/apidoc/openapi.json
import { Validator } from "@seriousme/openapi-schema-validator";

const where = process.argv[2];
const spec = /^https?:/.test(where) ? await (await fetch(where)).json() : where;
const validator = new Validator();
const result = await validator.validate(spec);
console.log(JSON.stringify({ validator: "@seriousme/openapi-schema-validator", version: validator.version, ...result }));
process.exit(result.valid ? 0 : 1);
