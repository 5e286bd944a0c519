// Unit tests of the runtime against the shared vectors: every row of paths.tsv, and the Wycheproof JWS file
// verified with WebCrypto as the Workers glue does. Run with `node --test` (render/jsruntime's Go test runs
// it); EDGEGW_SHARED names the shared folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { normalize } from "../pathnorm.js";
import { parseJWS, jwkInfo, keyFits, verifyParams, b64urlDecode, bearerToken, checkClaims } from "../jwt.js";
import { scanObject } from "../json.js";

const shared = process.env.EDGEGW_SHARED || join(import.meta.dirname, "..", "..", "..", "..", "shared");

test("every row of paths.tsv", () => {
  const rows = readFileSync(join(shared, "testvectors", "paths.tsv"), "latin1").split("\n");
  let n = 0;
  for (const line of rows) {
    if (line === "" || line.startsWith("#")) continue;
    const [raw, want, why] = line.split("\t");
    const got = normalize(raw);
    if (want === "400") assert.ok(got.reject, `${raw} (${why}): want 400, got ${got.path}`);
    else assert.equal(got.path, want, `${raw} (${why}): ${got.reject || ""}`);
    n++;
  }
  assert.ok(n >= 30, `only ${n} rows read`);
});

test("normalization details the table does not show", () => {
  const cases = [
    ["/a/b/..", "/a/"], ["/a/..", "/"], ["/.", "/"], ["/a/", "/a/"], ["/%41", "/A"], ["/%c3%a9", "/%C3%A9"],
    ["/a b", "/a%20b"], ["/%25", "/%25"], ["/%25%34%31", null], ["/%4", null], ["/%G1", null], ["a", null],
    ["/\u00e9", "/%E9"], ["/\u00c0", null], ["/a%3b", null], ["/a%7f", null],
  ];
  for (const [raw, want] of cases) {
    const got = normalize(raw);
    if (want === null) assert.ok(got.reject, `${raw}: want reject, got ${got.path}`);
    else assert.equal(got.path, want, raw);
  }
});

const documentedLabelDefects = [346, 347, 350, 351, 367, 370, 372, 373];

async function verify(token, keys, algorithms) {
  const p = parseJWS(token, algorithms);
  if (p.code || p.joseError) return false;
  for (const k of keys) {
    if (!keyFits(k, p.kid, p.alg)) continue;
    const vp = verifyParams(p.alg, k);
    if (!vp) continue;
    if (vp.sigLength && p.signature.length !== vp.sigLength) continue;
    let key;
    try {
      key = await crypto.subtle.importKey("jwk", k.jwk, vp.importAlg, false, ["verify"]);
    } catch {
      continue;
    }
    const ok = await crypto.subtle.verify(vp.verifyAlg, key, new Uint8Array(p.signature), new TextEncoder().encode(p.signingInput));
    if (ok) return true;
  }
  return false;
}

test("Wycheproof JWS with WebCrypto", async (t) => {
  const file = JSON.parse(readFileSync(join(shared, "testvectors", "wycheproof", "json_web_signature_test.json"), "utf8"));
  const all = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
  let total = 0;
  let passed = 0;
  const failed = [];
  for (const g of file.testGroups) {
    const info = jwkInfo(g.public || g.private);
    for (const tc of g.tests) {
      total++;
      const accepted = info ? await verify(tc.jws, [info], all) : false;
      if (accepted === (tc.result === "valid")) passed++;
      else failed.push(tc.tcId);
    }
  }
  t.diagnostic(`Wycheproof JWS: ${passed}/${total}; failing tcIds ${failed.join(",")}`);
  assert.equal(total, file.numberOfTests);
  for (const id of failed) assert.ok(documentedLabelDefects.includes(id), `tcId ${id} fails and is not a documented label defect`);
  assert.ok(passed >= 393, `${passed}/${total}`);
});

