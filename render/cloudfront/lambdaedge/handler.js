// The Lambda@Edge glue (Node.js 20): the whole gateway for a CloudFront distribution whose manifest opts into
// the lambda-edge-auth companion. CloudFront does not combine CloudFront Functions and Lambda@Edge on viewer
// events, so this one handler takes the three events edgegw uses, by cf.config.eventType:
//   viewer-request  normalize, route, verify the bearer token (WebCrypto, verify.js), answer edge errors,
//                   synthetic responses, redirects and preflights, else rewrite the request and name its origin
//                   in ORIGIN_HEADER;
//   origin-request  point the request at that origin (request.origin.custom) and drop ORIGIN_HEADER;
//   viewer-response map Location headers back and write the response transform, HSTS and CORS headers.
// GATEWAY, ROUTES, matchRoute, TEST_MODE and LIMITS_AT_WAF are defined above by the renderer. Keys are imported once per
// container and JWKS documents cached per container (verify.js), as a Worker does per isolate.

import * as G from "edgegw-runtime/gateway.js";
import { normalize } from "edgegw-runtime/pathnorm.js";
import * as J from "edgegw-runtime/jwt.js";
import { verify } from "edgegw-workers/verify.js";

const TEST_NOW = "x-edgegw-test-now";
const TEST_SCHEME = "x-edgegw-test-scheme";
const TEST_DECISION = "x-edgegw-test-decision";
// ORIGIN_HEADER carries the origin the viewer-request event picked to the origin-request event; a client's
// own is overwritten, and it never reaches the origin.
const ORIGIN_HEADER = "x-edgegw-origin";
// Headers edge functions may not add (AWS, "Restrictions on all edge functions"), and the headers a
// viewer-request trigger may read but not change.
const DISALLOWED = ["connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
  "trailer", "upgrade", "x-forwarded-proto", "x-real-ip", "x-cache"];
const READ_ONLY_VIEWER = ["content-length", "host", "transfer-encoding", "via"];
// Lambda@Edge has no environment variables: HMAC secrets are never available here (render refuses them).
const NO_ENV = Object.freeze({});

// toHeaders reads CloudFront's {name: [{key, value}]} into a Headers object.
function toHeaders(cf) {
  const h = new Headers();
  for (const name in cf || {}) for (const e of cf[name]) h.append(name, e.value);
  return h;
}

// fromHeaders writes a Headers object as CloudFront's {name: [{key, value}]}; Set-Cookie keeps one entry each.
function fromHeaders(h) {
  const out = {};
  h.forEach((value, name) => {
    if (name === "set-cookie") return;
    out[name] = [{ key: name, value }];
  });
  const cookies = typeof h.getSetCookie === "function" ? h.getSetCookie() : [];
  if (cookies.length > 0) out["set-cookie"] = cookies.map((value) => ({ key: "set-cookie", value }));
  return out;
}

// view is what the viewer events decide on: {fail} before routing, else the public view of the request.
function view(cfr) {
  const client = toHeaders(cfr.headers);
  const v = { client, now: Date.now(), scheme: "https", route: null, corsOrigin: "", preflight: false };
  if (TEST_MODE) {
    if (client.get(TEST_NOW)) v.now = Number(client.get(TEST_NOW));
    if (client.get(TEST_SCHEME)) v.scheme = client.get(TEST_SCHEME);
    client.delete(TEST_NOW);
    client.delete(TEST_SCHEME);
  }
  v.rawHost = client.get("host") || "";
  const norm = normalize(cfr.uri);
  if (norm.reject !== undefined) return { fail: "BAD_PATH", v };
  v.path = norm.path;
  v.host = G.hostOf(v.rawHost);
  v.tenancy = G.matchHost(GATEWAY.domains, v.host);
  if (!v.tenancy) return { fail: "HOST_UNKNOWN", v };
  const cors = GATEWAY.cors;
  if (cors) {
    const origin = client.get("origin");
    if (origin && G.corsAllows(cors, origin)) v.corsOrigin = origin;
    if (cfr.method === "OPTIONS" && origin && client.get("access-control-request-method")) {
      v.preflight = true;
      return { v };
    }
  }
  const k = matchRoute(v.host, cfr.method, v.path, client);
  if (k < 0) return { fail: "NO_ROUTE", v };
  v.route = ROUTES[k];
  return { v };
}

