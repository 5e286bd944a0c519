// Bearer-token verification for Workers, deciding as gateway/jwtverify does: the structure and claims come
// from the shared runtime (jwt.js), signatures from WebCrypto. Keys are imported once per isolate, per key
// object and algorithm (importStats counts the imports, for the benchmark's warm-path check), so a warm
// verification awaits nothing but crypto.subtle.verify; JWKS documents are fetched and cached per policy.

import * as J from "edgegw-runtime/jwt.js";

export const importStats = { imports: 0 };

// key object → {alg → {vp, key, promise}}: key is the CryptoKey once imported (null when the import failed
// or the key can never verify alg), undefined while the import runs. A WeakMap, so keys that a JWKS refresh
// replaces go with their imports.
const imported = new WeakMap();

function importEntry(key, alg) {
  let byAlg = imported.get(key);
  if (byAlg === undefined) {
    byAlg = {};
    imported.set(key, byAlg);
  }
  let e = byAlg[alg];
  if (e === undefined) {
    const vp = J.verifyParams(alg, key);
    e = { vp, key: null, promise: null };
    if (vp) {
      importStats.imports++;
      e.key = undefined;
      e.promise = crypto.subtle.importKey("jwk", key.jwk, vp.importAlg, false, ["verify"]).then(
        (k) => (e.key = k),
        () => (e.key = null),
      );
    }
    byAlg[alg] = e;
  }
  return e;
}

// importKey returns (a promise of) key's CryptoKey for alg, null when it cannot verify alg.
export function importKey(key, alg) {
  const e = importEntry(key, alg);
  return e.key !== undefined ? Promise.resolve(e.key) : e.promise;
}

// The bytes WebCrypto verifies: the signing input is written here right before each crypto.subtle.verify,
// which copies its arguments when called, so no buffer is allocated per token (a token is at most
// J.MAX_TOKEN_SIZE bytes, its signing input fewer).
const encoder = new TextEncoder();
const signingBytes = new Uint8Array(J.MAX_TOKEN_SIZE);

function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// secretKey returns the key of a policy's HMAC secret, read from its secret binding (null when unset or
// shorter than the policy's algorithms need).
const secretKeys = new Map(); // policy name → {value, key}: the secret's key object is built once per value
export function secretKey(policy, env) {
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
  if (bytes.length < policy.minSecretBytes) return null; // the reference refuses to start with it
  return { id: "secret:" + policy.name + ":" + b64url(bytes), kid: "", alg: "",
    fits: ["HS256", "HS384", "HS512"], hmacBytes: bytes.length, bits: 0, jwk: { kty: "oct", k: b64url(bytes) } };
}

// The JWKS cache of one policy: refreshed when stale, and on an unknown kid at most once per minRefresh.
const jwksCaches = new Map();
export async function jwksKeys(policy, kid, now) {
  let c = jwksCaches.get(policy.name);
  if (!c) {
    c = { keys: null, fetchedAt: -Infinity, triedAt: -Infinity, kidAt: -Infinity, lastErr: null };
    jwksCaches.set(policy.name, c);
  }
  const ttl = policy.jwks.ttlMs;
  const minRefresh = 30000;
  const stale = c.keys === null || now - c.fetchedAt >= ttl;
  const unknown = kid !== "" && !(c.keys || []).some((k) => k.kid === kid);
  const retryStale = stale && (c.lastErr === null || now - c.triedAt >= minRefresh);
  const retryKid = unknown && now - c.kidAt >= minRefresh;
  if (retryStale || retryKid) {
    if (!stale) c.kidAt = now;
    c.triedAt = now;
    try {
      const resp = await fetch(policy.jwks.url, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(5000) });
      if (resp.status !== 200) throw new Error("jwks status " + resp.status);
      const text = await resp.text();
      if (text.length > 1 << 20) throw new Error("jwks too large");
      const doc = JSON.parse(text);
      const list = Array.isArray(doc.keys) ? doc.keys : [doc];
      const keys = [];
      list.forEach((jwk, i) => {
        const info = J.jwkInfo(jwk);
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

// verify returns {claims, sub} or {code, detail}, deciding as gateway/jwtverify does.
export async function verify(policy, authorization, env, now) {
  const bt = J.bearerToken(authorization);
  if (bt.code) return bt;
  const secret = secretKey(policy, env);
  if (policy.keys.length === 0 && !policy.jwks && !secret) return { code: "JWT_KEY", detail: "no usable key" };
  const p = J.parseJWS(bt.token, policy.algorithms);
  if (p.code) return p;
  let keys = [];
  for (const k of policy.keys) if (J.keyFits(k, p.kid, p.alg)) keys.push(k);
  if (secret && J.keyFits(secret, p.kid, p.alg)) keys.push(secret);
  if (policy.jwks) {
    const set = await jwksKeys(policy, p.kid, now);
    if (set.error && keys.length === 0) return { code: "JWT_KEY", detail: String(set.error) };
    if (set.keys) keys = keys.concat(set.keys.filter((k) => J.keyFits(k, p.kid, p.alg)));
  }
  if (keys.length === 0) return { code: "JWT_KEY", detail: "no configured key fits alg " + p.alg };
  if (p.joseError) return { code: "JWT_UNSUPPORTED", detail: p.joseError };
  if (!(await verifySignature(keys, p.alg, p.signingInput, p.signature))) return { code: "JWT_SIGNATURE", detail: "signature does not verify" };
  return J.checkClaims(p.payload, policy, now / 1000);
}

// verifySignature reports whether one of keys verifies sig over data (an ASCII string, as a JWS signing
// input is, or bytes) with alg. It is not an async function: with warm keys it returns crypto.subtle.verify's promise
// itself, so the caller's await is the only one.
export function verifySignature(keys, alg, data, sig) {
  for (let i = 0; i < keys.length; i++) {
    const e = importEntry(keys[i], alg);
    if (!e.vp || (e.vp.sigLength && sig.length !== e.vp.sigLength)) continue;
    if (e.key === undefined) return e.promise.then(() => verifySignature(keys.slice(i), alg, data, sig));
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
