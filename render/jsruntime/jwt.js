// Bearer JWT checks, exactly as gateway/jwtverify decides them, in the order it decides them. Signature
// verification itself is not here: it is asynchronous (WebCrypto) or target-specific, so parseJWS returns
// what to verify and the target's glue calls its crypto with verifyParams, then checkClaims.
//
// Statuses: JWT_MISSING, JWT_MALFORMED and JWT_TOO_LARGE are 401; every other code is 403.

import { scanObject, member, compact } from "./json.js";

export var MAX_TOKEN_SIZE = 8192;

var B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// B64INDEX maps a code unit to its value, -1 when it is not in the alphabet. Tables built at load time are
// marked pure, so a bundle that never decodes a token drops them.
var B64INDEX = /* @__PURE__ */ b64Index();
function b64Index() {
  var t = new Int16Array(256);
  for (var i = 0; i < 256; i++) t[i] = B64URL.indexOf(String.fromCharCode(i));
  return t;
}

// b64urlInto decodes s from index from to index to (unpadded base64url, strictly, with no CR or LF) into
// out at o, which has room for the ((to - from) * 3) >> 2 bytes. It returns false when s is not that.
function b64urlInto(s, from, to, out, o) {
  if (((to - from) & 3) === 1) return false;
  for (var i = from; i < to; i += 4) {
    // a last group of 2 or 3 characters is padded with "A" (0), and its unused bits must be zero
    var k = to - i;
    var a = s.charCodeAt(i);
    var b = s.charCodeAt(i + 1);
    var c = k > 2 ? s.charCodeAt(i + 2) : 65;
    var d = k > 3 ? s.charCodeAt(i + 3) : 65;
    var x = (a | b | c | d) > 255 ? -1 : (B64INDEX[a] << 18) | (B64INDEX[b] << 12) | (B64INDEX[c] << 6) | B64INDEX[d];
    if (x < 0 || (k < 4 && x & (k < 3 ? 0xffff : 0xff))) return false;
    out[o++] = x >> 16;
    if (k > 2) out[o++] = x >> 8;
    if (k > 3) out[o++] = x;
  }
  return true;
}

// b64urlDecode decodes unpadded base64url strictly (no padding, no other characters, zero trailing bits),
// ignoring CR and LF as Go's decoder does. It returns the bytes (a Uint8Array), or null.
export function b64urlDecode(s) {
  var out = new Uint8Array((s.length * 3) >> 2);
  if (b64urlInto(s, 0, s.length, out, 0)) return out;
  return /[\r\n]/.test(s) ? b64urlDecode(s.replace(/[\r\n]/g, "")) : null;
}

// A strict native UTF-8 decoder where the runtime has one: valid UTF-8 decodes the same everywhere, so only
// invalid input (which it refuses) needs the replacement rules below.
var UTF8 = /* @__PURE__ */ strictUTF8();
function strictUTF8() {
  return typeof TextDecoder == "function" && new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
}

