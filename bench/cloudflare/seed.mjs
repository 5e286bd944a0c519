// The whole-request benchmark: the seed scenario as edgegw renders it for Cloudflare (edgegw.js) beside the
// same behaviour as a Hono app (hono.js, two variants: the JWK passed to hono/jwt as documented, and a
// CryptoKey imported once), each in its own workerd through miniflare, proxying to one loopback origin.
// Usage: node bench/cloudflare/seed.mjs DIR [ROUNDS] [REQUESTS]   (DIR from go run ./bench/cloudflare -seed DIR)
//
// Method. Before timing, the same requests go to every app and must be decided alike (a proxied request
// with what the origin receives, a missing and an expired token, a refused path, the 101st request of a
// subject in a minute). Then each round sends REQUESTS sequential requests (keep-alive, one at a time) to
// each app in turn, so the apps share the machine's noise; a request is GET /v2/users/ID with a valid RS256
// token of one of 399 subjects (cycled, so none reaches its limit) and a header the transform removes.
// Per request it takes the wall-clock time from node and the CPU time workerd spent, read from the
// scheduler's per-thread run time (/proc/PID/task/*/schedstat, in ns) of that app's workerd process before
// and after the request. workerd's clocks are frozen inside a request, so nothing is timed from inside.
// Time per request is the median over rounds of each round's mean; CPU p50/p99 are over every request;
// each ratio divides two figures of the same run. A fourth Worker, the floor (a Durable Object call and the
// origin's answer passed through, nothing else), shows how much of each figure is workerd's own.
import { createRequire } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import { pathToFileURL } from "node:url";
import http from "node:http";
import path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, "../../render/cloudflare/workerd/package.json"));
const { Miniflare } = await import(pathToFileURL(require.resolve("miniflare")).href);

const dir = process.argv[2];
const ROUNDS = Number(process.argv[3] || "7");
const REQUESTS = Number(process.argv[4] || "400");
const seed = JSON.parse(readFileSync(path.join(dir, "seed.json"), "utf8"));
// hono's exports map hides its package.json from require: read it beside the workerd package's node_modules.
const honoVersion = JSON.parse(readFileSync(path.join(here, "../../render/cloudflare/workerd/node_modules/hono/package.json"), "utf8")).version;

// The origin: answers 200 with a Server header (which both apps must remove) and records what it got.
let lastSeen = null;
const origin = http.createServer((req, res) => {
  lastSeen = { url: req.url, headers: req.headers };
  res.writeHead(200, { "Content-Type": "text/plain", Server: "origin/1.0" });
  res.end("origin ok\n");
});
await new Promise((r) => origin.listen(0, "127.0.0.1", r));
const originURL = `http://127.0.0.1:${origin.address().port}`;

function workerdChildren() {
  const out = new Set();
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === process.pid && readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd") out.add(Number(p));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

// cpuNs is the run time of every thread of pid so far.
function cpuNs(pid) {
  let sum = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

// floor is the least a Worker of this shape does: one Durable Object call with a storage read and write,
// then the origin's answer passed through. Its row shows what of a request is workerd's own cost.
const floor = `import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  async hit() { const n = ((await this.ctx.storage.get("n")) || 0) + 1; await this.ctx.storage.put("n", n); return n; }
}
export default {
  async fetch(request, env) {
    const u = new URL(request.url);
    await env.COUNTER.get(env.COUNTER.idFromName("k")).hit();
    const r = await fetch("${seed.origin}/internal" + u.pathname + u.search, { headers: request.headers });
    return new Response(r.body, r);
  },
};`;

async function start(name, file, options) {
  const before = workerdChildren();
  const source = file === null ? floor : readFileSync(path.join(dir, file), "utf8");
  const script = source.split(seed.origin).join(originURL);
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: "worker.js", contents: script }],
    compatibilityDate: "2024-09-23",
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    ...options,
  });
  await mf.ready;
  const url = await mf.unsafeGetDirectURL();
  const pids = [...workerdChildren()].filter((p) => !before.has(p));
  if (pids.length !== 1) throw new Error(`${name}: found ${pids.length} new workerd processes, want 1`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return { name, mf, pid: pids[0], port: Number(url.port), agent };
}

const apps = [
  await start("edgegw", "edgegw.js", { durableObjects: { EDGEGW_STATE: "EdgegwState" } }),
  await start("hono-jwk", "hono.js", { durableObjects: { LIMITER: "Limiter" }, bindings: { MODE: "jwk" } }),
  await start("hono-cryptokey", "hono.js", { durableObjects: { LIMITER: "Limiter" }, bindings: { MODE: "cryptokey" } }),
  await start("floor", null, { durableObjects: { COUNTER: "Counter" } }),
];

