// worker.js
import { DurableObject } from "cloudflare:workers";

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
function wildcardLabel(pattern, host) {
  var p = pattern.toLowerCase();
  if (p.indexOf("*.") !== 0) return p === host.toLowerCase() ? "" : null;
  var rest = p.slice(2);
  var dot = host.indexOf(".");
  if (dot <= 0) return null;
  if (host.slice(dot + 1) !== rest) return null;
  return host.slice(0, dot);
}
function matchHost(domains, host) {
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
var HOP_BY_HOP = [
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto"
];
function upstreamHeaders(h, st, claimText2) {
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
      var v = claimText2(st.claims, st.forward[i][0]);
      if (v !== void 0) h.set(st.forward[i][1], v);
    }
  }
  h.set("X-Forwarded-For", st.clientIP);
  h.set("X-Forwarded-Host", st.host);
  if (st.scheme) h.set("X-Forwarded-Proto", st.scheme);
  return id;
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
function corsAllows(c, origin) {
  for (var i = 0; i < c.allowOrigins.length; i++) {
    if (c.allowOrigins[i] === "*" || c.allowOrigins[i] === origin) return true;
  }
  return false;
}
function allowOriginValue(c, origin) {
  for (var i = 0; i < c.allowOrigins.length; i++) {
    if (c.allowOrigins[i] === "*" && !c.allowCredentials) return "*";
  }
  return origin;
}
function edgeError(gw, code) {
  var e = gw.errors[code];
  if (e) return e;
  var u = gw.errors.UPSTREAM_UNREACHABLE;
  return { status: u ? u.status : 502, headers: u ? u.headers : [], body: u ? u.body : "" };
}
function redirectLocation(rd, rawQuery) {
  var loc = rd.location;
  if (rd.keepQuery && rawQuery) loc += (loc.indexOf("?") >= 0 ? "&" : "?") + rawQuery;
  return loc;
}
function splitTarget(url) {
  var s = url;
  var scheme = "";
  var k = s.indexOf("://");
  if (k >= 0) {
    scheme = s.slice(0, k).toLowerCase();
    s = s.slice(k + 3);
  }
  var slash = s.indexOf("/");
  var q = s.indexOf("?");
  var authEnd = slash < 0 ? q < 0 ? s.length : q : q >= 0 && q < slash ? q : slash;
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
  return { scheme, host, path, query };
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
function slidingWindow(hits, now, windowMs, limit) {
  var cutoff = now - windowMs;
  var i = 0;
  while (i < hits.length && !(hits[i] > cutoff)) i++;
  if (i > 0) hits.splice(0, i);
  if (hits.length >= limit) {
    var retryMs = hits[0] + windowMs - now;
    var secs = Math.ceil(retryMs / 1e3);
    if (secs < 1) secs = 1;
    return { allowed: false, retryAfter: secs };
  }
  hits.push(now);
  return { allowed: true, retryAfter: 0 };
}
function rateLimitKey(limit, sub, headers, clientIP) {
  if (limit.kind === "jwt.sub" && sub) return "sub:" + sub;
  if (limit.kind === "header") {
    var v = headers.get(limit.header);
    if (v) return "hdr:" + v;
  }
  return "ip:" + clientIP;
}
function breakerRecord(state, policy, status, now) {
  if (policy.status.indexOf(status) < 0) {
    state.consecutive = 0;
    return;
  }
  state.consecutive++;
  if (state.consecutive >= policy.consecutive) state.openUntil = now + policy.cooldownMs;
}
function breakerOpen(state, now) {
  return now < state.openUntil;
}

// jsruntime:pathnorm.js
var UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
var RAW_SUB_DELIMS = "!$&'()*+,=:@";
var HEX = "0123456789ABCDEF";
var KEEP_ESCAPED = 0;
var KEEP_LITERAL = 1;
var END_SEGMENT = 2;
var DECODE_ESCAPE = 3;
var rawAction = [];
var decodedAction = [];
(function buildTables() {
  var i;
  for (i = 0; i < 256; i++) {
    rawAction[i] = KEEP_ESCAPED;
    decodedAction[i] = KEEP_ESCAPED;
    if (i < 32 || i === 127) {
      rawAction[i] = "control byte";
      decodedAction[i] = "encoded control byte";
    }
  }
  for (i = 0; i < UNRESERVED.length; i++) {
    rawAction[UNRESERVED.charCodeAt(i)] = KEEP_LITERAL;
    decodedAction[UNRESERVED.charCodeAt(i)] = KEEP_LITERAL;
  }
  for (i = 0; i < RAW_SUB_DELIMS.length; i++) {
    rawAction[RAW_SUB_DELIMS.charCodeAt(i)] = KEEP_LITERAL;
  }
  rawAction[47] = END_SEGMENT;
  rawAction[37] = DECODE_ESCAPE;
  rawAction[92] = "raw backslash";
  rawAction[59] = "path parameter";
  rawAction[192] = "overlong utf-8";
  rawAction[193] = "overlong utf-8";
  decodedAction[47] = "encoded slash";
  decodedAction[92] = "encoded backslash";
  decodedAction[59] = "encoded path parameter";
  decodedAction[0] = "encoded nul byte";
  decodedAction[192] = "overlong utf-8";
  decodedAction[193] = "overlong utf-8";
})();
function unhex(c) {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 65 + 10;
  if (c >= 97 && c <= 102) return c - 97 + 10;
  return -1;
}
function toBytes(s) {
  var out = [];
  var wide = false;
  var i;
  for (i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) {
      wide = true;
      break;
    }
  }
  if (!wide) {
    for (i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
    return out;
  }
  var u = unescape(encodeURIComponent(s));
  for (i = 0; i < u.length; i++) out.push(u.charCodeAt(i));
  return out;
}
function normalize(raw) {
  var b = toBytes(raw);
  if (b.length === 0 || b[0] !== 47) return { reject: "not an absolute path" };
  var out = [47];
  var seg = 1;
  var i, c, a;
  function endsWithPercent25Hex() {
    var n = out.length;
    return n >= 4 && out[n - 4] === 37 && out[n - 3] === 50 && out[n - 2] === 53 && unhex(out[n - 1]) >= 0;
  }
  function endSegment(last) {
    var n = out.length - seg;
    if (n === 1 && out[seg] === 46) {
      out.length = seg;
      return true;
    }
    if (n === 2 && out[seg] === 46 && out[seg + 1] === 46) {
      if (seg === 1) return false;
      var j = seg - 2;
      while (out[j] !== 47) j--;
      out.length = j + 1;
      seg = j + 1;
      return true;
    }
    if (n === 0) return true;
    if (!last) {
      out.push(47);
      seg = out.length;
    }
    return true;
  }
  for (i = 1; i < b.length; i++) {
    c = b[i];
    a = rawAction[c];
    if (a === DECODE_ESCAPE) {
      if (i + 2 >= b.length) return { reject: "malformed percent escape" };
      var h1 = unhex(b[i + 1]);
      var h2 = unhex(b[i + 2]);
      if (h1 < 0 || h2 < 0) return { reject: "malformed percent escape" };
      c = h1 * 16 + h2;
      a = decodedAction[c];
      i += 2;
    }
    if (a === KEEP_LITERAL) {
      if (unhex(c) >= 0 && endsWithPercent25Hex()) return { reject: "double encoding" };
      out.push(c);
    } else if (a === KEEP_ESCAPED) {
      out.push(37, HEX.charCodeAt(c >> 4), HEX.charCodeAt(c & 15));
    } else if (a === END_SEGMENT) {
      if (!endSegment(false)) return { reject: "above the root" };
    } else {
      return { reject: a };
    }
  }
  if (!endSegment(true)) return { reject: "above the root" };
  var s = "";
  for (i = 0; i < out.length; i++) s += String.fromCharCode(out[i]);
  return { path: s };
}

// jsruntime:json.js
var T = "";
var I = 0;
var N = 0;
function fail(kind) {
  throw { scanError: kind };
}
function ws() {
  for (; I < N; I++) {
    var c = T.charCodeAt(I);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return;
  }
}
function isDigit(c) {
  return c >= 48 && c <= 57;
}
function digits() {
  while (isDigit(T.charCodeAt(I))) I++;
}
function str() {
  var esc = false;
  I++;
  while (I < N) {
    var c = T.charCodeAt(I++);
    if (c === 34) return esc;
    if (c < 32) fail("syntax");
    if (c === 92) {
      esc = true;
      var e = T.charAt(I++);
      if (e === "u") {
        if (!/^[0-9a-fA-F]{4}/.test(T.substr(I, 4))) fail("syntax");
        I += 4;
      } else if (e === "" || '"\\/bfnrt'.indexOf(e) < 0) fail("syntax");
    }
  }
  fail("syntax");
}
function num() {
  if (T.charCodeAt(I) === 45) I++;
  var c = T.charCodeAt(I);
  if (!isDigit(c)) fail("syntax");
  I++;
  if (c !== 48) digits();
  if (T.charCodeAt(I) === 46 && isDigit(T.charCodeAt(I + 1))) {
    I++;
    digits();
  }
  var m = (T.charCodeAt(I) | 32) === 101 && /^.[+-]?[0-9]/.exec(T.substr(I, 3));
  if (m) {
    I += m[0].length;
    digits();
  }
}
function value(depth) {
  if (depth > 1e4) fail("syntax");
  ws();
  var c = T.charCodeAt(I);
  if (c === 123) return object(depth + 1, null);
  if (c === 91) {
    I++;
    ws();
    if (T.charCodeAt(I) === 93) {
      I++;
      return;
    }
    for (; ; ) {
      value(depth + 1);
      ws();
      c = T.charCodeAt(I++);
      if (c === 93) return;
      if (c !== 44) fail("syntax");
    }
  }
  if (c === 34) {
    str();
    return;
  }
  if (c === 45 || isDigit(c)) return num();
  var lit = c === 116 ? "true" : c === 102 ? "false" : "null";
  if (!T.startsWith(lit, I)) fail("syntax");
  I += lit.length;
}
function object(depth, members) {
  I++;
  var names = [];
  var seen = null;
  ws();
  if (T.charCodeAt(I) === 125) {
    I++;
    return;
  }
  for (; ; ) {
    ws();
    if (T.charCodeAt(I) !== 34) fail("syntax");
    var start = I;
    var name = str() ? JSON.parse(T.slice(start, I)) : T.slice(start + 1, I - 1);
    if (names.length < 16) {
      if (names.indexOf(name) >= 0) fail("duplicate");
    } else {
      if (seen === null) {
        seen = {};
        for (var k = 0; k < names.length; k++) seen["$" + names[k]] = true;
      }
      if (seen["$" + name] === true) fail("duplicate");
      seen["$" + name] = true;
    }
    names.push(name);
    ws();
    if (T.charCodeAt(I) !== 58) fail("syntax");
    I++;
    ws();
    start = I;
    value(depth);
    if (members) members.push({ name, raw: T.slice(start, I) });
    ws();
    var c = T.charCodeAt(I++);
    if (c === 125) return;
    if (c !== 44) fail("syntax");
  }
}
function scanObject(text) {
  T = text;
  I = 0;
  N = text.length;
  ws();
  if (T.charCodeAt(I) !== 123) return { error: "not object" };
  var members = [];
  try {
    object(1, members);
    ws();
    if (I !== N) return { error: "syntax" };
  } catch (e) {
    if (e && e.scanError) return { error: e.scanError };
    throw e;
  } finally {
    T = "";
  }
  return { members };
}
function member(members, name) {
  var raw;
  for (var i = 0; i < members.length; i++) {
    if (members[i].name === name) raw = members[i].raw;
  }
  return raw;
}
function compact(raw) {
  var out = "";
  var inStr = false;
  for (var i = 0; i < raw.length; i++) {
    var c = raw.charAt(i);
    if (inStr) {
      out += c;
      if (c === "\\") {
        out += raw.charAt(i + 1);
        i++;
      } else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    if (c === " " || c === "	" || c === "\n" || c === "\r") continue;
    out += c;
  }
  return out;
}

// jsruntime:jwt.js
var MAX_TOKEN_SIZE = 8192;
var B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
var B64INDEX = /* @__PURE__ */ b64Index();
function b64Index() {
  var t = new Int16Array(256);
  for (var i = 0; i < 256; i++) t[i] = B64URL.indexOf(String.fromCharCode(i));
  return t;
}
function b64urlInto(s, from, to, out, o) {
  if ((to - from & 3) === 1) return false;
  for (var i = from; i < to; i += 4) {
    var k = to - i;
    var a = s.charCodeAt(i);
    var b = s.charCodeAt(i + 1);
    var c = k > 2 ? s.charCodeAt(i + 2) : 65;
    var d = k > 3 ? s.charCodeAt(i + 3) : 65;
    var x = (a | b | c | d) > 255 ? -1 : B64INDEX[a] << 18 | B64INDEX[b] << 12 | B64INDEX[c] << 6 | B64INDEX[d];
    if (x < 0 || k < 4 && x & (k < 3 ? 65535 : 255)) return false;
    out[o++] = x >> 16;
    if (k > 2) out[o++] = x >> 8;
    if (k > 3) out[o++] = x;
  }
  return true;
}
function b64urlDecode(s) {
  var out = new Uint8Array(s.length * 3 >> 2);
  if (b64urlInto(s, 0, s.length, out, 0)) return out;
  return /[\r\n]/.test(s) ? b64urlDecode(s.replace(/[\r\n]/g, "")) : null;
}
var UTF8 = /* @__PURE__ */ strictUTF8();
function strictUTF8() {
  return typeof TextDecoder == "function" && new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
}
function utf8Text(bytes) {
  if (UTF8) {
    try {
      return UTF8.decode(bytes);
    } catch (e) {
    }
  }
  var s = "";
  var i = 0;
  while (i < bytes.length) {
    var c = bytes[i];
    var need = 0;
    var cp = 0;
    var min = 0;
    if (c < 128) {
      s += String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 194 && c <= 223) {
      need = 1;
      cp = c & 31;
      min = 128;
    } else if (c >= 224 && c <= 239) {
      need = 2;
      cp = c & 15;
      min = 2048;
    } else if (c >= 240 && c <= 244) {
      need = 3;
      cp = c & 7;
      min = 65536;
    } else {
      s += "�";
      i++;
      continue;
    }
    var ok = i + need <= bytes.length - 1;
    var k;
    for (k = 1; ok && k <= need; k++) {
      var d = bytes[i + k];
      if ((d & 192) !== 128) ok = false;
      else cp = cp << 6 | d & 63;
    }
    if (!ok || cp < min || cp > 1114111 || cp >= 55296 && cp <= 57343) {
      s += "�";
      i++;
      continue;
    }
    s += String.fromCodePoint(cp);
    i += need + 1;
  }
  return s;
}
function err(code, detail) {
  return { code, detail };
}
function bearerToken(value2) {
  if (value2 === null || value2 === void 0) return err("JWT_MISSING", "no Authorization header");
  var t = value2.trim();
  if (t.length === 6 && t.toLowerCase() === "bearer") return err("JWT_MALFORMED", "empty bearer token");
  var sp = value2.indexOf(" ");
  if (sp < 0 || value2.slice(0, sp).toLowerCase() !== "bearer") {
    return err("JWT_MISSING", "Authorization is not a Bearer credential");
  }
  while (value2.charCodeAt(sp + 1) === 32) sp++;
  var token = value2.slice(sp + 1);
  if (token === "") return err("JWT_MALFORMED", "empty bearer token");
  return { token };
}
var EMBEDDED_KEY_HEADERS = ["jwk", "jku", "x5u", "x5c"];
function isJSONString(raw) {
  return raw.charAt(0) === '"';
}
function jsonString(raw) {
  return raw.indexOf("\\") < 0 ? raw.slice(1, -1) : JSON.parse(raw);
}
function parseJWS(token, algorithms) {
  if (token.length > MAX_TOKEN_SIZE) return err("JWT_TOO_LARGE", "token over " + MAX_TOKEN_SIZE + " bytes");
  var d1 = token.indexOf(".");
  var d2 = d1 < 0 ? -1 : token.indexOf(".", d1 + 1);
  if (d2 < 0 || token.indexOf(".", d2 + 1) >= 0) {
    return err("JWT_MALFORMED", "compact JWS needs 3 parts, got " + token.split(".").length);
  }
  var ends = [d1, d2, token.length];
  var buf = new Uint8Array(token.length * 3 >> 2);
  var raw = [];
  var from = 0;
  for (var i = 0; i < 3; i++) {
    var o = from * 3 >> 2;
    var b = b64urlInto(token, from, ends[i], buf, o) ? buf.subarray(o, o + ((ends[i] - from) * 3 >> 2)) : b64urlDecode(token.slice(from, ends[i]));
    if (b === null) return err("JWT_MALFORMED", "part " + (i + 1) + " is not base64url");
    raw.push(b);
    from = ends[i] + 1;
  }
  var hdrText = utf8Text(raw[0]);
  var scan = scanObject(hdrText);
  if (scan.error === "not object") return err("JWT_MALFORMED", "header: not a JSON object");
  if (scan.error) return err("JWT_UNSUPPORTED", "header: " + scan.error);
  var members = scan.members;
  for (i = 0; i < EMBEDDED_KEY_HEADERS.length; i++) {
    if (member(members, EMBEDDED_KEY_HEADERS[i]) !== void 0) {
      return err("JWT_UNSUPPORTED", "header " + EMBEDDED_KEY_HEADERS[i] + " names a key");
    }
  }
  var algRaw, kidRaw, critRaw, b64Raw;
  var fieldsOK = true;
  for (i = 0; i < members.length; i++) {
    var ln = members[i].name.toLowerCase();
    var r = members[i].raw;
    if (ln === "alg") algRaw = r;
    else if (ln === "kid") kidRaw = r;
    else if (ln === "crit") critRaw = r;
    else if (ln === "b64") b64Raw = r;
    if ((ln === "alg" || ln === "kid") && r !== "null" && !isJSONString(r)) fieldsOK = false;
  }
  if (!fieldsOK) return err("JWT_UNSUPPORTED", "header: alg or kid is not a string");
  var alg = algRaw === void 0 || algRaw === "null" ? null : jsonString(algRaw);
  var kid = kidRaw === void 0 || kidRaw === "null" ? "" : jsonString(kidRaw);
  if (alg === null) return err("JWT_ALG", "header has no alg");
  if (algorithms.indexOf(alg) < 0) return err("JWT_ALG", "alg " + JSON.stringify(alg) + " is not allowed");
  if (critRaw !== void 0) return err("JWT_UNSUPPORTED", "crit header is not supported");
  if (b64Raw !== void 0) return err("JWT_UNSUPPORTED", "b64 header is not supported");
  var joseError = null;
  var exactAlg = member(members, "alg");
  var nonce = member(members, "nonce");
  if (exactAlg === void 0 || exactAlg === "null" || jsonString(exactAlg) !== alg) {
    joseError = "header alg is not the checked one";
  } else if (nonce !== void 0 && nonce !== "null" && !isJSONString(nonce)) {
    joseError = "header nonce is not a string";
  }
  return { alg, kid, signingInput: token.slice(0, d2), signature: raw[2], payload: raw[1], joseError };
}
function keyFits(key, kid, alg) {
  if (kid !== "" && key.kid && key.kid !== kid) return false;
  if (key.alg && key.alg !== alg) return false;
  return key.fits.indexOf(alg) >= 0;
}
function jwkInfo(jwk) {
  if (!jwk || typeof jwk !== "object") return null;
  if (jwk.use !== void 0 && jwk.use !== "" && jwk.use !== "sig") return null;
  if (jwk.key_ops !== void 0 && jwk.key_ops !== null && (!Array.isArray(jwk.key_ops) || jwk.key_ops.indexOf("verify") < 0)) return null;
  var info = { kid: typeof jwk.kid === "string" ? jwk.kid : "", alg: typeof jwk.alg === "string" ? jwk.alg : "", fits: [], jwk: null, bits: 0, hmacBytes: 0 };
  if (jwk.kty === "RSA" && typeof jwk.n === "string" && typeof jwk.e === "string") {
    var n = b64urlDecode(jwk.n);
    if (!n) return null;
    var k = 0;
    while (k < n.length && n[k] === 0) k++;
    info.bits = n.length - k > 0 ? (n.length - k) * 8 - Math.clz32(n[k]) + 24 : 0;
    info.fits = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
    info.jwk = { kty: "RSA", n: jwk.n, e: jwk.e };
  } else if (jwk.kty === "EC" && typeof jwk.x === "string" && typeof jwk.y === "string") {
    var ec = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" }[jwk.crv];
    if (!ec) return null;
    info.fits = [ec];
    info.jwk = { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  } else if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && typeof jwk.x === "string") {
    info.fits = ["EdDSA"];
    info.jwk = { kty: "OKP", crv: "Ed25519", x: jwk.x };
  } else if (jwk.kty === "oct" && typeof jwk.k === "string") {
    var kb = b64urlDecode(jwk.k);
    if (!kb || kb.length === 0) return null;
    info.hmacBytes = kb.length;
    info.fits = ["HS256", "HS384", "HS512"];
    info.jwk = { kty: "oct", k: jwk.k };
  } else {
    return null;
  }
  return info;
}
var HASH = { "256": "SHA-256", "384": "SHA-384", "512": "SHA-512" };
function verifyParams(alg, key) {
  var family = alg.slice(0, 2);
  var hash = HASH[alg.slice(2)];
  if (family === "HS") {
    if (key.hmacBytes * 8 < +alg.slice(2)) return null;
    return { importAlg: { name: "HMAC", hash }, verifyAlg: { name: "HMAC" }, sigLength: 0 };
  }
  if (family === "RS") {
    if (key.bits < 1024) return null;
    return { importAlg: { name: "RSASSA-PKCS1-v1_5", hash }, verifyAlg: { name: "RSASSA-PKCS1-v1_5" }, sigLength: 0 };
  }
  if (family === "PS") {
    if (key.bits < 1024) return null;
    return { importAlg: { name: "RSA-PSS", hash }, verifyAlg: { name: "RSA-PSS", saltLength: +alg.slice(2) / 8 }, sigLength: 0 };
  }
  if (family === "ES") {
    var curve = { ES256: ["P-256", 64], ES384: ["P-384", 96], ES512: ["P-521", 132] }[alg];
    return { importAlg: { name: "ECDSA", namedCurve: curve[0] }, verifyAlg: { name: "ECDSA", hash }, sigLength: curve[1] };
  }
  if (alg === "EdDSA") {
    return { importAlg: { name: "Ed25519" }, verifyAlg: { name: "Ed25519" }, sigLength: 64 };
  }
  return null;
}
function numericDate(members, name) {
  var raw = member(members, name);
  if (raw === void 0) return void 0;
  if (raw === "null") return 0;
  var c = raw.charAt(0);
  if (c !== "-" && (c < "0" || c > "9")) return NaN;
  var f = Number(raw);
  if (!isFinite(f)) return NaN;
  return f;
}
function checkClaims(payloadBytes, policy, now) {
  var scan = scanObject(utf8Text(payloadBytes));
  if (scan.error) return err("JWT_UNSUPPORTED", "claims: " + scan.error);
  var all = scan.members;
  var skew = policy.clockSkew;
  var exp = numericDate(all, "exp");
  if (exp !== void 0 && isNaN(exp)) return err("JWT_CLAIMS", "exp is not a number");
  if (exp === void 0) return err("JWT_EXPIRED", "token has no exp");
  if (!(now < exp + skew)) return err("JWT_EXPIRED", "expired");
  var nbf = numericDate(all, "nbf");
  if (nbf !== void 0 && isNaN(nbf)) return err("JWT_CLAIMS", "nbf is not a number");
  if (nbf !== void 0 && now + skew < nbf) return err("JWT_NOT_YET_VALID", "not valid yet");
  var iat = numericDate(all, "iat");
  if (iat !== void 0 && isNaN(iat)) return err("JWT_CLAIMS", "iat is not a number");
  if (iat !== void 0 && now + skew < iat) return err("JWT_NOT_YET_VALID", "issued in the future");
  var sub = "";
  var subRaw = member(all, "sub");
  if (subRaw !== void 0 && subRaw !== "null") {
    if (!isJSONString(subRaw)) return err("JWT_CLAIMS", "sub is not a string");
    sub = jsonString(subRaw);
  }
  if (policy.issuer) {
    var issRaw = member(all, "iss");
    var iss = issRaw !== void 0 && isJSONString(issRaw) ? jsonString(issRaw) : null;
    if (iss !== policy.issuer) return err("JWT_ISSUER", "issuer is not " + policy.issuer);
  }
  if (policy.audience && policy.audience.length > 0) {
    var audRaw = member(all, "aud");
    var auds = [];
    if (audRaw !== void 0) {
      if (audRaw === "null") auds = [""];
      else if (isJSONString(audRaw)) auds = [jsonString(audRaw)];
      else if (audRaw.charAt(0) === "[") {
        var arr = JSON.parse(audRaw);
        for (var i = 0; i < arr.length; i++) {
          if (arr[i] !== null && typeof arr[i] !== "string") {
            auds = [];
            break;
          }
          auds.push(arr[i] === null ? "" : arr[i]);
        }
      }
    }
    var found = false;
    for (var j = 0; j < auds.length; j++) {
      if (policy.audience.indexOf(auds[j]) >= 0) found = true;
    }
    if (!found) return err("JWT_AUDIENCE", "audience is none of " + policy.audience.join(", "));
  }
  var req = policy.required || [];
  for (var k = 0; k < req.length; k++) {
    var rr = member(all, req[k]);
    if (rr === void 0 || rr === "null") return err("JWT_CLAIMS", "required claim " + req[k] + " is missing");
  }
  return { claims: all, sub };
}
function claimText(claims, name) {
  var raw = member(claims, name);
  if (raw === void 0) return void 0;
  if (isJSONString(raw)) return jsonString(raw);
  return compact(raw);
}

// workers:verify.js
var importStats = { imports: 0 };
var imported = /* @__PURE__ */ new WeakMap();
function importEntry(key, alg) {
  let byAlg = imported.get(key);
  if (byAlg === void 0) {
    byAlg = {};
    imported.set(key, byAlg);
  }
  let e = byAlg[alg];
  if (e === void 0) {
    const vp = verifyParams(alg, key);
    e = { vp, key: null, promise: null };
    if (vp) {
      importStats.imports++;
      e.key = void 0;
      e.promise = crypto.subtle.importKey("jwk", key.jwk, vp.importAlg, false, ["verify"]).then(
        (k) => e.key = k,
        () => e.key = null
      );
    }
    byAlg[alg] = e;
  }
  return e;
}
var encoder = new TextEncoder();
var signingBytes = new Uint8Array(MAX_TOKEN_SIZE);
function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
var secretKeys = /* @__PURE__ */ new Map();
function secretKey(policy, env) {
  if (!policy.secretEnv) return null;
  const v = env[policy.secretEnv];
  if (typeof v !== "string" || v === "") return null;
  const cached = secretKeys.get(policy.name);
  if (cached && cached.value === v) return cached.key;
  const key = secretKeyOf(policy, v);
  secretKeys.set(policy.name, { value: v, key });
  return key;
}
function secretKeyOf(policy, v) {
  const bytes = new TextEncoder().encode(v);
  if (bytes.length < policy.minSecretBytes) return null;
  return {
    id: "secret:" + policy.name + ":" + b64url(bytes),
    kid: "",
    alg: "",
    fits: ["HS256", "HS384", "HS512"],
    hmacBytes: bytes.length,
    bits: 0,
    jwk: { kty: "oct", k: b64url(bytes) }
  };
}
var jwksCaches = /* @__PURE__ */ new Map();
async function jwksKeys(policy, kid, now) {
  let c = jwksCaches.get(policy.name);
  if (!c) {
    c = { keys: null, fetchedAt: -Infinity, triedAt: -Infinity, kidAt: -Infinity, lastErr: null };
    jwksCaches.set(policy.name, c);
  }
  const ttl = policy.jwks.ttlMs;
  const minRefresh = 3e4;
  const stale = c.keys === null || now - c.fetchedAt >= ttl;
  const unknown = kid !== "" && !(c.keys || []).some((k) => k.kid === kid);
  const retryStale = stale && (c.lastErr === null || now - c.triedAt >= minRefresh);
  const retryKid = unknown && now - c.kidAt >= minRefresh;
  if (retryStale || retryKid) {
    if (!stale) c.kidAt = now;
    c.triedAt = now;
    try {
      const resp = await fetch(policy.jwks.url, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(5e3) });
      if (resp.status !== 200) throw new Error("jwks status " + resp.status);
      const text = await resp.text();
      if (text.length > 1 << 20) throw new Error("jwks too large");
      const doc = JSON.parse(text);
      const list = Array.isArray(doc.keys) ? doc.keys : [doc];
      const keys = [];
      list.forEach((jwk, i) => {
        const info = jwkInfo(jwk);
        if (info) keys.push(Object.assign(info, { id: "jwks:" + policy.name + ":" + now + ":" + i }));
      });
      if (keys.length === 0) throw new Error("jwks holds no signature verification key");
      c.keys = keys;
      c.fetchedAt = now;
      c.lastErr = null;
    } catch (e) {
      c.lastErr = e;
    }
  }
  if (c.keys === null && c.lastErr !== null) return { error: c.lastErr };
  return { keys: c.keys || [] };
}
async function verify(policy, authorization, env, now) {
  const bt = bearerToken(authorization);
  if (bt.code) return bt;
  const secret = secretKey(policy, env);
  if (policy.keys.length === 0 && !policy.jwks && !secret) return { code: "JWT_KEY", detail: "no usable key" };
  const p = parseJWS(bt.token, policy.algorithms);
  if (p.code) return p;
  let keys = [];
  for (const k of policy.keys) if (keyFits(k, p.kid, p.alg)) keys.push(k);
  if (secret && keyFits(secret, p.kid, p.alg)) keys.push(secret);
  if (policy.jwks) {
    const set = await jwksKeys(policy, p.kid, now);
    if (set.error && keys.length === 0) return { code: "JWT_KEY", detail: String(set.error) };
    if (set.keys) keys = keys.concat(set.keys.filter((k) => keyFits(k, p.kid, p.alg)));
  }
  if (keys.length === 0) return { code: "JWT_KEY", detail: "no configured key fits alg " + p.alg };
  if (p.joseError) return { code: "JWT_UNSUPPORTED", detail: p.joseError };
  if (!await verifySignature(keys, p.alg, p.signingInput, p.signature)) return { code: "JWT_SIGNATURE", detail: "signature does not verify" };
  return checkClaims(p.payload, policy, now / 1e3);
}
function verifySignature(keys, alg, data, sig) {
  for (let i = 0; i < keys.length; i++) {
    const e = importEntry(keys[i], alg);
    if (!e.vp || e.vp.sigLength && sig.length !== e.vp.sigLength) continue;
    if (e.key === void 0) return e.promise.then(() => verifySignature(keys.slice(i), alg, data, sig));
    if (e.key === null) continue;
    const ok = crypto.subtle.verify(e.vp.verifyAlg, e.key, sig, bytesOf(data));
    if (i === keys.length - 1) return ok;
    return ok.then((v) => v || verifySignature(keys.slice(i + 1), alg, data, sig));
  }
  return Promise.resolve(false);
}
function bytesOf(data) {
  if (typeof data !== "string") return data;
  return signingBytes.subarray(0, encoder.encodeInto(data, signingBytes).written);
}

// worker.js
//! Gateway "quickstart", rendered by edgegw for Cloudflare Workers. Generated: edit the manifest, not this file.
var TEST_MODE = false;
var GATEWAY = {
  "name": "quickstart",
  "domains": [
    {
      "host": "api.example.com",
      "wildcard": false,
      "tenantHeader": ""
    }
  ],
  "hsts": "",
  "cors": null,
  "transform": {
    "request": {
      "remove": [],
      "set": []
    },
    "response": {
      "remove": [],
      "set": []
    }
  },
  "stripHeaders": [],
  "errors": {
    "BAD_PATH": {
      "status": 400,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":400,"code":"BAD_PATH","message":"Bad Request"}\n'
    },
    "HOST_UNKNOWN": {
      "status": 404,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":404,"code":"HOST_UNKNOWN","message":"Not Found"}\n'
    },
    "JWT_ALG": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_ALG","message":"Forbidden"}\n'
    },
    "JWT_AUDIENCE": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_AUDIENCE","message":"Forbidden"}\n'
    },
    "JWT_CLAIMS": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_CLAIMS","message":"Forbidden"}\n'
    },
    "JWT_EXPIRED": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_EXPIRED","message":"Forbidden"}\n'
    },
    "JWT_ISSUER": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_ISSUER","message":"Forbidden"}\n'
    },
    "JWT_KEY": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_KEY","message":"Forbidden"}\n'
    },
    "JWT_MALFORMED": {
      "status": 401,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":401,"code":"JWT_MALFORMED","message":"Unauthorized"}\n'
    },
    "JWT_MISSING": {
      "status": 401,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":401,"code":"JWT_MISSING","message":"Unauthorized"}\n'
    },
    "JWT_NOT_YET_VALID": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_NOT_YET_VALID","message":"Forbidden"}\n'
    },
    "JWT_SIGNATURE": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_SIGNATURE","message":"Forbidden"}\n'
    },
    "JWT_TOO_LARGE": {
      "status": 401,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":401,"code":"JWT_TOO_LARGE","message":"Unauthorized"}\n'
    },
    "JWT_UNSUPPORTED": {
      "status": 403,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "Www-Authenticate",
          'Bearer realm="quickstart", error="invalid_token"'
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":403,"code":"JWT_UNSUPPORTED","message":"Forbidden"}\n'
    },
    "NO_ROUTE": {
      "status": 404,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":404,"code":"NO_ROUTE","message":"Not Found"}\n'
    },
    "ORIGINS_OPEN": {
      "status": 503,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":503,"code":"ORIGINS_OPEN","message":"Service Unavailable"}\n'
    },
    "RATE_LIMIT": {
      "status": 429,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":429,"code":"RATE_LIMIT","message":"Too Many Requests"}\n'
    },
    "UPSTREAM_TIMEOUT": {
      "status": 504,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":504,"code":"UPSTREAM_TIMEOUT","message":"Gateway Timeout"}\n'
    },
    "UPSTREAM_UNREACHABLE": {
      "status": 502,
      "headers": [
        [
          "Cache-Control",
          "no-store"
        ],
        [
          "Content-Type",
          "application/json"
        ],
        [
          "X-Content-Type-Options",
          "nosniff"
        ]
      ],
      "body": '{"status":502,"code":"UPSTREAM_UNREACHABLE","message":"Bad Gateway"}\n'
    }
  },
  "origins": {
    "app": {
      "name": "app",
      "base": "http://127.0.0.1:9000",
      "timeoutMs": 3e4
    }
  },
  "pools": {
    "app": {
      "name": "app",
      "origins": [
        "app"
      ],
      "failover": null,
      "originHosts": [
        "127.0.0.1:9000"
      ]
    }
  },
  "policies": {},
  "limits": {}
};
//! route "health" (exact /health)
var route_0 = {
  "name": "health",
  "kind": "exact",
  "path": "/health",
  "respond": {
    "status": 200,
    "body": "ok",
    "headers": []
  },
  "transform": {
    "request": {
      "remove": [],
      "set": []
    },
    "response": {
      "remove": [],
      "set": []
    }
  }
};
//! route "api" (prefix /api)
var route_1 = {
  "name": "api",
  "kind": "prefix",
  "path": "/api",
  "pool": "app",
  "transform": {
    "request": {
      "remove": [],
      "set": []
    },
    "response": {
      "remove": [],
      "set": []
    }
  }
};
//! route "default" (fallback)
var route_2 = {
  "name": "default",
  "kind": "fallback",
  "respond": {
    "status": 404,
    "body": "not found",
    "headers": []
  },
  "transform": {
    "request": {
      "remove": [],
      "set": []
    },
    "response": {
      "remove": [],
      "set": []
    }
  }
};
//! Routes in IR order: the first that matches wins.
var ROUTES = [route_0, route_1, route_2];
//! Route matcher (exact hash, prefix/template regex, 1 scanned), generated from ROUTES.
function R_prefix(prefix, path) {
  if (path.indexOf(prefix) !== 0) return false;
  return path.length === prefix.length || prefix.charCodeAt(prefix.length - 1) === 47 || path.charCodeAt(prefix.length) === 47;
}
var R_T = [
  function(path, segs, n, host, method, headers) {
    return path === "/health";
  },
  // 0 "health"
  function(path, segs, n, host, method, headers) {
    return R_prefix("/api", path);
  },
  // 1 "api"
  function(path, segs, n, host, method, headers) {
    return true;
  }
  // 2 "default"
];
function R_scan(list, from, path, segs, n, host, method, headers) {
  for (var i = from; i < list.length; i++) if (R_T[list[i]](path, segs, n, host, method, headers)) return list[i];
  return -1;
}
var R_ALL = [0, 1, 2];
var R_EXACT = /* @__PURE__ */ new Map([
  ["/health", 0]
]);
var R_DYN = [1];
var R_DYN_RE = new RegExp("^(?:\\/api(?:/[\\s\\S]*)?())$");
var R_SCANNED = [2];
function matchRoute(host, method, path, headers) {
  var b = 3, k;
  var segs = null, n = 0;
  if (path.charCodeAt(0) !== 47) {
    segs = [""].concat(path.slice(1).split("/"));
    return R_scan(R_ALL, 0, path, segs, segs.length - 1, host, method, headers);
  }
  k = R_EXACT.get(path);
  if (k !== void 0) {
    if (k >= 0 && k < b) b = k;
  }
  if (b < 1) return b;
  if (b > 1) {
    var m = R_DYN_RE.exec(path);
    if (m !== null) {
      var i = m.indexOf("", 1) - 1;
      k = R_DYN[i];
      if (k >= 0 && k < b) b = k;
    }
  }
  if (b > 2) {
    k = R_scan(R_SCANNED, 0, path, null, 0, host, method, headers);
    if (k >= 0 && k < b) b = k;
  }
  return b === 3 ? -1 : b;
}
var TEST_NOW = "x-edgegw-test-now";
var TEST_SCHEME = "x-edgegw-test-scheme";
var TEST_DECISION = "x-edgegw-test-decision";
var MAX_REPLAY_BODY = 1 << 20;
function fromHex(h) {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.substr(2 * i, 2), 16);
  return out;
}
async function testVerify(request) {
  const v = await request.json();
  const info = jwkInfo(v.jwk);
  if (!info) return Response.json({ verified: false, detail: "key not usable" });
  info.id = "test:" + JSON.stringify(v.jwk);
  const sig = fromHex(v.sig);
  return Response.json({ verified: await verifySignature([info], v.alg, fromHex(v.msg), sig) });
}
var EdgegwState = class extends DurableObject {
  async hit(now, windowMs, limit) {
    const hits = await this.ctx.storage.get("hits") || [];
    const r = slidingWindow(hits, now, windowMs, limit);
    await this.ctx.storage.put("hits", hits);
    return r;
  }
  async breakers(n) {
    const s = await this.ctx.storage.get("breakers") || [];
    while (s.length < n) s.push({ consecutive: 0, openUntil: -Infinity });
    return s;
  }
  async record(i, n, policy, status, now) {
    const s = await this.breakers(n);
    breakerRecord(s[i], policy, status, now);
    await this.ctx.storage.put("breakers", s);
  }
};
function stub(env, name) {
  return env.EDGEGW_STATE.get(env.EDGEGW_STATE.idFromName(name));
}
function respond(status, headers, body) {
  const nullBody = status === 101 || status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : body, { status, headers });
}
async function handle(request, env) {
  const d = { route: "", pool: "", origin: "", reason: "" };
  const url = request.url;
  let now = Date.now();
  let scheme = splitTarget(url).scheme || "https";
  const client = new Headers(request.headers);
  if (TEST_MODE) {
    if (client.get(TEST_NOW)) now = Number(client.get(TEST_NOW));
    if (client.get(TEST_SCHEME)) scheme = client.get(TEST_SCHEME);
    client.delete(TEST_NOW);
    client.delete(TEST_SCHEME);
  }
  const target = splitTarget(url);
  const rawHost = client.get("host") || target.host;
  const clientIP = client.get("cf-connecting-ip") || "";
  let route = null;
  let corsOrigin = "";
  const finish = (status, headers, body2) => {
    finishHeaders(headers, GATEWAY, route, corsOrigin);
    if (TEST_MODE) headers.set(TEST_DECISION, JSON.stringify(d));
    return respond(status, headers, body2);
  };
  const fail2 = (code, extra, detail) => {
    d.reason = code;
    if (detail) d.detail = detail;
    const e = edgeError(GATEWAY, code);
    const h = new Headers(extra || []);
    for (const [n, v] of e.headers) h.set(n, v);
    return finish(e.status, h, e.body);
  };
  const norm = normalize(target.path);
  if (norm.reject !== void 0) return fail2("BAD_PATH");
  const path = norm.path;
  const host = hostOf(rawHost);
  const tenancy = matchHost(GATEWAY.domains, host);
  if (!tenancy) return fail2("HOST_UNKNOWN");
  const cors = GATEWAY.cors;
  if (cors) {
    const origin = client.get("origin");
    if (origin && corsAllows(cors, origin)) corsOrigin = origin;
    if (request.method === "OPTIONS" && origin && client.get("access-control-request-method")) {
      d.reason = "CORS_PREFLIGHT";
      return finish(204, new Headers(corsOrigin ? cors.preflightAllowed : cors.preflightRefused), null);
    }
  }
  const k = matchRoute(host, request.method, path, client);
  if (k < 0) return fail2("NO_ROUTE");
  route = ROUTES[k];
  d.route = route.name;
  let claims = null;
  let sub = "";
  if (route.auth) {
    const v = await verify(GATEWAY.policies[route.auth], client.get("authorization"), env, now);
    if (v.code) return fail2(v.code, null, v.detail);
    claims = v.claims;
    sub = v.sub;
  }
  if (route.limit) {
    const lim = GATEWAY.limits[route.limit];
    const key = rateLimitKey(lim, sub, client, clientIP);
    const r = await stub(env, "limit:" + route.limit + ":" + key).hit(now, lim.windowMs, lim.limit);
    if (!r.allowed) return fail2("RATE_LIMIT", [["Retry-After", String(r.retryAfter)]]);
  }
  if (route.respond) {
    const h = new Headers(route.respond.headers);
    if (!h.get("content-type") && route.respond.body) h.set("Content-Type", "text/plain; charset=utf-8");
    return finish(route.respond.status, h, route.respond.body);
  }
  if (route.redirect) {
    return finish(route.redirect.status, new Headers([["Location", redirectLocation(route.redirect, target.query)]]), null);
  }
  const pool = GATEWAY.pools[route.pool];
  d.pool = pool.name;
  const upstreamPath = rewritePath(route, path, route.vars ? path.slice(1).split("/") : null);
  const up = new Headers(client);
  up.delete("cf-connecting-ip");
  up.delete("host");
  upstreamHeaders(up, {
    clientHeaders: client,
    stripHeaders: GATEWAY.stripHeaders,
    transform: route.transform,
    tenantHeader: tenancy.tenantHeader,
    tenant: tenancy.tenant,
    claims,
    forward: route.auth ? GATEWAY.policies[route.auth].forward : null,
    newRequestID: () => crypto.randomUUID(),
    clientIP,
    host: rawHost,
    scheme
  }, claimText);
  const failover = pool.failover;
  const breaker = failover && failover.breaker;
  const bstub = breaker ? stub(env, "breaker:" + pool.name) : null;
  let candidates = pool.origins.map((_, i) => i);
  if (bstub) {
    const states = await bstub.breakers(pool.origins.length);
    candidates = candidates.filter((i) => !breakerOpen(states[i], now));
  }
  if (candidates.length === 0) return fail2("ORIGINS_OPEN");
  let body = null;
  if (request.method !== "GET" && request.method !== "HEAD") {
    body = await request.arrayBuffer();
    if (body.byteLength > MAX_REPLAY_BODY) candidates = candidates.slice(0, 1);
  }
  let lastTimeout = false;
  for (let k2 = 0; k2 < candidates.length; k2++) {
    const i = candidates[k2];
    const o = GATEWAY.origins[pool.origins[i]];
    const last = k2 === candidates.length - 1;
    d.origin = o.name;
    let resp;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new DOMException("origin " + o.name + " timed out", "TimeoutError")), o.timeoutMs);
    try {
      resp = await fetch(o.base + upstreamPath + (target.query ? "?" + target.query : ""), {
        method: request.method,
        headers: up,
        body,
        redirect: "manual",
        signal: ac.signal
      });
    } catch (e) {
      const timeout = ac.signal.aborted || e && e.name === "TimeoutError";
      clearTimeout(timer);
      if (bstub) await bstub.record(i, pool.origins.length, breaker, timeout ? 504 : 502, now);
      lastTimeout = timeout;
      if (last) break;
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
      if (v) h.set(name, publicLocation(v, st));
    }
    if (cors) {
      for (const name of GATEWAY.corsOwned) h.delete(name);
    }
    return finish(resp.status, h, resp.body);
  }
  return fail2(lastTimeout ? "UPSTREAM_TIMEOUT" : "UPSTREAM_UNREACHABLE");
}
var TEST_VERIFY_PATH = "/__edgegw-test/verify";
var worker_default = {
  async fetch(request, env) {
    if (TEST_MODE && splitTarget(request.url).path === TEST_VERIFY_PATH) return testVerify(request);
    return handle(request, env);
  }
};
export {
  EdgegwState,
  worker_default as default
};
