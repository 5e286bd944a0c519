// What both CloudFront Functions share: the CloudFront event's header objects as the runtime's Headers
// (get, set, delete: the runtime calls no other method), the raw query rebuilt from the event's querystring object, and the request's
// public view (normalized path, host, tenant, CORS origin, route). GATEWAY, ROUTES and TEST_MODE are defined
// above by the renderer; HAS_* are build-time constants that drop what the gateway does not use. cloudfront-js-2.0 only: no timers, no network, crypto hashes and HMACs only.

import * as G from "edgegw-runtime/gateway.js";
import { normalize } from "edgegw-cloudfront/pathnorm.js";
import { lookup } from "edgegw-cloudfront/kvsroutes.js";
import cf from "cloudfront";

// The route table's KeyValueStore, for a table too large for the code (HAS_KVS).
var ROUTE_KVS = HAS_KVS ? cf.kvs() : null;

// Test-mode request headers: the clock, the client's scheme, the decision. Only a TEST_MODE build reads or
// writes them.
var TEST_NOW = "x-edgegw-test-now";
var TEST_SCHEME = "x-edgegw-test-scheme";
var TEST_DECISION = "x-edgegw-test-decision";

// headersOf wraps a CloudFront headers object ({lower-case name: {value, multiValue}}) in place. (Callbacks
// that need no this are arrow functions, which cloudfront-js-2.0 has: they are shorter.)
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
    },
  };
}

function copyHeaders(obj) {
  var out = {};
  for (var k in obj) out[k] = obj[k];
  return out;
}

// rawQuery rebuilds the query string from the event's querystring object, key by key.
function rawQuery(qs) {
  var parts = [];
  for (var k in qs) {
    var e = qs[k];
    var vals = e.multiValue && e.multiValue.length > 0 ? e.multiValue : [e];
    for (var i = 0; i < vals.length; i++) parts.push(vals[i].value === "" ? k : k + "=" + vals[i].value);
  }
  return parts.join("&");
}

// view reads what both functions decide on: the request's public view, with fail set to the code of an
// edge error before routing. Unset members (scheme, route, corsOrigin, preflight) read as false: the
// scheme is then https.
async function view(req) {
  var client = headersOf(req.headers);
  var v = { client: client, now: Date.now() };
  if (TEST_MODE) {
    if (client.get(TEST_NOW)) v.now = Number(client.get(TEST_NOW));
    if (client.get(TEST_SCHEME)) v.scheme = client.get(TEST_SCHEME);
    client.delete(TEST_NOW);
    client.delete(TEST_SCHEME);
  }
  v.rawHost = client.get("host") || "";
  v.path = normalize(req.uri);
  if (v.path === null) return failed(v, "BAD_PATH");
  v.host = G.hostOf(v.rawHost);
  v.tenancy = matchHost(v.host);
  if (!v.tenancy) return failed(v, "HOST_UNKNOWN");
  var cors = GATEWAY.cors;
  if (HAS_CORS && cors) {
    var origin = client.get("origin");
    if (origin && G.corsAllows(cors, origin)) v.corsOrigin = origin;
    if (req.method === "OPTIONS" && origin && client.get("access-control-request-method")) {
      v.preflight = true;
      return v;
    }
  }
  // (njs cannot await inside a call's arguments.)
  var k = await matchRoute(v.host, req.method, v.path, client);
  if (HAS_KVS ? !k : k < 0) return failed(v, "NO_ROUTE");
  v.route = HAS_KVS ? k : ROUTES[k];
  v.segs = v.path.slice(1).split("/");
  return v;
}

function failed(v, code) {
  v.fail = code;
  return v;
}
