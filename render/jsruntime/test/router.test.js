// The indexed matcher decides every request as the scan in IR order does, on generated tables of every
// route kind with conditions, and the index makes a 1,000-route lookup cheaper than the scan.
import { test } from "node:test";
import assert from "node:assert/strict";
import { matchRoute, buildIndex, candidates } from "../gateway.js";

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function table(n, rand) {
  const routes = [];
  for (let i = 0; i < n; i++) {
    const x = rand();
    const a = "s" + Math.floor(rand() * 20);
    const b = "t" + Math.floor(rand() * 20);
    let r;
    if (x < 0.4) r = { kind: "exact", path: `/${a}/${b}` };
    else if (x < 0.6) r = { kind: "prefix", path: `/${a}` + (rand() < 0.5 ? `/${b}` : "") };
    else if (x < 0.85) r = { kind: "template", segments: [a, "{id}", b].slice(0, 2 + Math.floor(rand() * 2)) };
    else r = { kind: "regex", re: new RegExp(`^(?:/${a}/[a-z0-9]+)$`) };
    r.name = "r" + i;
    if (rand() < 0.2) r.methods = ["GET"];
    if (rand() < 0.1) r.headers = [["x-canary", "true"]];
    if (rand() < 0.1) r.hosts = ["*.example.com"];
    routes.push(r);
  }
  routes.push({ name: "fallback", kind: "fallback" });
  return routes;
}

function headers(obj) {
  return { get: (n) => (n in obj ? obj[n] : null) };
}

function requests(n, rand) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const depth = 1 + Math.floor(rand() * 4);
    const segs = [];
    for (let d = 0; d < depth; d++) {
      const y = rand();
      segs.push(y < 0.4 ? "s" + Math.floor(rand() * 20) : y < 0.8 ? "t" + Math.floor(rand() * 20) : "x" + Math.floor(rand() * 5));
    }
    out.push({
      path: "/" + segs.join("/") + (rand() < 0.1 ? "/" : ""),
      method: rand() < 0.5 ? "GET" : "POST",
      host: rand() < 0.5 ? "a.example.com" : "api.test",
      headers: headers(rand() < 0.3 ? { "x-canary": "true" } : {}),
    });
  }
  return out;
}

test("the index decides as the scan does", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rand = rng(seed);
    const routes = table(300, rand);
    const index = buildIndex(routes);
    for (const q of requests(3000, rand)) {
      const scan = matchRoute(routes, q.host, q.method, q.path, q.headers);
      const fast = matchRoute(routes, q.host, q.method, q.path, q.headers, index);
      assert.equal(fast && fast.route.name, scan && scan.route.name, `seed ${seed} ${q.method} ${q.host} ${q.path}`);
    }
  }
});

test("prefix boundaries and a trailing slash prefix", () => {
  const routes = [
    { name: "v1", kind: "prefix", path: "/v1" },
    { name: "docs", kind: "prefix", path: "/docs/" },
    { name: "api-host", kind: "prefix", path: "/", hosts: ["api.example.com"] },
    { name: "fallback", kind: "fallback" },
  ];
  const index = buildIndex(routes);
  const h = headers({});
  for (const [p, want] of [["/v1", "v1"], ["/v1/x", "v1"], ["/v10", "fallback"], ["/docs/", "docs"], ["/docs/a/b", "docs"], ["/docs", "fallback"]]) {
    assert.equal(matchRoute(routes, "h", "GET", p, h, index).route.name, want, p);
    assert.equal(matchRoute(routes, "h", "GET", p, h).route.name, want, p);
  }
  for (const [p, want] of [["/", "api-host"], ["/admin", "api-host"], ["/v1/x", "v1"], ["/docs", "api-host"]]) {
    assert.equal(matchRoute(routes, "api.example.com", "GET", p, h, index).route.name, want, p);
    assert.equal(matchRoute(routes, "api.example.com", "GET", p, h).route.name, want, p);
  }
});

test("at 1,000 routes the index evaluates a small share of the table", (t) => {
  const rand = rng(9);
  const routes = table(1000, rand);
  const index = buildIndex(routes);
  const qs = requests(400, rand);
  let evaluated = 0;
  for (const q of qs) evaluated += candidates(index, q.path, q.path.slice(1).split("/").length).length;
  const share = evaluated / qs.length / routes.length;
  // Time is reported, not asserted: the machine is shared. The share of routes evaluated is exact.
  const time = (ix) => {
    const start = process.hrtime.bigint();
    for (const q of qs) matchRoute(routes, q.host, q.method, q.path, q.headers, ix);
    return Number(process.hrtime.bigint() - start) / qs.length;
  };
  t.diagnostic(`1,000 routes: ${(share * 100).toFixed(1)} % of the routes evaluated per request; scan ${time(undefined).toFixed(0)} ns/match, index ${time(index).toFixed(0)} ns/match`);
  assert.ok(share < 0.3, `the index evaluates ${(share * 100).toFixed(1)} % of the routes per request`);
});
