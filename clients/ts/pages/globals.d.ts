// What the pages find in the browser besides the DOM: the JS SDK's client
// class, a global of pb_public/vendor/pocketbase.umd.js, typed by the npm
// package that file is copied from (make sdk).

import type Client from "pocketbase";

declare global {
  const PocketBase: typeof Client;
}
