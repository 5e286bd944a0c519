// The gateway's decisions as the reference (gateway/) takes them, over the tables a renderer generates
// from the IR: host and tenant, route order and matching, rewrite, transforms, CORS, edge errors, the
// Location mapping, sliding-window limits and the breaker. Synchronous and free of platform APIs: a target's
// glue does the I/O (crypto, state, upstream fetches) and calls these in the reference's order.
//
// Headers are passed as objects with get(name) (null when absent), set, delete and forEach, as WHATWG
// Headers are; names compare case-insensitively.

// hostOf returns the request host as the reference reads it: lower case, without port or a trailing dot.
export function hostOf(hostHeader) {
  var h = (hostHeader || "").toLowerCase();
  if (h.charAt(0) === "[") {
    var end = h.indexOf("]");
    if (end > 0 && (h.length === end + 1 || h.charAt(end + 1) === ":")) {
      h = end + 1 < h.length ? h.slice(1, end) : h;
    }
  } else {
    var c = h.indexOf(":");
    if (c >= 0 && h.indexOf(":", c + 1) < 0) h = h.slice(0, c);
  }
  if (h.charAt(h.length - 1) === ".") h = h.slice(0, -1);
  return h;
}

// wildcardLabel matches a domain pattern ("*.zone" or a host) against host; it returns the tenant label
// ("" for an exact host) or null.
export function wildcardLabel(pattern, host) {
  var p = pattern.toLowerCase();
  if (p.indexOf("*.") !== 0) return p === host.toLowerCase() ? "" : null;
  var rest = p.slice(2);
  var dot = host.indexOf(".");
  if (dot <= 0) return null;
  if (host.slice(dot + 1) !== rest) return null;
  return host.slice(0, dot);
}

// matchHost returns {tenantHeader, tenant} for a known host, or null.
export function matchHost(domains, host) {
  if (domains.length === 0) return { tenantHeader: "", tenant: "" };
  var i;
  for (i = 0; i < domains.length; i++) {
    if (!domains[i].wildcard && domains[i].host === host) return { tenantHeader: domains[i].tenantHeader, tenant: "" };
  }
  for (i = 0; i < domains.length; i++) {
    if (!domains[i].wildcard) continue;
    var label = wildcardLabel(domains[i].host, host);
    if (label !== null) return { tenantHeader: domains[i].tenantHeader, tenant: label };
  }
  return null;
}

// prefixMatches respects segment boundaries: /v1 matches /v1 and /v1/..., never /v10.
export function prefixMatches(prefix, path) {
  if (path.indexOf(prefix) !== 0) return false;
  return path.length === prefix.length || prefix.charAt(prefix.length - 1) === "/" || path.charAt(prefix.length) === "/";
}

function routeMatches(r, host, method, path, segs, headers) {
  var i;
  if (r.kind === "exact") {
    if (path !== r.path) return false;
  } else if (r.kind === "prefix") {
    if (!prefixMatches(r.path, path)) return false;
  } else if (r.kind === "template") {
    if (segs.length !== r.segments.length) return false;
    for (i = 0; i < r.segments.length; i++) {
      var s = r.segments[i];
      if (isVar(s)) {
        if (segs[i] === "") return false;
      } else if (segs[i] !== s) return false;
    }
  } else if (r.kind === "regex") {
    if (!r.re.test(path)) return false;
  }
  if (r.methods && r.methods.length > 0 && r.methods.indexOf(method) < 0) return false;
  if (r.hosts && r.hosts.length > 0) {
    var any = false;
    for (i = 0; i < r.hosts.length; i++) {
      if (wildcardLabel(r.hosts[i], host) !== null) any = true;
    }
    if (!any) return false;
  }
  if (r.headers) {
    for (i = 0; i < r.headers.length; i++) {
      if (headers.get(r.headers[i][0]) !== r.headers[i][1]) return false;
    }
  }
  return true;
}

export function isVar(seg) {
  return seg.length > 2 && seg.charAt(0) === "{" && seg.charAt(seg.length - 1) === "}";
}