// utf8Text decodes bytes as UTF-8, replacing invalid sequences with U+FFFD (as Go's JSON strings do).
export function utf8Text(bytes) {
  if (UTF8) {
    try {
      return UTF8.decode(bytes);
    } catch (e) {
      // not valid UTF-8, or not a buffer: decoded below
    }
  }
  var s = "";
  var i = 0;
  while (i < bytes.length) {
    var c = bytes[i];
    var need = 0;
    var cp = 0;
    var min = 0;
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      s += "\ufffd";
      i++;
      continue;
    }
    var ok = i + need <= bytes.length - 1;
    var k;
    for (k = 1; ok && k <= need; k++) {
      var d = bytes[i + k];
      if ((d & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (d & 0x3f);
    }
    if (!ok || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      s += "\ufffd";
      i++;
      continue;
    }
    s += String.fromCodePoint(cp);
    i += need + 1;
  }
  return s;
}

function err(code, detail) {
  return { code: code, detail: detail };
}

// bearerToken reads the Authorization header value (null when absent) as jwtverify.FromHeader does.
export function bearerToken(value) {
  if (value === null || value === undefined) return err("JWT_MISSING", "no Authorization header");
  var t = value.trim();
  if (t.length === 6 && t.toLowerCase() === "bearer") return err("JWT_MALFORMED", "empty bearer token");
  var sp = value.indexOf(" ");
  if (sp < 0 || value.slice(0, sp).toLowerCase() !== "bearer") {
    return err("JWT_MISSING", "Authorization is not a Bearer credential");
  }
  while (value.charCodeAt(sp + 1) === 0x20) sp++;
  var token = value.slice(sp + 1);
  if (token === "") return err("JWT_MALFORMED", "empty bearer token");
  return { token: token };
}

var EMBEDDED_KEY_HEADERS = ["jwk", "jku", "x5u", "x5c"];

function isJSONString(raw) {
  return raw.charAt(0) === '"';
}

// jsonString is the value of a JSON string the scanner accepted.
function jsonString(raw) {
  return raw.indexOf("\\") < 0 ? raw.slice(1, -1) : JSON.parse(raw);
}

// parseJWS checks a compact JWS before any crypto: size, three strict base64url parts, a JSON object header
// without duplicate members, no embedded keys, an alg the policy lists, no crit or b64. It returns
// {alg, kid, signingInput, signature, payload} or {code, detail}.
export function parseJWS(token, algorithms) {
  if (token.length > MAX_TOKEN_SIZE) return err("JWT_TOO_LARGE", "token over " + MAX_TOKEN_SIZE + " bytes");
  var d1 = token.indexOf(".");
  var d2 = d1 < 0 ? -1 : token.indexOf(".", d1 + 1);
  if (d2 < 0 || token.indexOf(".", d2 + 1) >= 0) {
    return err("JWT_MALFORMED", "compact JWS needs 3 parts, got " + token.split(".").length);
  }
  // The three parts decoded into one buffer, each read in place in the token; a part with CR or LF in it
  // decodes on its own.
  var ends = [d1, d2, token.length];
  var buf = new Uint8Array((token.length * 3) >> 2);
  var raw = [];
  var from = 0;
  for (var i = 0; i < 3; i++) {
    var o = (from * 3) >> 2;
    var b = b64urlInto(token, from, ends[i], buf, o) ? buf.subarray(o, o + (((ends[i] - from) * 3) >> 2)) : b64urlDecode(token.slice(from, ends[i]));
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
    if (member(members, EMBEDDED_KEY_HEADERS[i]) !== undefined) {
      return err("JWT_UNSUPPORTED", "header " + EMBEDDED_KEY_HEADERS[i] + " names a key");
    }
  }
  // Go's json.Unmarshal into {Alg *string; Kid string; Crit, B64 json.RawMessage}: a member sets the field
  // its name folds to (the last one wins), and a type error anywhere refuses the header.
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
  var alg = algRaw === undefined || algRaw === "null" ? null : jsonString(algRaw);
  var kid = kidRaw === undefined || kidRaw === "null" ? "" : jsonString(kidRaw);
  if (alg === null) return err("JWT_ALG", "header has no alg");
  if (algorithms.indexOf(alg) < 0) return err("JWT_ALG", "alg " + JSON.stringify(alg) + " is not allowed");
  if (critRaw !== undefined) return err("JWT_UNSUPPORTED", "crit header is not supported");
  if (b64Raw !== undefined) return err("JWT_UNSUPPORTED", "b64 header is not supported");
  // What go-jose's own header parse refuses, which the reference meets only after picking keys (so a
  // token with no fitting key is JWT_KEY first): "alg" under its exact name must be the alg checked, and
  // "nonce" a string.
  var joseError = null;
  var exactAlg = member(members, "alg");
  var nonce = member(members, "nonce");
  if (exactAlg === undefined || exactAlg === "null" || jsonString(exactAlg) !== alg) {
    joseError = "header alg is not the checked one";
  } else if (nonce !== undefined && nonce !== "null" && !isJSONString(nonce)) {
    joseError = "header nonce is not a string";
  }
  return { alg: alg, kid: kid, signingInput: token.slice(0, d2), signature: raw[2], payload: raw[1], joseError: joseError };
}

// keyFits reports whether key ({kid, alg, fits: [algs]}) may verify alg for a token with kid.
export function keyFits(key, kid, alg) {
  if (kid !== "" && key.kid && key.kid !== kid) return false;
  if (key.alg && key.alg !== alg) return false;
  return key.fits.indexOf(alg) >= 0;
}

// jwkInfo describes a JWK fetched from a JWKS URL as the render step describes configured keys:
// {kid, alg, fits, jwk, bits, hmacBytes}, or null for a key that is not for signature verification.
export function jwkInfo(jwk) {
  if (!jwk || typeof jwk !== "object") return null;
  if (jwk.use !== undefined && jwk.use !== "" && jwk.use !== "sig") return null;
  if (jwk.key_ops !== undefined && jwk.key_ops !== null && (!Array.isArray(jwk.key_ops) || jwk.key_ops.indexOf("verify") < 0)) return null;
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

// verifyParams returns the WebCrypto parameters for verifying alg with key: {importAlg, verifyAlg,
// sigLength (0: any)}, or null when the key can never verify alg (an HMAC key shorter than the hash, an
// RSA key under 1024 bits: Go refuses both).
export function verifyParams(alg, key) {
  var family = alg.slice(0, 2);
  var hash = HASH[alg.slice(2)];
  if (family === "HS") {
    if (key.hmacBytes * 8 < +alg.slice(2)) return null;
    return { importAlg: { name: "HMAC", hash: hash }, verifyAlg: { name: "HMAC" }, sigLength: 0 };
  }
  if (family === "RS") {
    if (key.bits < 1024) return null;
    return { importAlg: { name: "RSASSA-PKCS1-v1_5", hash: hash }, verifyAlg: { name: "RSASSA-PKCS1-v1_5" }, sigLength: 0 };
  }
  if (family === "PS") {
    if (key.bits < 1024) return null;
    return { importAlg: { name: "RSA-PSS", hash: hash }, verifyAlg: { name: "RSA-PSS", saltLength: +alg.slice(2) / 8 }, sigLength: 0 };
  }
  if (family === "ES") {
    var curve = { ES256: ["P-256", 64], ES384: ["P-384", 96], ES512: ["P-521", 132] }[alg];
    return { importAlg: { name: "ECDSA", namedCurve: curve[0] }, verifyAlg: { name: "ECDSA", hash: hash }, sigLength: curve[1] };
  }
  if (alg === "EdDSA") {
    return { importAlg: { name: "Ed25519" }, verifyAlg: { name: "Ed25519" }, sigLength: 64 };
  }
  return null;
}

// numericDate reads a claim as Go's json.Unmarshal into float64 does: absent → undefined; null → 0; a
// number → its value; anything else (or a number out of range) → NaN.
function numericDate(members, name) {
  var raw = member(members, name);
  if (raw === undefined) return undefined;
  if (raw === "null") return 0;
  var c = raw.charAt(0);
  if (c !== "-" && (c < "0" || c > "9")) return NaN;
  var f = Number(raw);
  if (!isFinite(f)) return NaN;
  return f;
}

// checkClaims checks the payload bytes of a verified token against policy {issuer, audience, clockSkew
// (seconds), required} at now (seconds, fractional). It returns {claims: members, sub} or {code, detail}.
export function checkClaims(payloadBytes, policy, now) {
  var scan = scanObject(utf8Text(payloadBytes));
  if (scan.error) return err("JWT_UNSUPPORTED", "claims: " + scan.error);
  var all = scan.members;
  var skew = policy.clockSkew;
  var exp = numericDate(all, "exp");
  if (exp !== undefined && isNaN(exp)) return err("JWT_CLAIMS", "exp is not a number");
  if (exp === undefined) return err("JWT_EXPIRED", "token has no exp");
  if (!(now < exp + skew)) return err("JWT_EXPIRED", "expired");
  var nbf = numericDate(all, "nbf");
  if (nbf !== undefined && isNaN(nbf)) return err("JWT_CLAIMS", "nbf is not a number");
  if (nbf !== undefined && now + skew < nbf) return err("JWT_NOT_YET_VALID", "not valid yet");
  var iat = numericDate(all, "iat");
  if (iat !== undefined && isNaN(iat)) return err("JWT_CLAIMS", "iat is not a number");
  if (iat !== undefined && now + skew < iat) return err("JWT_NOT_YET_VALID", "issued in the future");
  var sub = "";
  var subRaw = member(all, "sub");
  if (subRaw !== undefined && subRaw !== "null") {
    if (!isJSONString(subRaw)) return err("JWT_CLAIMS", "sub is not a string");
    sub = jsonString(subRaw);
  }
  if (policy.issuer) {
    var issRaw = member(all, "iss");
    var iss = issRaw !== undefined && isJSONString(issRaw) ? jsonString(issRaw) : null;
    if (iss !== policy.issuer) return err("JWT_ISSUER", "issuer is not " + policy.issuer);
  }
  if (policy.audience && policy.audience.length > 0) {
    var audRaw = member(all, "aud");
    var auds = [];
    if (audRaw !== undefined) {
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
    if (rr === undefined || rr === "null") return err("JWT_CLAIMS", "required claim " + req[k] + " is missing");
  }
  return { claims: all, sub: sub };
}

// claimText returns a verified claim as header text (a string unquoted, anything else compact JSON), or
// undefined when absent.
export function claimText(claims, name) {
  var raw = member(claims, name);
  if (raw === undefined) return undefined;
  if (isJSONString(raw)) return jsonString(raw);
  return compact(raw);
}
