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
  return {}.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

function isString(x) {
  return typeof x === "string";
}

// badText is a JSON value that is neither absent, null nor a string (what Go refuses to read into a string
// or *string).
function badText(x) {
  return x != null && !isString(x);
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
    for (var k = 1; k <= n; k++) {
      var d = b[i + k];
      if ((d & 192) !== 128) n = -1;
      else cp = (cp << 6) | (d & 63);
    }
    // refused: a bad sequence, an overlong one, one past U+10FFFF, a surrogate (U+D800 to U+DFFF)
    if (n < 0 || cp < [0, 128, 2048, 65536][n] || cp > 1114111 || cp >> 11 === 27) {
      s += "\ufffd";
      i++;
    } else {
      s += String.fromCodePoint(cp);
      i += n + 1;
    }
  }
  return s;
}

// object reads t as one JSON object, as the reference's scanner does: the object, or the refusal's code:
// MALFORMED when the text does not start with "{", UNSUPPORTED when it is not JSON or repeats a name inside
// one object (JSON.parse keeps the last; the reviver counts the members it kept, the text the names it
// holds).
function object(t) {
  if (!/^[ \t\n\r]*\{/.test(t)) return MALFORMED;
  var kept = 0;
  var names = 0;
  var v;
  try {
    v = JSON.parse(t, function (k, x) {
      if (!Array.isArray(this)) kept++;
      return x;
    });
  } catch (e) {
    return UNSUPPORTED;
  }
  t.replace(/"(?:[^"\\]|\\[\s\S])*"([ \t\n\r]*:)?/g, (m, colon) => {
    if (colon) names++;
    return m;
  });
  return names === kept - 1 ? v : UNSUPPORTED;
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

// claimText returns a verified claim of claims (verify's {set, text}) as header text (a string unquoted,
// anything else compact JSON), or undefined when absent.
export function claimText(claims, name) {
  var v = own(claims.set, name);
  return isString(v) || v === undefined ? v : raw(claims.text, name);
}

// verify decides an Authorization value (undefined: more than one header; null: none) for policy
// {algorithms, issuer, audience, clockSkew, required, minSecretBytes} with secret (a string, or null when
// the KeyValueStore holds none) at now (ms). It returns the verified claims {set, text}, or the refusal's
// code (a string).
export function verify(policy, authorization, secret, now) {
  // The bearer credential, as jwtverify.FromHeader reads it.
  if (authorization === undefined) return MALFORMED;
  if (authorization === null) return MISSING;
  if (authorization.trim().toLowerCase() === "bearer") return MALFORMED;
  var sp = authorization.indexOf(" ");
  if (sp < 0 || authorization.slice(0, sp).toLowerCase() !== "bearer") return MISSING;
  var token = authorization.slice(sp + 1).replace(/^ +/, "");
  if (token === "") return MALFORMED;
  var bytes = isString(secret) ? Buffer.from(secret).length : 0;
  if (bytes === 0 || bytes < policy.minSecretBytes) return KEY;
  if (token.length > 8192) return TOO_LARGE;
  var parts = token.split(".");
  if (parts.length !== 3) return MALFORMED;
  var b = parts.map(part);
  if (b.indexOf(null) >= 0) return MALFORMED;
  var h = object(text(b[0]));
  if (isString(h)) return h;
  // A parsed member is never undefined and no object inherits these names: "in" is "present".
  if ("jwk" in h || "jku" in h || "x5u" in h || "x5c" in h) return UNSUPPORTED;
  // Go's json.Unmarshal into {Alg *string; Kid string; Crit, B64 json.RawMessage}: names match case
  // insensitively, the last one wins, and a type error anywhere refuses the header.
  var alg;
  var extension = false;
  for (var k in h) {
    var l = k.toLowerCase();
    if ((l === "alg" || l === "kid") && badText(h[k])) return UNSUPPORTED;
    if (l === "alg") alg = h[k];
    if (l === "crit" || l === "b64") extension = true;
  }
  if (alg == null || policy.algorithms.indexOf(alg) < 0) return ALG;
  if (extension) return UNSUPPORTED;
  if (alg !== "HS256") return KEY;
  // What go-jose's own parse refuses after the key is picked: "alg" under its exact name must be the alg
  // checked, and "nonce" a string.
  if (h.alg !== alg || badText(h.nonce)) return UNSUPPORTED;
  if (bytes < 32 || crypto.createHmac("sha256", secret).update(parts[0] + "." + parts[1]).digest("hex") !== b[2].toString("hex")) {
    return SIGNATURE;
  }
  var t = text(b[1]);
  var c = object(t);
  if (isString(c)) return UNSUPPORTED;
  var skew = policy.clockSkew;
  now /= 1000;
  // exp, nbf and iat in turn, each read as Go's json.Unmarshal into float64 reads a NumericDate (absent
  // stays undefined, null is 0, anything but a finite number is refused). An undefined bound compares
  // false: no exp is expired, no nbf or iat is no bound.
  for (var i = 0; i < 3; i++) {
    var x = c[["exp", "nbf", "iat"][i]];
    if (x === null) x = 0;
    else if (x !== undefined && !(typeof x === "number" && isFinite(x))) return CLAIMS;
    if (i ? now + skew < x : !(now < x + skew)) return i ? NOT_YET_VALID : EXPIRED;
  }
  if (badText(c.sub)) return CLAIMS;
  if (policy.issuer && c.iss !== policy.issuer) return ISSUER;
  if (policy.audience.length > 0) {
    // aud is one string or a list of them; null reads as "", anything else matches nothing.
    var auds = [].concat(c.aud);
    var found = false;
    for (i = 0; i < auds.length; i++) {
      var a = auds[i] === null ? "" : auds[i];
      if (!isString(a)) return AUDIENCE;
      if (policy.audience.indexOf(a) >= 0) found = true;
    }
    if (!found) return AUDIENCE;
  }
  for (i = 0; i < policy.required.length; i++) if (own(c, policy.required[i]) == null) return CLAIMS;
  return { set: c, text: t };
}