// matchRoute returns {route, segs} for the first route in IR order that matches, or null. Without an
// index it scans every route; with one (buildIndex, or the same shape generated at render time) it looks the
// path up and evaluates only the candidates, still in IR order, so the answer is always the scan's.
export function matchRoute(routes, host, method, path, headers, index) {
  var segs = path.slice(1).split("/");
  var i;
  if (!index) {
    for (i = 0; i < routes.length; i++) {
      if (routeMatches(routes[i], host, method, path, segs, headers)) return { route: routes[i], segs: segs };
    }
    return null;
  }
  var cand = candidates(index, path, segs.length);
  for (i = 0; i < cand.length; i++) {
    var r = routes[cand[i]];
    if (routeMatches(r, host, method, path, segs, headers)) return { route: r, segs: segs };
  }
  return null;
}

// candidates returns the positions, ascending and without repeats, of the routes that may match path
// (segments: its number of segments): the only ones matchRoute evaluates.
export function candidates(index, path, segments) {
  var cand = [];
  var has = Object.prototype.hasOwnProperty;
  var i;
  function add(table, key) {
    if (has.call(table, key)) {
      var list = table[key];
      for (var k = 0; k < list.length; k++) cand.push(list[k]);
    }
  }
  add(index.exact, path);
  if (index.hasPrefix) {
    add(index.prefix, path);
    for (i = 0; i < path.length; i++) {
      if (path.charCodeAt(i) !== 0x2f) continue;
      if (i > 0) add(index.prefix, path.slice(0, i));
      if (i + 1 < path.length) add(index.prefix, path.slice(0, i + 1));
    }
  }
  add(index.templates, String(segments));
  for (i = 0; i < index.scanned.length; i++) cand.push(index.scanned[i]);
  cand.sort(function (a, b) {
    return a - b;
  });
  var out = [];
  for (i = 0; i < cand.length; i++) {
    if (i === 0 || cand[i] !== cand[i - 1]) out.push(cand[i]);
  }
  return out;
}

// buildIndex returns the lookup tables matchRoute uses: route positions by exact path, by prefix, by
// template segment count, and the routes every request is checked against (regex, fallback).
export function buildIndex(routes) {
  var index = { exact: {}, prefix: {}, templates: {}, scanned: [], hasPrefix: false };
  function put(table, key, i) {
    if (!Object.prototype.hasOwnProperty.call(table, key)) table[key] = [];
    table[key].push(i);
  }
  for (var i = 0; i < routes.length; i++) {
    var r = routes[i];
    if (r.kind === "exact") put(index.exact, r.path, i);
    else if (r.kind === "prefix") {
      put(index.prefix, r.path, i);
      index.hasPrefix = true;
    } else if (r.kind === "template") put(index.templates, String(r.segments.length), i);
    else index.scanned.push(i);
  }
  return index;
}

// joinPrefix puts rest after prefix without doubling or dropping the separator.
export function joinPrefix(prefix, rest) {
  var ps = prefix.charAt(prefix.length - 1) === "/";
  var rs = rest.charAt(0) === "/";
  if (rest === "") return prefix;
  if (ps && rs) return prefix + rest.slice(1);
  if (!ps && !rs) return prefix + "/" + rest;
  return prefix + rest;
}

// rewritePath returns the upstream path of a matched, normalized path.
export function rewritePath(r, path, segs) {
  var rw = r.rewrite;
  if (!rw) return path;
  if (rw.path) {
    if (!r.vars || rw.path.indexOf("{") < 0) return rw.path;
    var out = rw.path;
    for (var i = 0; i < r.vars.length; i++) {
      out = out.split("{" + r.vars[i][0] + "}").join(segs[r.vars[i][1]]);
    }
    return out;
  }
  if (rw.prefix && r.kind === "prefix") return joinPrefix(rw.prefix, path.slice(r.path.length));
  return path;
}

// publicPath maps an upstream path back to the public one (the inverse of the rewrite), or null.
export function publicPath(r, upstream, requestPath, sentUpstream) {
  var rw = r.rewrite;
  if (!rw) return null;
  if (rw.prefix && r.kind === "prefix") {
    if (prefixMatches(rw.prefix, upstream)) return joinPrefix(r.path, upstream.slice(rw.prefix.length));
    return null;
  }
  if (rw.path && upstream === sentUpstream) return requestPath;
  return null;
}

// applyHeaderTransform removes, then sets ({remove: [names], set: [[name, value]]}).
export function applyHeaderTransform(h, t) {
  var i;
  for (i = 0; i < t.remove.length; i++) h.delete(t.remove[i]);
  for (i = 0; i < t.set.length; i++) h.set(t.set[i][0], t.set[i][1]);
}