test("bearer header and claim rules", () => {
  assert.equal(bearerToken(null).code, "JWT_MISSING");
  assert.equal(bearerToken("Basic abc").code, "JWT_MISSING");
  assert.equal(bearerToken("Bearer ").code, "JWT_MALFORMED");
  assert.equal(bearerToken("bearer   a.b.c").token, "a.b.c");
  const b64 = (s) => Buffer.from(s).toString("base64url");
  const tok = (h, p) => b64(h) + "." + b64(p) + ".c2ln";
  const algs = ["HS256"];
  assert.equal(parseJWS(tok('{"alg":"HS256"}', "{}") + ".x", algs).code, "JWT_MALFORMED");
  assert.equal(parseJWS(b64('{"alg":"HS256"}') + "=." + b64("{}") + ".c2ln", algs).code, "JWT_MALFORMED");
  assert.equal(parseJWS(tok('["HS256"]', "{}"), algs).code, "JWT_MALFORMED");
  assert.equal(parseJWS(tok('{"alg":"HS256","alg":"none"}', "{}"), algs).code, "JWT_UNSUPPORTED");
  assert.equal(parseJWS(tok('{"alg":"HS256","jwk":{}}', "{}"), algs).code, "JWT_UNSUPPORTED");
  assert.equal(parseJWS(tok('{"alg":"HS256","kid":7}', "{}"), algs).code, "JWT_UNSUPPORTED");
  assert.equal(parseJWS(tok('{"alg":256}', "{}"), algs).code, "JWT_UNSUPPORTED");
  assert.equal(parseJWS(tok('{"kid":"k"}', "{}"), algs).code, "JWT_ALG");
  assert.equal(parseJWS(tok('{"alg":"none"}', "{}"), algs).code, "JWT_ALG");
  assert.equal(parseJWS(tok('{"alg":"HS256","crit":["exp"]}', "{}"), algs).code, "JWT_UNSUPPORTED");
  assert.equal(parseJWS("x".repeat(8193), algs).code, "JWT_TOO_LARGE");
  assert.equal(parseJWS(tok('{"alg":"HS256"}', "{}"), algs).alg, "HS256");
  const enc = (s) => Array.from(Buffer.from(s));
  const pol = { clockSkew: 30, issuer: "https://i/", audience: ["api"], required: ["sub"] };
  const now = 1_700_000_000;
  const c = (extra) => enc(`{"sub":"alice","iss":"https://i/","aud":"api","exp":${now + 600}${extra}}`);
  assert.equal(checkClaims(c(""), pol, now).sub, "alice");
  assert.equal(checkClaims(enc('{"sub":"a","iss":"https://i/","aud":"api"}'), pol, now).code, "JWT_EXPIRED");
  assert.equal(checkClaims(c(',"nbf":' + (now + 100)), pol, now).code, "JWT_NOT_YET_VALID");
  assert.equal(checkClaims(c(',"sub":"x"'), pol, now).code, "JWT_UNSUPPORTED");
  assert.equal(checkClaims(enc(`{"sub":"a","iss":"https://i/","aud":"web","exp":${now + 600}}`), pol, now).code, "JWT_AUDIENCE");
  assert.equal(checkClaims(enc(`{"sub":"a","iss":"https://x/","aud":"api","exp":${now + 600}}`), pol, now).code, "JWT_ISSUER");
  assert.equal(checkClaims(enc(`{"sub":"a","iss":"https://i/","aud":"api","exp":"soon"}`), pol, now).code, "JWT_CLAIMS");
  assert.deepEqual(b64urlDecode("QQ"), new Uint8Array([65]));
  assert.equal(b64urlDecode("QR"), null);
});

test("strict base64url and JSON scanning at their edges", () => {
  const bytes = (s) => {
    const b = b64urlDecode(s);
    return b === null ? null : Array.from(b);
  };
  const cases = [
    ["", []], ["QQ", [65]], ["QR", null], ["QUI", [65, 66]], ["QUJ", null], ["QUJD", [65, 66, 67]], ["Q", null],
    ["QUJDR", null], ["QU\r\nJD", [65, 66, 67]], ["QQ==", null], ["Q+Q", null], ["Q/", null], ["-_8", [251, 255]],
    ["\u0151UJD", null], ["QUJ\u0144", null], ["QU\u00e9D", null], ["QUJD.", null],
  ];
  for (const [s, want] of cases) assert.deepEqual(bytes(s), want, JSON.stringify(s));
  const many = [];
  for (let i = 0; i < 20; i++) many.push(`"k${i}":${i}`);
  const scans = [
    [`{${many.join(",")}}`, "ok"], [`{${many.join(",")},"k3":0}`, "duplicate"], ['{"a":1,"a":2}', "duplicate"],
    ['{"__proto__":1,"__proto__":2}', "duplicate"], ['{"a\\u0062":1,"ab":2}', "duplicate"], ['{"a":{"b":1,"b":2}}', "duplicate"],
    ['{"a":1e5,"b":-0.5E-2,"c":[true,false,null,{}],"d":"\\u00e9\\n"}', "ok"], ['{"a":01}', "syntax"], ['{"a":1.}', "syntax"],
    ['{"a":-}', "syntax"], ['{"a":1e}', "syntax"], ['{"a":"\\u00g9"}', "syntax"], ['{"a":"\\x"}', "syntax"], ['{"a":"\u0010"}', "syntax"],
    ['{"a":tru}', "syntax"], ['{"a":1,}', "syntax"], ['{"a":1} x', "syntax"], ["[1]", "not object"], [' {"a" : [ 1 , 2 ] } ', "ok"],
  ];
  for (const [text, want] of scans) {
    const r = scanObject(text);
    assert.equal(r.error || "ok", want, text);
  }
  assert.deepEqual(scanObject('{"a\\u0062":"x","n":-1.5}').members, [{ name: "ab", raw: '"x"' }, { name: "n", raw: "-1.5" }]);
});
