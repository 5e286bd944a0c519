// The route lookup of a function whose exact and prefix routes are in the KeyValueStore (a table too
// large for CloudFront's 10,240 bytes of code). Keys are ROUTE_KEY_PREFIX ("r" and the table's version,
// eight hex digits, written in by the renderer) + a stem: a route's path without a trailing "/" ("/"
// itself: ""). A function reads only the keys of its own table's version, so a deploy writes a new table
// beside the one the live code reads. A key's value is the JSON list of its routes in IR order, each
// [prefix ? 1 : 0, path, methods or 0, hosts or 0, headers or 0, table entry]. Exact routes precede
// prefix routes in IR order, and longer prefixes the shorter ones, so walking the path's stems from the
// whole path to the root and taking the first route that matches is the reference's scan over them.
import { prefixMatches, wildcardLabel } from "edgegw-runtime/gateway.js";

function holds(c, host, method, headers) {
  var i, any;
  if (c[2] && c[2].indexOf(method) < 0) return false;
  if (c[3]) {
    for (any = false, i = 0; i < c[3].length; i++) if (wildcardLabel(c[3][i], host) !== null) any = true;
    if (!any) return false;
  }
  for (i = 0; c[4] && i < c[4].length; i++) if (headers.get(c[4][i][0]) !== c[4][i][1]) return false;
  return true;
}

// lookup returns the table entry of the first KeyValueStore route that matches (its transform resolved
// from transforms), or null. Stems longer than maxLen (the longest key's) are not read. A store that
// cannot be read throws: the request fails, never routes past a route it could not see.
export async function lookup(kvs, maxLen, transforms, host, method, path, headers) {
  var stem = path.charAt(path.length - 1) === "/" ? path.slice(0, -1) : path;
  for (;;) {
    var key = ROUTE_KEY_PREFIX + stem;
    if (stem.length <= maxLen && (await kvs.exists(key))) {
      var list = await kvs.get(key, { format: "json" });
      for (var i = 0; i < list.length; i++) {
        var c = list[i];
        if ((c[0] ? prefixMatches(c[1], path) : path === c[1]) && holds(c, host, method, headers)) {
          var r = c[5];
          r.transform = transforms[r.transform];
          return r;
        }
      }
    }
    if (stem === "") return null;
    stem = stem.slice(0, stem.lastIndexOf("/"));
  }
}
