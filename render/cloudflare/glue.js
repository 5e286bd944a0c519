// The Workers glue: the I/O around the shared runtime (edgegw-runtime/*), in the reference gateway's order.
// verify.js checks bearer tokens with WebCrypto (keys imported once per isolate, per key and algorithm), a Durable Object
// holds exact sliding-window counts and breaker state, fetch with a per-attempt timeout goes upstream.
// GATEWAY, ROUTES, matchRoute (the generated matcher) and TEST_MODE are defined above by the renderer.

import { DurableObject } from "cloudflare:workers";
import * as G from "edgegw-runtime/gateway.js";
import { normalize } from "edgegw-runtime/pathnorm.js";
import * as J from "edgegw-runtime/jwt.js";
import { verify, verifySignature } from "edgegw-workers/verify.js";

// Test-mode request headers: the clock and the client's scheme. Only a TEST_MODE build reads them; a
// production build deletes nothing and honours nothing of them.
const TEST_NOW = "x-edgegw-test-now";
const TEST_SCHEME = "x-edgegw-test-scheme";
const TEST_DECISION = "x-edgegw-test-decision";
const MAX_REPLAY_BODY = 1 << 20;

function fromHex(h) {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}

// testVerify (test builds only) runs the signature step on a raw message, for the signature primitives'
// vectors: {alg, jwk, msg, sig} (hex) → {verified}.
async function testVerify(request) {
  const v = await request.json();
  const info = J.jwkInfo(v.jwk);
  if (!info) return Response.json({ verified: false, detail: "key not usable" });
  info.id = "test:" + JSON.stringify(v.jwk);
  const sig = fromHex(v.sig);
  return Response.json({ verified: await verifySignature([info], v.alg, fromHex(v.msg), sig) });
}

// EdgegwState is the Durable Object behind exact sliding-window limits (one object per limit and key) and
// breaker state (one object per pool).
export class EdgegwState extends DurableObject {
  async hit(now, windowMs, limit) {
    const hits = (await this.ctx.storage.get("hits")) || [];
    const r = G.slidingWindow(hits, now, windowMs, limit);
    await this.ctx.storage.put("hits", hits);
    return r;
  }
  async breakers(n) {
    const s = (await this.ctx.storage.get("breakers")) || [];
    while (s.length < n) s.push({ consecutive: 0, openUntil: -Infinity });
    return s;
  }
  async record(i, n, policy, status, now) {
    const s = await this.breakers(n);
    G.breakerRecord(s[i], policy, status, now);
    await this.ctx.storage.put("breakers", s);
  }
}

function stub(env, name) {
  return env.EDGEGW_STATE.get(env.EDGEGW_STATE.idFromName(name));
}

function respond(status, headers, body) {
  const nullBody = status === 101 || status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : body, { status, headers });
}

