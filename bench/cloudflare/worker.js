// The Cloudflare benchmark Worker. bench/cloudflare/main.go bundles it with the generated tables
// (bench:tables); bench.mjs runs it in workerd through miniflare and times each request from node.
//
// workerd freezes Date.now() and performance.now() while a request runs (they advance only on I/O), so
// nothing here reads a clock: every endpoint runs a given number of iterations and answers, and the driver
// takes the wall-clock time of the whole request from node. It sends each request with N and with 2N
// iterations and divides the difference by N, which cancels the fixed cost of a request.
//
//   GET /check?table=T            the generated matcher's route for every path, against the reference's
//   GET /match?table=T&impl=I&n=N  N matches with impl I (gen-auto, gen-regex, gen-trie, hono-regexp,
//                                 hono-smart, hono-trie), cycling over the table's paths
//   GET /init?table=T&impl=I&n=N   N inits (a fresh matcher or router, all routes added, one match)
//   GET /jwt?alg=A&mode=M&n=N     N verifications: full (the Worker's verify: parse, claims, signature)
//                                 or sig (crypto.subtle.verify alone with the same key and bytes); the
//                                 answer counts the key imports the N verifications made

import { TABLES, JWT } from "bench:tables";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";
import * as J from "edgegw-runtime/jwt.js";
import { verify, importStats, secretKey, importKey } from "edgegw-workers/verify.js";

const HOST = "api.example.com";
const NO_HEADERS = { get: () => null };

function honoRouter(kind, routes) {
  let r;
  if (kind === "hono-regexp") r = new RegExpRouter();
  else if (kind === "hono-trie") r = new TrieRouter();
  else r = new SmartRouter({ routers: [new RegExpRouter(), new TrieRouter()] });
  for (let i = 0; i < routes.length; i++) r.add(routes[i][0], routes[i][1], i);
  r.match("GET", "/");
  return r;
}

const routers = new Map();
function router(kind, table) {
  const key = kind + ":" + table;
  let r = routers.get(key);
  if (!r) {
    r = honoRouter(kind, TABLES[table].hono);
    routers.set(key, r);
  }
  return r;
}

function loopGen(m, paths, n) {
  let sum = 0;
  for (let i = 0, j = 0; i < n; i++) {
    sum += m(HOST, "GET", paths[j], NO_HEADERS);
    if (++j === paths.length) j = 0;
  }
  return sum;
}

function loopHono(r, paths, n) {
  let sum = 0;
  for (let i = 0, j = 0; i < n; i++) {
    sum += r.match("GET", paths[j])[0].length;
    if (++j === paths.length) j = 0;
  }
  return sum;
}

function initLoop(impl, t, n) {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (impl === "gen-auto") sum += t.create()(HOST, "GET", t.paths[i % t.paths.length], NO_HEADERS);
    else sum += honoRouter(impl, t.hono).match("GET", t.paths[i % t.paths.length])[0].length;
  }
  return sum;
}

// jwt state per algorithm: the policy, the token and, for the signature-only baseline, the key the full
// path imports and the bytes it verifies.
const jwtState = new Map();
async function jwt(alg) {
  let s = jwtState.get(alg);
  if (s) return s;
  const c = JWT[alg];
  const p = J.parseJWS(c.token, c.policy.algorithms);
  const key = c.policy.keys.length > 0 ? c.policy.keys[0] : secretKey(c.policy, c.env);
  const vp = J.verifyParams(alg, key);
  s = {
    c, authorization: "Bearer " + c.token, vp, key: await importKey(key, alg, vp),
    data: new TextEncoder().encode(p.signingInput), sig: new Uint8Array(p.signature),
  };
  const v = await verify(c.policy, s.authorization, c.env, Date.now());
  if (v.code) throw new Error(alg + ": the token does not verify: " + v.code + " " + (v.detail || ""));
  jwtState.set(alg, s);
  return s;
}

export default {
  async fetch(request) {
    const u = new URL(request.url);
    const q = u.searchParams;
    const n = Number(q.get("n") || "0");
    const t = TABLES[q.get("table")];
    const impl = q.get("impl");
    if (u.pathname === "/check") {
      let bad = 0;
      const out = {};
      for (const s of ["auto", "regex", "trie"]) {
        for (let i = 0; i < t.paths.length; i++) {
          if (t.gen[s](HOST, "GET", t.paths[i], NO_HEADERS) !== t.expect[i]) bad++;
        }
      }
      const smart = router("hono-smart", t.name);
      out.sourceBytes = t.sourceBytes;
      out.requests = t.paths.length * 3;
      out.disagree = bad;
      out.strategy = t.strategy;
      out.smartRouter = smart.name;
      out.misses = t.expect.filter((k) => k < 0).length;
      return Response.json(out);
    }
    if (u.pathname === "/match") {
      let sum;
      if (impl.startsWith("gen-")) sum = loopGen(t.gen[impl.slice(4)], t.paths, n);
      else {
        let r;
        try {
          r = router(impl, t.name);
        } catch (e) {
          return new Response(impl + " cannot take this table: " + e, { status: 501 });
        }
        sum = loopHono(r, t.paths, n);
      }
      return new Response(String(sum));
    }
    if (u.pathname === "/init") return new Response(String(initLoop(impl, t, n)));
    if (u.pathname === "/jwt") {
      const alg = q.get("alg");
      const s = await jwt(alg);
      const before = importStats.imports;
      let ok = 0;
      if (q.get("mode") === "full") {
        for (let i = 0; i < n; i++) {
          const v = await verify(s.c.policy, s.authorization, s.c.env, Date.now());
          if (!v.code) ok++;
        }
      } else {
        for (let i = 0; i < n; i++) {
          if (await crypto.subtle.verify(s.vp.verifyAlg, s.key, s.sig, s.data)) ok++;
        }
      }
      return Response.json({ ok, imports: importStats.imports - before });
    }
    return new Response("not found", { status: 404 });
  },
};
