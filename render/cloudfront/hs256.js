// HS256 bearer tokens for CloudFront Functions, decided as gateway/jwtverify decides them and in its order
// (the shared runtime's jwt.js, narrowed to one HMAC key): the bearer credential, the key, the size limit,
// three strict base64url parts, a JSON object header without repeated members, no embedded keys, the alg
// pinned to the policy's, no crit or b64, the HMAC, then exp, nbf, iat, sub, iss, aud and required claims.
// Only the renderer includes it, and only when a route has an auth policy: JSON.parse does the parsing
// (a repeated member is found by counting names), so it is a fraction of jwt.js and json.js.
//
// njs's JSON.parse refuses nesting deeper than 31 levels, which Go reads: such a header or claims set is
// refused (JWT_UNSUPPORTED), never accepted.

import crypto from "crypto";

// A refusal is its code, a string. The reference's detail text is left out: only the code decides the
// answer, and the bytes are tight.

// The refusal codes, named once (each is used several times and the bytes are tight).
export var ALG = "JWT_ALG", AUDIENCE = "JWT_AUDIENCE", CLAIMS = "JWT_CLAIMS", EXPIRED = "JWT_EXPIRED", ISSUER = "JWT_ISSUER", KEY = "JWT_KEY", MALFORMED = "JWT_MALFORMED", MISSING = "JWT_MISSING", NOT_YET_VALID = "JWT_NOT_YET_VALID", SIGNATURE = "JWT_SIGNATURE", TOO_LARGE = "JWT_TOO_LARGE", UNSUPPORTED = "JWT_UNSUPPORTED";

// own reads a member by a name the manifest gives (a required or forwarded claim), which may be one an
// object inherits ("constructor"); fixed names (exp, alg, ...) are read directly: no object inherits them.
function own(o, k) {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

// part decodes one unpadded base64url part strictly (no padding, no other characters, zero trailing bits;
// CR and LF are skipped, as Go's decoder does) into a Buffer, or null: a strict encoding is the one the
// decoded bytes encode back to.
function part(s) {
  s = s.replace(/[\r\n]/g, "");
  var b = Buffer.from(s, "base64url");
  return b.toString("base64url") === s ? b : null;
}

// text decodes UTF-8 as Go does: each byte of an invalid sequence becomes one U+FFFD.
function text(b) {
  for (var s = "", i = 0; i < b.length; ) {
    var c = b[i];
    var n = c < 128 ? 0 : c < 194 ? -1 : c < 224 ? 1 : c < 240 ? 2 : c < 245 ? 3 : -1;
    var cp = n ? c & (127 >> (n + 1)) : c;
    for (var k = 1; n > 0 && k <= n; k++) {
      var d = b[i + k];
      if ((d & 192) !== 128) n = -1;
      else cp = (cp << 6) | (d & 63);
    }
    if (n < 0 || cp < [0, 128, 2048, 65536][n] || cp > 1114111 || (cp >= 55296 && cp <= 57343)) {
      s += "\ufffd";
      i++;
    } else {
      s += String.fromCodePoint(cp);
      i += n + 1;
    }
  }
  return s;
}

// object reads t as one JSON object, as the reference's scanner does: the object, or "not object" when the
// text does not start with "{", "syntax", or "duplicate" for a name repeated inside one object (JSON.parse
// keeps the last; the reviver counts the members it kept, the text the names it holds).
function object(t) {
  if (!/^[ \t\n\r]*\{/.test(t)) return "not object";
  var kept = 0;
  var names = 0;
  var v;
  try {
    v = JSON.parse(t, function (k, x) {
      if (!Array.isArray(this)) kept++;
      return x;
    });
  } catch (e) {
    return "syntax";
  }
  t.replace(/"(?:[^"\\]|\\[\s\S])*"([ \t\n\r]*:)?/g, function (m, colon) {
    if (colon) names++;
    return m;
  });
  return names === kept - 1 ? v : "duplicate";
}

// bearer reads the Authorization header value (null when absent) as jwtverify.FromHeader does.
function bearer(value) {
  if (value === null || value === undefined) return MISSING;
  if (value.trim().toLowerCase() === "bearer") return MALFORMED;
  var sp = value.indexOf(" ");
  if (sp < 0 || value.slice(0, sp).toLowerCase() !== "bearer") return MISSING;
  var token = value.slice(sp + 1).replace(/^ +/, "");
  return token === "" ? MALFORMED : { token: token };
}

// date reads a NumericDate claim as Go's json.Unmarshal into float64 does: absent → undefined, null → 0,
// a finite number → itself, anything else NaN.
function date(c, name) {
  var v = own(c, name);
  if (v === undefined) return v;
  if (v === null) return 0;
  return typeof v === "number" && isFinite(v) ? v : NaN;
}

