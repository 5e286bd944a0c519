// The viewer-response function: on an origin's answer, the Location mapping, the response transform, HSTS
// and CORS headers, as the reference writes every response. It decides the route again from the viewer's
// request (a CloudFront Function keeps no state between the two events).

async function handler(event) {
  var resp = event.response;
  var v = await view(event.request);
  var h = headersOf(resp.headers);
  if (v.route && v.route.pool) {
    var st = { route: v.route, originHosts: GATEWAY.pools[v.route.pool].originHosts, scheme: v.scheme || "https", publicHost: v.rawHost,
      requestPath: v.path, upstreamPath: G.rewritePath(v.route, v.path, v.segs) };
    var names = ["location", "content-location"];
    for (var i = 0; i < names.length; i++) {
      var loc = h.get(names[i]);
      if (loc) h.set(names[i], G.publicLocation(loc, st));
    }
  }
  // The edge owns the CORS headers when the manifest configures CORS: the origin's own are dropped.
  if (HAS_CORS && GATEWAY.cors) {
    for (var j = 0; j < GATEWAY.cors.owned.length; j++) h.delete(GATEWAY.cors.owned[j]);
  }
  G.finishHeaders(h, GATEWAY, v.route, v.corsOrigin);
  return resp;
}
