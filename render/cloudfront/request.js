// The viewer-request function: routing, HS256, redirects and synthetic answers, the upstream request.

import { verify, claimText } from "edgegw-cloudfront/hs256.js";

var KVS = HAS_AUTH ? cf.kvs() : null;

// answer is an edge answer to the request of view v. A test build reports v.decision in it.
function answer(v, status, pairs, body) {
  var h = {};
  var hh = headersOf(h);
  for (var i = 0; i < pairs.length; i++) hh.set(pairs[i][0], pairs[i][1]);
  G.finishHeaders(hh, GATEWAY, v.route, v.corsOrigin);
  if (TEST_MODE) hh.set(TEST_DECISION, JSON.stringify(v.decision));
  var r = { statusCode: status, headers: h };
  if (body) r.body = { encoding: "text", data: body };
  return r;
}

// fail answers with the edge error of code: GATEWAY.errors holds every code the function answers with, as
// headers*1000+status when its body is the usual JSON (written back from status, code and message), else
// [headers*1000+status, body]; headers indexes GATEWAY.errorHeaders.
function fail(v, code) {
  if (TEST_MODE) v.decision["reason"] = code;
  var e = GATEWAY.errors[code];
  var n = e.length ? e[0] : e;
  var status = n % 1000;
  return answer(v, status, GATEWAY.errorHeaders[(n - status) / 1000].map((k) => GATEWAY.errorPairs[k]), e.length ? e[1] : '{"status":' + status + ',"code":"' + code + '","message":"' + GATEWAY.messages[status] + '"}\n');
}

// secret reads a policy's HMAC secret from the KeyValueStore by its key: null when it holds none.
async function secret(policy) {
  if (!policy.secretKey) return null;
  try {
    return await KVS.get(policy.secretKey);
  } catch (e) {
    return null;
  }
}

async function handler(event) {
  var req = event.request;
  var v = await view(req);
  // The decision, reported by a test build only (its keys quoted: they are never shortened).
  if (TEST_MODE) v.decision = { "route": "", "pool": "", "origin": "", "reason": "" };
  if (v.fail) return fail(v, v.fail);
  if (HAS_CORS && v.preflight) {
    if (TEST_MODE) v.decision["reason"] = "CORS_PREFLIGHT";
    return answer(v, 204, v.corsOrigin ? GATEWAY.cors.preflightAllowed : GATEWAY.cors.preflightRefused, "");
  }
  var route = v.route;
  if (TEST_MODE) v.decision["route"] = route.name;
  var client = v.client;
  var claims = null;
  if (HAS_AUTH && route.auth) {
    var az = req.headers.authorization;
    var policy = GATEWAY.policies[route.auth];
    // (njs cannot await inside a call's arguments.)
    var key = await secret(policy);
    var ok = verify(policy, az && az.multiValue && az.multiValue.length > 1 ? undefined : client.get("authorization"), key, v.now);
    if (typeof ok === "string") return fail(v, ok);
    claims = ok;
  }
  // A rate limit only an AWS WAF rule could enforce, without that rule: refused, never unlimited.
  if (HAS_LIMITED && route.limited) return fail(v, "RATE_LIMIT");
  if (HAS_RESPOND && route.respond) {
    var rs = route.respond;
    var pairs = rs.headers;
    if (rs.defaultType) pairs = pairs.concat([["Content-Type", "text/plain; charset=utf-8"]]);
    return answer(v, rs.status, pairs, rs.body);
  }
  if (HAS_REDIRECT && route.redirect) {
    return answer(v, route.redirect.status, [["Location", G.redirectLocation(route.redirect, rawQuery(req.querystring))]], "");
  }
  var pool = GATEWAY.pools[route.pool];
  if (TEST_MODE) v.decision["pool"] = route.pool;
  var up = copyHeaders(req.headers);
  var uh = headersOf(up);
  G.upstreamHeaders(uh, {
    clientHeaders: client, stripHeaders: GATEWAY.stripHeaders, transform: route.transform,
    tenantHeader: v.tenancy.tenantHeader, tenant: v.tenancy.tenant, claims: claims, forward: HAS_FORWARD && route.auth ? policy.forward : null,
    newRequestID: () => event.context.requestId,
    clientIP: event.viewer.ip, host: v.rawHost,
  }, HAS_FORWARD ? claimText : null);
  // No scheme above: CloudFront answers 502 to a function that adds X-Forwarded-Proto (a disallowed
  // header) or changes Host (read-only, so it is left as the viewer sent it).
  // An origin group fails over on a connection failure or timeout, and on the listed statuses: a pool
  // without failover lists none, as the reference then moves on only when an origin is unreachable.
  if (HAS_FAILOVER && pool.origins.length > 1) {
    cf.createRequestOriginGroup({ originIds: pool.origins, failoverCriteria: { statusCodes: pool.failover ? pool.failover.onStatus : [] } });
  } else {
    cf.selectRequestOriginById(pool.origins[0]);
  }
  if (TEST_MODE) uh.set(TEST_DECISION, JSON.stringify(v.decision));
  req.headers = up;
  req.uri = G.rewritePath(route, v.path, v.segs);
  return req;
}