async function handle(request, env) {
  const d = { route: "", pool: "", origin: "", reason: "" }; // the decision, reported in test mode only
  const url = request.url;
  let now = Date.now();
  let scheme = G.splitTarget(url).scheme || "https";
  const client = new Headers(request.headers);
  if (TEST_MODE) {
    if (client.get(TEST_NOW)) now = Number(client.get(TEST_NOW));
    if (client.get(TEST_SCHEME)) scheme = client.get(TEST_SCHEME);
    client.delete(TEST_NOW);
    client.delete(TEST_SCHEME);
  }
  const target = G.splitTarget(url);
  const rawHost = client.get("host") || target.host;
  const clientIP = client.get("cf-connecting-ip") || "";
  let route = null;
  let corsOrigin = "";

  const finish = (status, headers, body) => {
    G.finishHeaders(headers, GATEWAY, route, corsOrigin);
    if (TEST_MODE) headers.set(TEST_DECISION, JSON.stringify(d));
    return respond(status, headers, body);
  };
  const fail = (code, extra, detail) => {
    d.reason = code;
    if (detail) d.detail = detail;
    const e = G.edgeError(GATEWAY, code);
    const h = new Headers(extra || []);
    for (const [n, v] of e.headers) h.set(n, v);
    return finish(e.status, h, e.body);
  };

  const norm = normalize(target.path);
  if (norm.reject !== undefined) return fail("BAD_PATH");
  const path = norm.path;
  const host = G.hostOf(rawHost);
  const tenancy = G.matchHost(GATEWAY.domains, host);
  if (!tenancy) return fail("HOST_UNKNOWN");

  const cors = GATEWAY.cors;
  if (cors) {
    const origin = client.get("origin");
    if (origin && G.corsAllows(cors, origin)) corsOrigin = origin;
    if (request.method === "OPTIONS" && origin && client.get("access-control-request-method")) {
      d.reason = "CORS_PREFLIGHT";
      return finish(204, new Headers(corsOrigin ? cors.preflightAllowed : cors.preflightRefused), null);
    }
  }

  const k = matchRoute(host, request.method, path, client);
  if (k < 0) return fail("NO_ROUTE");
  route = ROUTES[k];
  d.route = route.name;

  let claims = null;
  let sub = "";
  if (route.auth) {
    const v = await verify(GATEWAY.policies[route.auth], client.get("authorization"), env, now);
    if (v.code) return fail(v.code, null, v.detail);
    claims = v.claims;
    sub = v.sub;
  }
  if (route.limit) {
    const lim = GATEWAY.limits[route.limit];
    const key = G.rateLimitKey(lim, sub, client, clientIP);
    const r = await stub(env, "limit:" + route.limit + ":" + key).hit(now, lim.windowMs, lim.limit);
    if (!r.allowed) return fail("RATE_LIMIT", [["Retry-After", String(r.retryAfter)]]);
  }
  if (route.respond) {
    const h = new Headers(route.respond.headers);
    if (!h.get("content-type") && route.respond.body) h.set("Content-Type", "text/plain; charset=utf-8");
    return finish(route.respond.status, h, route.respond.body);
  }
  if (route.redirect) {
    return finish(route.redirect.status, new Headers([["Location", G.redirectLocation(route.redirect, target.query)]]), null);
  }

  const pool = GATEWAY.pools[route.pool];
  d.pool = pool.name;
  const upstreamPath = G.rewritePath(route, path, route.vars ? path.slice(1).split("/") : null);
  const up = new Headers(client);
  up.delete("cf-connecting-ip");
  up.delete("host");
  G.upstreamHeaders(up, {
    clientHeaders: client, stripHeaders: GATEWAY.stripHeaders, transform: route.transform,
    tenantHeader: tenancy.tenantHeader, tenant: tenancy.tenant, claims, forward: route.auth ? GATEWAY.policies[route.auth].forward : null,
    newRequestID: () => crypto.randomUUID(), clientIP, host: rawHost, scheme,
  }, J.claimText);

  const failover = pool.failover;
  const breaker = failover && failover.breaker;
  const bstub = breaker ? stub(env, "breaker:" + pool.name) : null;
  let candidates = pool.origins.map((_, i) => i);
  if (bstub) {
    const states = await bstub.breakers(pool.origins.length);
    candidates = candidates.filter((i) => !G.breakerOpen(states[i], now));
  }
  if (candidates.length === 0) return fail("ORIGINS_OPEN");

  let body = null;
  if (request.method !== "GET" && request.method !== "HEAD") {
    body = await request.arrayBuffer();
    if (body.byteLength > MAX_REPLAY_BODY) candidates = candidates.slice(0, 1);
  }
  let lastTimeout = false;
  for (let k = 0; k < candidates.length; k++) {
    const i = candidates[k];
    const o = GATEWAY.origins[pool.origins[i]];
    const last = k === candidates.length - 1;
    d.origin = o.name;
    let resp;
    // The timeout bounds the wait for the response headers, as the reference's does; a body that streams
    // longer is not cut (AbortSignal.timeout would abort it).
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new DOMException("origin " + o.name + " timed out", "TimeoutError")), o.timeoutMs);
    try {
      resp = await fetch(o.base + upstreamPath + (target.query ? "?" + target.query : ""), {
        method: request.method, headers: up, body, redirect: "manual", signal: ac.signal,
      });
    } catch (e) {
      const timeout = ac.signal.aborted || (e && e.name === "TimeoutError");
      clearTimeout(timer);
      if (bstub) await bstub.record(i, pool.origins.length, breaker, timeout ? 504 : 502, now);
      lastTimeout = timeout;
      if (last) break; // a connect failure or timeout always goes to the next origin
      continue;
    }
    clearTimeout(timer);
    if (bstub) await bstub.record(i, pool.origins.length, breaker, resp.status, now);
    if (!last && failover && failover.onStatus.indexOf(resp.status) >= 0) {
      if (resp.body) await resp.body.cancel();
      continue;
    }
    const h = new Headers(resp.headers);
    const st = { route, originHosts: pool.originHosts, scheme, publicHost: rawHost, requestPath: path, upstreamPath };
    for (const name of ["Location", "Content-Location"]) {
      const v = h.get(name);
      if (v) h.set(name, G.publicLocation(v, st));
    }
    if (cors) {
      // The edge answers CORS from the manifest: the origin's own CORS headers never reach the client.
      for (const name of GATEWAY.corsOwned) h.delete(name);
    }
    return finish(resp.status, h, resp.body);
  }
  return fail(lastTimeout ? "UPSTREAM_TIMEOUT" : "UPSTREAM_UNREACHABLE");
}

const TEST_VERIFY_PATH = "/__edgegw-test/verify";

export default {
  async fetch(request, env) {
    if (TEST_MODE && G.splitTarget(request.url).path === TEST_VERIFY_PATH) return testVerify(request);
    return handle(request, env);
  },
};