// raw returns the compact JSON text of the top-level member name of the object text t (valid, without
// repeated names), as Go's json.Compact of its raw value, or undefined: the tokens of its value joined.
function raw(t, name) {
  var toks = t.match(/"(?:[^"\\]|\\[\s\S])*"|[{}[\],:]|[^"{}[\],:\s]+/g);
  var out;
  for (var i = 0, d = 0; i < toks.length; i++) {
    var k = toks[i];
    if (out !== undefined) {
      if (d === 1 && (k === "," || k === "}")) return out;
      out += k;
    } else if (d === 1 && toks[i + 1] === ":" && k.charAt(0) === '"' && JSON.parse(k) === name) {
      out = "";
      i++;
      continue;
    }
    if (k === "{" || k === "[") d++;
    else if (k === "}" || k === "]") d--;
  }
}

// claimText returns a verified claim as header text (a string unquoted, anything else compact JSON), or
// undefined when absent.
export function claimText(claims, name) {
  var v = own(claims.set, name);
  return typeof v === "string" ? v : v === undefined ? v : raw(claims.text, name);
}

// verify decides an Authorization value (undefined: more than one header) for policy {algorithms,
// issuer, audience, clockSkew, required, minSecretBytes} with secret (a string, or null when the
// KeyValueStore holds none) at now (ms). It returns {claims}, or the refusal's code.
export function verify(policy, authorization, secret, now) {
  if (authorization === undefined) return MALFORMED;
  var bt = bearer(authorization);
  if (typeof bt === "string") return bt;
  var bytes = typeof secret === "string" ? Buffer.from(secret).length : 0;
  if (bytes === 0 || bytes < policy.minSecretBytes) return KEY;
  var token = bt.token;
  if (token.length > 8192) return TOO_LARGE;
  var parts = token.split(".");
  if (parts.length !== 3) return MALFORMED;
  var b = [];
  for (var i = 0; i < 3; i++) {
    b.push(part(parts[i]));
    if (b[i] === null) return MALFORMED;
  }
  var h = object(text(b[0]));
  if (h === "not object") return MALFORMED;
  if (typeof h === "string") return UNSUPPORTED;
  var embedded = ["jwk", "jku", "x5u", "x5c"];
  for (i = 0; i < 4; i++) if (h[embedded[i]] !== undefined) return UNSUPPORTED;
  // Go's json.Unmarshal into {Alg *string; Kid string; Crit, B64 json.RawMessage}: names match case
  // insensitively, the last one wins, and a type error anywhere refuses the header.
  var f = {};
  for (var k in h) {
    var l = k.toLowerCase();
    if ((l === "alg" || l === "kid") && h[k] !== null && typeof h[k] !== "string") return UNSUPPORTED;
    if (l === "alg" || l === "crit" || l === "b64") f[l] = h[k];
  }
  var alg = f.alg;
  if (alg === undefined || alg === null) return ALG;
  if (policy.algorithms.indexOf(alg) < 0) return ALG;
  if (f.crit !== undefined) return UNSUPPORTED;
  if (f.b64 !== undefined) return UNSUPPORTED;
  if (alg !== "HS256") return KEY;
  // What go-jose's own parse refuses after the key is picked: "alg" under its exact name must be the alg
  // checked, and "nonce" a string.
  var nonce = h.nonce;
  if (h.alg !== alg) return UNSUPPORTED;
  if (nonce !== undefined && nonce !== null && typeof nonce !== "string") return UNSUPPORTED;
  if (bytes < 32 || crypto.createHmac("sha256", secret).update(parts[0] + "." + parts[1]).digest("hex") !== b[2].toString("hex")) {
    return SIGNATURE;
  }
  var t = text(b[1]);
  var c = object(t);
  if (typeof c === "string") return UNSUPPORTED;
  var skew = policy.clockSkew;
  now /= 1000;
  var exp = date(c, "exp");
  var nbf = date(c, "nbf");
  var iat = date(c, "iat");
  if (exp !== exp) return CLAIMS;
  if (exp === undefined) return EXPIRED;
  if (!(now < exp + skew)) return EXPIRED;
  if (nbf !== nbf) return CLAIMS;
  if (nbf !== undefined && now + skew < nbf) return NOT_YET_VALID;
  if (iat !== iat) return CLAIMS;
  if (iat !== undefined && now + skew < iat) return NOT_YET_VALID;
  var sub = c.sub;
  if (sub !== undefined && sub !== null && typeof sub !== "string") return CLAIMS;
  if (policy.issuer) {
    var iss = c.iss;
    if (iss !== policy.issuer) return ISSUER;
  }
  if (policy.audience.length > 0) {
    var aud = c.aud;
    var auds = aud === null ? [""] : typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
    var found = false;
    for (i = 0; i < auds.length; i++) {
      if (auds[i] !== null && typeof auds[i] !== "string") {
        found = false;
        break;
      }
      if (policy.audience.indexOf(auds[i] === null ? "" : auds[i]) >= 0) found = true;
    }
    if (!found) return AUDIENCE;
  }
  for (i = 0; i < policy.required.length; i++) {
    var rq = own(c, policy.required[i]);
    if (rq === undefined || rq === null) return CLAIMS;
  }
  return { claims: { set: c, text: t } };
}