async function viewerRequest(cfr, requestId) {
  const d = { route: "", pool: "", origin: "", reason: "" }; // the decision, reported in test mode only
  const r = view(cfr);
  const v = r.v;
  const finish = (status, headers, body) => {
    G.finishHeaders(headers, GATEWAY, v.route, v.corsOrigin);
    if (TEST_MODE) headers.set(TEST_DECISION, JSON.stringify(d));
    const out = { status: String(status), headers: fromHeaders(headers) };
    if (body) out.body = body;
    return out;
  };
  const fail = (code, extra, detail) => {
    d.reason = code;
    if (detail) d.detail = detail;
    const e = G.edgeError(GATEWAY, code);
    const h = new Headers(extra || []);
    for (const [n, val] of e.headers) h.set(n, val);
    return finish(e.status, h, e.body);
  };
  if (r.fail) return fail(r.fail);
  if (v.preflight) {
    d.reason = "CORS_PREFLIGHT";
    return finish(204, new Headers(v.corsOrigin ? GATEWAY.cors.preflightAllowed : GATEWAY.cors.preflightRefused), null);
  }
  const route = v.route;
  d.route = route.name;
  const client = v.client;
  let claims = null;
  if (route.auth) {
    const ok = await verify(GATEWAY.policies[route.auth], client.get("authorization"), NO_ENV, v.now);
    if (ok.code) return fail(ok.code, null, ok.detail);
    claims = ok.claims;
  }
  // A rate limit only an AWS WAF rule can enforce: left to that rule when there is one (LIMITS_AT_WAF),
  // else refused here, never unlimited.
  if (route.limit && !LIMITS_AT_WAF) return fail("RATE_LIMIT");
  if (route.respond) {
    const h = new Headers(route.respond.headers);
    if (!h.get("content-type") && route.respond.body) h.set("Content-Type", "text/plain; charset=utf-8");
    return finish(route.respond.status, h, route.respond.body);
  }
  if (route.redirect) {
    return finish(route.redirect.status, new Headers([["Location", G.redirectLocation(route.redirect, cfr.querystring || "")]]), null);
  }
  const pool = GATEWAY.pools[route.pool];
  d.pool = pool.name;
  d.origin = pool.origins[0];
  const up = new Headers(client);
  up.delete("host");
  G.upstreamHeaders(up, {
    clientHeaders: client, stripHeaders: GATEWAY.stripHeaders, transform: route.transform,
    tenantHeader: v.tenancy.tenantHeader, tenant: v.tenancy.tenant, claims, forward: route.auth ? GATEWAY.policies[route.auth].forward : null,
    newRequestID: () => requestId || crypto.randomUUID(), clientIP: cfr.clientIp || "", host: v.rawHost, scheme: v.scheme,
  }, J.claimText);
  // CloudFront refuses (502) a request whose viewer-request trigger adds a disallowed header, such as
  // X-Forwarded-Proto, or changes a read-only one (Content-Length, Host, Transfer-Encoding, Via): those
  // go as the viewer sent them, and the origin-request event sets the origin's Host.
  for (const name of DISALLOWED) up.delete(name);
  for (const name of READ_ONLY_VIEWER) {
    up.delete(name);
    for (const e of (cfr.headers || {})[name] || []) up.append(name, e.value);
  }
  up.set(ORIGIN_HEADER, pool.origins[0]);
  if (TEST_MODE) up.set(TEST_DECISION, JSON.stringify(d));
  cfr.headers = fromHeaders(up);
  cfr.uri = G.rewritePath(route, v.path, route.vars ? v.path.slice(1).split("/") : null);
  return cfr;
}

function originRequest(cfr) {
  const h = cfr.headers || {};
  const name = h[ORIGIN_HEADER] && h[ORIGIN_HEADER][0] ? h[ORIGIN_HEADER][0].value : "";
  delete h[ORIGIN_HEADER];
  const o = GATEWAY.origins[name];
  if (!o) {
    const e = G.edgeError(GATEWAY, "UPSTREAM_UNREACHABLE");
    const eh = new Headers(e.headers);
    G.finishHeaders(eh, GATEWAY, null, "");
    return { status: String(e.status), headers: fromHeaders(eh), body: e.body };
  }
  const u = new URL(o.base);
  const https = u.protocol === "https:";
  cfr.origin = {
    custom: {
      domainName: u.hostname, port: Number(u.port || (https ? 443 : 80)), protocol: https ? "https" : "http",
      path: u.pathname === "/" ? "" : u.pathname.replace(/\/$/, ""), sslProtocols: ["TLSv1.2"],
      readTimeout: Math.min(60, Math.max(1, Math.ceil(o.timeoutMs / 1000))), keepaliveTimeout: 5, customHeaders: {},
    },
  };
  h.host = [{ key: "Host", value: u.host }];
  cfr.headers = h;
  return cfr;
}

function viewerResponse(cfr, resp) {
  const r = view(cfr);
  const v = r.v;
  const h = toHeaders(resp.headers);
  if (v.route && v.route.pool) {
    const upstreamPath = G.rewritePath(v.route, v.path, v.route.vars ? v.path.slice(1).split("/") : null);
    const st = { route: v.route, originHosts: GATEWAY.pools[v.route.pool].originHosts, scheme: v.scheme, publicHost: v.rawHost,
      requestPath: v.path, upstreamPath };
    for (const name of ["Location", "Content-Location"]) {
      const loc = h.get(name);
      if (loc) h.set(name, G.publicLocation(loc, st));
    }
  }
  // The edge owns the CORS headers when the manifest configures CORS: the origin's own are dropped.
  if (GATEWAY.cors) for (const name of GATEWAY.corsOwned) h.delete(name);
  G.finishHeaders(h, GATEWAY, v.route, v.corsOrigin);
  resp.headers = fromHeaders(h);
  return resp;
}

export async function handler(event) {
  const cf = event.Records[0].cf;
  switch (cf.config.eventType) {
    case "viewer-request":
      return viewerRequest(cf.request, cf.config.requestId);
    case "origin-request":
      return originRequest(cf.request);
    case "viewer-response":
      return viewerResponse(cf.request, cf.response);
    default:
      throw new Error("edgegw: no handler for CloudFront event type " + cf.config.eventType);
  }
}
