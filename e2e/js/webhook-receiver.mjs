// A receiver of the shop's outgoing webhooks for the e2e suite
// (e2e/webhooks_test.go). Every delivery is verified with the official
// Standard Webhooks package (`standardwebhooks`, not the shop's code) and
// appended to RECEIVER_LOG as a JSON line: endpoint, webhook-id, type,
// whether it verified, what was answered, the body. Each endpoint is a
// path, /ep/NAME, told its secret and how to answer by
// POST /_control/NAME {"secret", "mode", "fail"}:
//   mode "ok"    204;
//   mode "fail"  500 to the first `fail` requests, then 204;
//   mode "gone"  410;
//   mode "hang"  never answers (the shop gives up after its timeout).
// What it was told is kept in RECEIVER_STATE, so a receiver stopped and
// started again ("down", then "up") goes on as before.
import fs from "node:fs";
import http from "node:http";
import { Webhook } from "standardwebhooks";

const port = Number(process.env.RECEIVER_PORT);
const logFile = process.env.RECEIVER_LOG;
const stateFile = process.env.RECEIVER_STATE;

const endpoints = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) : {};
const save = () => fs.writeFileSync(stateFile, JSON.stringify(endpoints));

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const server = http.createServer(async (req, res) => {
  const body = await readBody(req);
  const [, kind, name] = req.url.split("/");
  if (req.method === "POST" && kind === "_control") {
    endpoints[name] = { ...endpoints[name], ...JSON.parse(body), seen: endpoints[name]?.seen ?? 0 };
    save();
    res.writeHead(204).end();
    return;
  }
  if (req.method === "GET" && kind === "_health") {
    res.writeHead(204).end();
    return;
  }
  const ep = endpoints[name];
  if (req.method !== "POST" || kind !== "ep" || !ep) {
    res.writeHead(404).end();
    return;
  }
  let verified = false;
  let error = "";
  let type = "";
  try {
    type = new Webhook(ep.secret).verify(body, req.headers).type;
    verified = true;
  } catch (err) {
    error = String(err && err.message);
  }
  ep.seen += 1;
  let status = 204;
  if (ep.mode === "fail" && ep.seen <= ep.fail) status = 500;
  if (ep.mode === "gone") status = 410;
  if (ep.mode === "hang") status = 0;
  save();
  fs.appendFileSync(logFile, JSON.stringify({
    endpoint: name, id: req.headers["webhook-id"], type, verified, error, status, at: Date.now(), body,
  }) + "\n");
  if (status === 0) return; // hold the request open
  res.writeHead(status).end();
});
server.keepAliveTimeout = 1000;
server.listen(port, "127.0.0.1", () => console.log(`webhook receiver on ${port}`));