// HOP_BY_HOP are removed from a request before it goes upstream, with the X-Forwarded-* and Forwarded
// headers a client sent (the edge writes its own), as Go's ReverseProxy does.
export var HOP_BY_HOP = ["connection", "proxy-connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
  "te", "trailer", "transfer-encoding", "upgrade", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"];

// upstreamHeaders edits h, a copy of the client's headers, into what goes upstream and returns the request
// id sent (or ""). st: {clientHeaders, stripHeaders, transform, tenantHeader, tenant, claims, forward,
// newRequestID, clientIP, host, scheme}; claimText reads a verified claim.
export function upstreamHeaders(h, st, claimText) {
  var conn = h.get("connection");
  var i;
  if (conn) {
    var named = conn.split(",");
    for (i = 0; i < named.length; i++) {
      var n = named[i].trim();
      if (n) h.delete(n);
    }
  }
  for (i = 0; i < HOP_BY_HOP.length; i++) h.delete(HOP_BY_HOP[i]);
  for (i = 0; i < st.stripHeaders.length; i++) h.delete(st.stripHeaders[i]);
  var tr = st.transform;
  applyHeaderTransform(h, tr.request);
  var id = "";
  if (tr.requestId) {
    id = st.clientHeaders.get(tr.requestId) || "";
    if (!tr.keepClientRequestId || id === "") id = st.newRequestID();
    h.set(tr.requestId, id);
  }
  if (st.tenantHeader && st.tenant) h.set(st.tenantHeader, st.tenant);
  if (st.claims && st.forward) {
    for (i = 0; i < st.forward.length; i++) {
      var v = claimText(st.claims, st.forward[i][0]);
      if (v !== undefined) h.set(st.forward[i][1], v);
    }
  }
  h.set("X-Forwarded-For", st.clientIP);
  h.set("X-Forwarded-Host", st.host);
  // A platform that forbids a function to set it (CloudFront) passes no scheme and sets it itself.
  if (st.scheme) h.set("X-Forwarded-Proto", st.scheme);
  return id;
}

// finishHeaders applies what every response gets, as the reference's responseWriter does: the response
// transform (the route's, or the gateway's when no route matched), HSTS, and CORS headers.
export function finishHeaders(h, gw, route, corsOrigin) {
  applyHeaderTransform(h, route ? route.transform.response : gw.transform.response);
  if (gw.hsts) h.set("Strict-Transport-Security", gw.hsts);
  var c = gw.cors;
  if (c) {
    var vary = h.get("vary");
    h.set("Vary", vary ? vary + ", Origin" : "Origin");
    if (corsOrigin) {
      h.set("Access-Control-Allow-Origin", allowOriginValue(c, corsOrigin));
      for (var i = 0; i < c.simpleHeaders.length; i++) h.set(c.simpleHeaders[i][0], c.simpleHeaders[i][1]);
    }
  }
}

export function corsAllows(c, origin) {
  for (var i = 0; i < c.allowOrigins.length; i++) {
    if (c.allowOrigins[i] === "*" || c.allowOrigins[i] === origin) return true;
  }
  return false;
}

export function allowOriginValue(c, origin) {
  for (var i = 0; i < c.allowOrigins.length; i++) {
    if (c.allowOrigins[i] === "*" && !c.allowCredentials) return "*";
  }
  return origin;
}

// edgeError returns {status, headers: [[name, value]], body} of the edge response for code.
export function edgeError(gw, code) {
  var e = gw.errors[code];
  if (e) return e;
  var u = gw.errors.UPSTREAM_UNREACHABLE;
  return { status: u ? u.status : 502, headers: u ? u.headers : [], body: u ? u.body : "" };
}

// redirectLocation returns the Location of a redirect route.
export function redirectLocation(rd, rawQuery) {
  var loc = rd.location;
  if (rd.keepQuery && rawQuery) loc += (loc.indexOf("?") >= 0 ? "&" : "?") + rawQuery;
  return loc;
}

// splitTarget splits a request URL string into {host, path, query} without decoding anything.
export function splitTarget(url) {
  var s = url;
  var scheme = "";
  var k = s.indexOf("://");
  if (k >= 0) {
    scheme = s.slice(0, k).toLowerCase();
    s = s.slice(k + 3);
  }
  var slash = s.indexOf("/");
  var q = s.indexOf("?");
  var authEnd = slash < 0 ? (q < 0 ? s.length : q) : q >= 0 && q < slash ? q : slash;
  var host = s.slice(0, authEnd);
  var rest = s.slice(authEnd);
  if (rest === "" || rest.charAt(0) === "?") rest = "/" + rest;
  var qi = rest.indexOf("?");
  var hash = rest.indexOf("#");
  if (hash >= 0 && (qi < 0 || hash < qi)) {
    rest = rest.slice(0, hash);
    qi = -1;
  }
  var path = qi < 0 ? rest : rest.slice(0, qi);
  var query = qi < 0 ? "" : rest.slice(qi + 1);
  return { scheme: scheme, host: host, path: path, query: query };
}

// parseLocation splits a Location value into {scheme, host, path, query, fragment, abs}; path is raw.
function parseLocation(loc) {
  var out = { scheme: "", host: "", path: "", query: "", fragment: "", hasQuery: false, hasFragment: false, abs: false };
  var s = loc;
  var h = s.indexOf("#");
  if (h >= 0) {
    out.fragment = s.slice(h + 1);
    out.hasFragment = true;
    s = s.slice(0, h);
  }
  var m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
  if (m) {
    out.scheme = m[1].toLowerCase();
    out.abs = true;
    s = s.slice(m[0].length);
  }
  if (s.indexOf("//") === 0) {
    s = s.slice(2);
    var e = s.search(/[/?]/);
    out.host = e < 0 ? s : s.slice(0, e);
    s = e < 0 ? "" : s.slice(e);
  }
  var q = s.indexOf("?");
  if (q >= 0) {
    out.query = s.slice(q + 1);
    out.hasQuery = true;
    s = s.slice(0, q);
  }
  out.path = s;
  return out;
}

// publicLocation maps a Location (or Content-Location) an origin sent to the public URL, as the reference
// does: a URL on an origin host gets the public scheme and host, and a path under the rewrite gets the public
// path. st: {route, originHosts, scheme, publicHost, requestPath, upstreamPath}.
export function publicLocation(loc, st) {
  var u = parseLocation(loc);
  if (u.abs) {
    if (st.originHosts.indexOf(u.host.toLowerCase()) < 0) return loc;
    u.scheme = st.scheme;
    u.host = st.publicHost;
  } else if (u.host !== "" || u.path.charAt(0) !== "/") {
    return loc;
  }
  var p = publicPath(st.route, u.path, st.requestPath, st.upstreamPath);
  var out;
  if (p !== null) {
    out = p;
    if (u.query) out += "?" + u.query;
    if (u.fragment) out += "#" + u.fragment;
  } else {
    out = u.path + (u.hasQuery ? "?" + u.query : "") + (u.hasFragment ? "#" + u.fragment : "");
  }
  return u.abs ? u.scheme + "://" + u.host + out : out;
}

// slidingWindow counts one request at now (ms) in hits (ascending ms times, edited in place) for a limit
// of limit requests per windowMs. It returns {allowed, retryAfter (seconds, 0 when allowed)}.
export function slidingWindow(hits, now, windowMs, limit) {
  var cutoff = now - windowMs;
  var i = 0;
  while (i < hits.length && !(hits[i] > cutoff)) i++;
  if (i > 0) hits.splice(0, i);
  if (hits.length >= limit) {
    var retryMs = hits[0] + windowMs - now;
    var secs = Math.ceil(retryMs / 1000);
    if (secs < 1) secs = 1;
    return { allowed: false, retryAfter: secs };
  }
  hits.push(now);
  return { allowed: true, retryAfter: 0 };
}

// rateLimitKey picks the key of a request: the verified sub or the header, else the client IP.
export function rateLimitKey(limit, sub, headers, clientIP) {
  if (limit.kind === "jwt.sub" && sub) return "sub:" + sub;
  if (limit.kind === "header") {
    var v = headers.get(limit.header);
    if (v) return "hdr:" + v;
  }
  return "ip:" + clientIP;
}

// breakerRecord notes one answer of an origin in state {consecutive, openUntil (ms)}: after the cooldown
// the count is still at the threshold, so the first failure re-opens at once, and a success closes.
export function breakerRecord(state, policy, status, now) {
  if (policy.status.indexOf(status) < 0) {
    state.consecutive = 0;
    return;
  }
  state.consecutive++;
  if (state.consecutive >= policy.consecutive) state.openUntil = now + policy.cooldownMs;
}

export function breakerOpen(state, now) {
  return now < state.openUntil;
}
