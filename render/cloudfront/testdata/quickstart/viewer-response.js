// jsruntime:gateway.js
function hostOf(hostHeader) {
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
function prefixMatches(prefix, path) {
  if (path.indexOf(prefix) !== 0) return false;
  return path.length === prefix.length || prefix.charAt(prefix.length - 1) === "/" || path.charAt(prefix.length) === "/";
}
function joinPrefix(prefix, rest) {
  var ps = prefix.charAt(prefix.length - 1) === "/";
  var rs = rest.charAt(0) === "/";
  if (rest === "") return prefix;
  if (ps && rs) return prefix + rest.slice(1);
  if (!ps && !rs) return prefix + "/" + rest;
  return prefix + rest;
}
function rewritePath(r, path, segs) {
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
function publicPath(r, upstream, requestPath, sentUpstream) {
  var rw = r.rewrite;
  if (!rw) return null;
  if (rw.prefix && r.kind === "prefix") {
    if (prefixMatches(rw.prefix, upstream)) return joinPrefix(r.path, upstream.slice(rw.prefix.length));
    return null;
  }
  if (rw.path && upstream === sentUpstream) return requestPath;
  return null;
}
function applyHeaderTransform(h, t) {
  var i;
  for (i = 0; i < t.remove.length; i++) h.delete(t.remove[i]);
  for (i = 0; i < t.set.length; i++) h.set(t.set[i][0], t.set[i][1]);
}
function finishHeaders(h, gw, route, corsOrigin) {
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
function allowOriginValue(c, origin) {
  for (var i = 0; i < c.allowOrigins.length; i++) {
    if (c.allowOrigins[i] === "*" && !c.allowCredentials) return "*";
  }
  return origin;
}
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
function publicLocation(loc, st) {
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

// cloudfront:pathnorm.js
function normalize(raw) {
  if (/^(?=\/)(\/(?!\.\.?(\/|$))[\w.~!$&'()*+,=:@-]+)*\/?$/.test(raw)) return raw;
  var s = /[^\x00-\xff]/.test(raw) ? encodeURIComponent(raw).replace(/%([\dA-F]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))) : raw;
  if (s.charAt(0) !== "/") return null;
  var out = "/";
  var seg = 1;
  function end(last) {
    var t = out.slice(seg);
    if (t === ".") out = out.slice(0, seg);
    else if (t === "..") {
      if (seg === 1) return false;
      out = out.slice(0, out.lastIndexOf("/", seg - 2) + 1);
      seg = out.length;
    } else if (t !== "" && !last) {
      out += "/";
      seg = out.length;
    }
    return true;
  }
  for (var i = 1; i < s.length; i++) {
    var c = s.charAt(i);
    var decoded = c === "%";
    if (decoded) {
      var hex = s.substr(i + 1, 2);
      if (!/^[\dA-Fa-f]{2}$/.test(hex)) return null;
      c = String.fromCharCode(parseInt(hex, 16));
      i += 2;
    }
    var x = c.charCodeAt(0);
    if (x < 32 || x === 127 || x === 192 || x === 193 || c === "\\" || c === ";" || decoded && c === "/") return null;
    if (c === "/") {
      if (!end(false)) return null;
    } else if (/[\w.~-]/.test(c) || !decoded && /[!$&'()*+,=:@]/.test(c)) {
      if (/[\dA-Fa-f]/.test(c) && /%25[\dA-Fa-f]$/.test(out.slice(-4))) return null;
      out += c;
    } else {
      out += "%" + (x < 16 ? "0" : "") + x.toString(16).toUpperCase();
    }
  }
  return end(true) ? out : null;
}

// viewer-response.js
//! Gateway "quickstart", rendered by edgegw for CloudFront Functions (cloudfront-js-2.0). Generated: edit the manifest, not this file.
var R_HEADERS_1 = { remove: [], set: [] };
var R_TRANSFORM_0 = { response: R_HEADERS_1 };
var GATEWAY = { cors: null, hsts: "", pools: { "app": { originHosts: ["127.0.0.1:9000"] } }, stripHeaders: null, transform: R_TRANSFORM_0 };
//! route "health"
var route_0 = { transform: R_TRANSFORM_0 };
//! route "api"
var route_1 = { pool: "app", transform: R_TRANSFORM_0 };
//! route "default"
var route_2 = { transform: R_TRANSFORM_0 };
var ROUTES = [route_0, route_1, route_2];
//! The route matcher, generated from the routes in IR order.
function matchRoute(host, method, path, headers) {
  //! route "health"
  if (path === "/health") return 0;
  //! route "api"
  if (prefixMatches("/api", path)) return 1;
  //! route "default"
  return 2;
}
//! The host matcher, generated from the domains.
function matchHost(host) {
  if (host === "api.example.com") return { tenantHeader: "", tenant: "" };
  return null;
}
var ROUTE_KVS = false ? cf.kvs() : null;
function headersOf(obj) {
  return {
    get: (n) => {
      var v = obj[n.toLowerCase()];
      return v ? v.value : null;
    },
    set: (n, v) => {
      obj[n.toLowerCase()] = { value: String(v) };
    },
    delete: (n) => {
      delete obj[n.toLowerCase()];
    }
  };
}
async function view(req) {
  var client = headersOf(req.headers);
  var v = { client, now: Date.now() };
  if (false) {
    if (client.get(TEST_NOW)) v.now = Number(client.get(TEST_NOW));
    if (client.get(TEST_SCHEME)) v.scheme = client.get(TEST_SCHEME);
    client.delete(TEST_NOW);
    client.delete(TEST_SCHEME);
  }
  v.rawHost = client.get("host") || "";
  v.path = normalize(req.uri);
  if (v.path === null) return failed(v, "BAD_PATH");
  v.host = hostOf(v.rawHost);
  v.tenancy = matchHost(v.host);
  if (!v.tenancy) return failed(v, "HOST_UNKNOWN");
  var cors = GATEWAY.cors;
  if (false) {
    var origin = client.get("origin");
    if (origin && corsAllows(cors, origin)) v.corsOrigin = origin;
    if (req.method === "OPTIONS" && origin && client.get("access-control-request-method")) {
      v.preflight = true;
      return v;
    }
  }
  var k = await matchRoute(v.host, req.method, v.path, client);
  if (false ? !k : k < 0) return failed(v, "NO_ROUTE");
  v.route = false ? k : ROUTES[k];
  v.segs = v.path.slice(1).split("/");
  return v;
}
function failed(v, code) {
  v.fail = code;
  return v;
}
async function handler(event) {
  var resp = event.response;
  var v = await view(event.request);
  var h = headersOf(resp.headers);
  if (v.route && v.route.pool) {
    var st = {
      route: v.route,
      originHosts: GATEWAY.pools[v.route.pool].originHosts,
      scheme: v.scheme || "https",
      publicHost: v.rawHost,
      requestPath: v.path,
      upstreamPath: rewritePath(v.route, v.path, v.segs)
    };
    var names = ["location", "content-location"];
    for (var i = 0; i < names.length; i++) {
      var loc = h.get(names[i]);
      if (loc) h.set(names[i], publicLocation(loc, st));
    }
  }
  if (false) {
    for (var j = 0; j < GATEWAY.cors.owned.length; j++) h.delete(GATEWAY.cors.owned[j]);
  }
  finishHeaders(h, GATEWAY, v.route, v.corsOrigin);
  return resp;
}
