// Loaded before the renderer: its validation library (zod) probes for
// eval with Function("") unless told not to, and the page's policy forbids
// eval. jitless is zod's own switch for such pages.
"use strict";
globalThis.__zod_globalConfig = { jitless: true };
