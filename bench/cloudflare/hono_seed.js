// The seed scenario of the whole-request benchmark written by hand as a Hono app, the way a Hono user would
// write it: hono/jwt for the bearer token, hono/proxy upstream, Hono middleware for the rest, and a Durable
// Object for the exact sliding-window limit (the same design as the edgegw Worker's, so both keep one
// exact count per subject across isolates). It decides the requests seed.mjs sends as the rendered Worker
// does (seed.mjs checks that before timing): path normalization failing closed with 400, the host, the
// routes, the token (issuer, audience, expiry), 100 requests a minute per subject, X-Internal-Debug removed,
// X-Forwarded-By set, a fresh X-Request-ID, the /v2 → /internal/v2 rewrite, X-Forwarded-*, Server removed
// and HSTS on every response. Hono's jwt middleware answers every token failure with 401 (edgegw: 403 for
// a bad signature or claim); the timed requests carry valid tokens.
//
// Two variants, by the MODE binding: "jwk" passes the public JWK to jwt() as Hono's documentation does (the
// key is imported on every verification); "cryptokey" imports it once and passes the CryptoKey.
import { Hono } from "hono";
import { jwt } from "hono/jwt";
import { proxy } from "hono/proxy";
import { DurableObject } from "cloudflare:workers";
import { SEED } from "bench:seed";

const HOST = "api.example.com";
const HSTS = "max-age=63072000; includeSubDomains; preload";
const WINDOW_MS = 60000;
const LIMIT = 100;
const VERIFY = { iss: "https://auth.example.com/", aud: "api" };

// The path rules every edgegw target applies: refuse encoded separators, NUL, overlong UTF-8 starts, double
// encodings, backslashes, ';' parameters and control bytes; decode unreserved escapes; resolve dot segments
// (above the root: refused); collapse empty segments.
const REFUSE = /%2f|%5c|%00|%c0|%c1|%25[0-9a-f]{2}|[\\;\x00-\x1f\x7f]/i;
const UNRESERVED = /%(4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|3[0-9]|2[de]|5f|7e)/gi;

function normalize(raw) {
  if (REFUSE.test(raw)) return null;
  const segs = raw.replace(UNRESERVED, (_, h) => String.fromCharCode(parseInt(h, 16))).split("/");
  const out = [];
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i];
    if (s === "" || s === ".") continue;
    if (s === "..") {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    out.push(s);
  }
  const last = segs[segs.length - 1];
  const trailing = out.length > 0 && (last === "" || last === "." || last === "..");
  return "/" + out.join("/") + (trailing ? "/" : "");
}

// getPath is Hono's hook for the path it routes on: the normalized one, or a path only the refusal matches.
function getPath(request) {
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  const q = url.indexOf("?", start);
  const n = normalize(q < 0 ? url.slice(start) : url.slice(start, q));
  return n === null ? "/__bad-path" : n;
}

export class Limiter extends DurableObject {
  async hit(now) {
    const hits = (await this.ctx.storage.get("hits")) || [];
    let i = 0;
    while (i < hits.length && hits[i] <= now - WINDOW_MS) i++;
    if (i > 0) hits.splice(0, i);
    if (hits.length >= LIMIT) return { allowed: false, retryAfter: Math.max(1, Math.ceil((hits[0] + WINDOW_MS - now) / 1000)) };
    hits.push(now);
    await this.ctx.storage.put("hits", hits);
    return { allowed: true, retryAfter: 0 };
  }
}

const rateLimit = async (c, next) => {
  const key = "sub:" + c.get("jwtPayload").sub;
  const r = await c.env.LIMITER.get(c.env.LIMITER.idFromName(key)).hit(Date.now());
  if (!r.allowed) return c.json({ status: 429, code: "RATE_LIMIT", message: "Too Many Requests" }, 429, { "Retry-After": String(r.retryAfter) });
  await next();
};

function app(verifyToken) {
  const a = new Hono({ getPath });
  a.use("*", async (c, next) => {
    if ((c.req.header("host") || "").split(":")[0] !== HOST) {
      c.res = c.json({ status: 421, code: "HOST_UNKNOWN", message: "Misdirected Request" }, 421);
    } else {
      await next();
    }
    c.res.headers.delete("Server");
    c.res.headers.set("Strict-Transport-Security", HSTS);
  });
  a.all("/__bad-path", (c) => c.json({ status: 400, code: "BAD_PATH", message: "Bad Request" }, 400));
  a.get("/health", (c) => c.text("ok"));
  a.use("/v2/*", verifyToken, rateLimit);
  a.all("/v2/*", (c) => {
    const req = c.req.raw;
    const h = new Headers(req.headers);
    h.delete("X-Internal-Debug");
    h.set("X-Forwarded-By", "edge-gateway");
    h.set("X-Request-ID", crypto.randomUUID());
    h.set("X-Forwarded-For", h.get("cf-connecting-ip") || "");
    h.set("X-Forwarded-Host", h.get("host") || "");
    h.set("X-Forwarded-Proto", "https");
    h.delete("cf-connecting-ip");
    h.delete("host");
    const q = req.url.indexOf("?");
    return proxy(SEED.origin + "/internal" + c.req.path + (q < 0 ? "" : req.url.slice(q)), {
      method: req.method, headers: h, body: req.body, redirect: "manual",
    });
  });
  a.all("*", (c) => c.text("not found", 404));
  return a;
}

const withJWK = app(jwt({ secret: SEED.jwk, alg: "RS256", verification: VERIFY }));

let keyed = null;
const withCryptoKey = app(async (c, next) => {
  if (!keyed) {
    const key = await crypto.subtle.importKey("jwk", SEED.jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
    keyed = jwt({ secret: key, alg: "RS256", verification: VERIFY });
  }
  return keyed(c, next);
});

export default {
  fetch(request, env, ctx) {
    return (env.MODE === "jwk" ? withJWK : withCryptoKey).fetch(request, env, ctx);
  },
};