function send(app, target, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: app.port, path: target, method: "GET", agent: app.agent,
      headers: { Host: "api.example.com", "CF-Connecting-IP": "203.0.113.7", ...headers } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

const bearer = (t) => ({ Authorization: "Bearer " + t });
const timedTokens = seed.tokens.slice(0, seed.tokens.length - 1);
const limitToken = seed.tokens[seed.tokens.length - 1];

// check sends the same requests to every app and fails on any difference in what a client or the origin
// would notice.
async function check(app) {
  const problems = [];
  const expect = (what, ok) => {
    if (!ok) problems.push(what);
  };
  lastSeen = null;
  let r = await send(app, "/v2/users/42?x=1", { ...bearer(timedTokens[0]), "X-Internal-Debug": "1", "X-Request-ID": "client-chosen" });
  expect(`proxied: status ${r.status}`, r.status === 200 && r.body === "origin ok\n");
  expect("proxied: HSTS", r.headers["strict-transport-security"] === "max-age=63072000; includeSubDomains; preload");
  expect("proxied: Server removed", r.headers.server === undefined);
  const seen = lastSeen || { url: "", headers: {} };
  expect(`origin path ${seen.url}`, seen.url === "/internal/v2/users/42?x=1");
  expect("origin: X-Internal-Debug removed", seen.headers["x-internal-debug"] === undefined);
  expect("origin: X-Forwarded-By", seen.headers["x-forwarded-by"] === "edge-gateway");
  expect(`origin: fresh X-Request-ID ${seen.headers["x-request-id"]}`, /^[0-9a-f-]{36}$/.test(seen.headers["x-request-id"] || ""));
  expect("origin: X-Forwarded-For", seen.headers["x-forwarded-for"] === "203.0.113.7");
  expect("origin: X-Forwarded-Host", seen.headers["x-forwarded-host"] === "api.example.com");
  for (const [what, target, headers, want] of [
    ["no token", "/v2/users/42", {}, [401]],
    ["expired token", "/v2/users/42", bearer(seed.expired), app.name === "edgegw" ? [403] : [401]],
    ["encoded slash", "/v2/a%2Fb", bearer(timedTokens[0]), [400]],
    ["dot segments above the root", "/v2/%2e%2e/%2e%2e/admin", bearer(timedTokens[0]), [400]],
    ["unknown host", "/health", { Host: "other.example.com" }, [421, 404]],
  ]) {
    lastSeen = null;
    r = await send(app, target, headers);
    expect(`${what}: status ${r.status}, want ${want.join(" or ")}`, want.includes(r.status) && lastSeen === null);
    expect(`${what}: HSTS`, r.headers["strict-transport-security"] !== undefined);
  }
  r = await send(app, "/v2/./users/../users//7", bearer(timedTokens[0]));
  expect(`normalized path: ${lastSeen && lastSeen.url}`, r.status === 200 && lastSeen && lastSeen.url === "/internal/v2/users/7");
  let statuses = [];
  for (let i = 0; i < 101; i++) statuses.push((await send(app, "/v2/limited", bearer(limitToken))).status);
  expect(`rate limit: ${statuses.filter((s) => s === 200).length} passed, last ${statuses[100]}`, statuses.slice(0, 100).every((s) => s === 200) && statuses[100] === 429);
  return problems;
}

let failed = 0;
console.log(`workerd (miniflare ${require("miniflare/package.json").version}), hono ${honoVersion}; ${ROUNDS} rounds of ${REQUESTS} sequential requests per app`);
console.log("\n== Same decisions (before timing)");
for (const app of apps) {
  if (app.name === "floor") continue;
  const problems = await check(app);
  failed += problems.length;
  console.log(`  ${app.name.padEnd(15)} ${problems.length === 0 ? "ok" : "DIFFERS: " + problems.join("; ")}`);
}

let next = 0;
async function one(app) {
  const token = timedTokens[next++ % timedTokens.length];
  const c0 = cpuNs(app.pid);
  const t0 = process.hrtime.bigint();
  const r = await send(app, `/v2/users/${next}`, { ...bearer(token), "X-Internal-Debug": "1" });
  const t1 = process.hrtime.bigint();
  const c1 = cpuNs(app.pid);
  if (r.status !== 200) throw new Error(`${app.name}: request ${next}: status ${r.status} ${r.body}`);
  return { wallUs: Number(t1 - t0) / 1e3, cpuUs: (c1 - c0) / 1e3 };
}

for (const app of apps) {
  app.rounds = [];
  app.cpu = [];
  app.wall = [];
  for (let i = 0; i < 200; i++) await one(app); // warm-up: V8 optimizes, keys and objects are made
}
for (let round = 0; round < ROUNDS; round++) {
  for (const app of apps) {
    let sum = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const s = await one(app);
      sum += s.wallUs;
      app.wall.push(s.wallUs);
      app.cpu.push(s.cpuUs);
    }
    app.rounds.push(sum / REQUESTS);
  }
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const us = (x) => (x >= 1000 ? (x / 1000).toFixed(2) + " ms" : x.toFixed(0) + " µs");
console.log("\n== Whole request (client → workerd → loopback origin → client), per request");
console.log("  app             time/request   wall p99   CPU p50   CPU p99   (workerd CPU, all threads)");
for (const app of apps) {
  app.time = pct(app.rounds, 50);
  app.cpu50 = pct(app.cpu, 50);
  app.cpu99 = pct(app.cpu, 99);
  console.log(`  ${app.name.padEnd(15)} ${us(app.time).padStart(12)} ${us(pct(app.wall, 99)).padStart(10)} ${us(app.cpu50).padStart(9)} ${us(app.cpu99).padStart(9)}`);
}
const [gw, ...honos] = apps.filter((a) => a.name !== "floor");
console.log("\n== Ratios, edgegw / Hono (same run; below 1 means edgegw is faster)");
for (const h of honos) {
  console.log(`  vs ${h.name.padEnd(15)} time/request ${(gw.time / h.time).toFixed(2)}×   CPU p50 ${(gw.cpu50 / h.cpu50).toFixed(2)}×   CPU p99 ${(gw.cpu99 / h.cpu99).toFixed(2)}×`);
}

for (const app of apps) {
  app.agent.destroy();
  await app.mf.dispose();
}
origin.close();
if (failed > 0) {
  console.log(`\n${failed} check(s) failed: the apps do not decide alike`);
  process.exitCode = 1;
}
