// Package jsruntime holds the gateway runtime written once in JavaScript for every JavaScript target
// (Cloudflare Workers, CloudFront Functions on njs, Lambda@Edge on Node): path normalization, route
// matching, JWT structure and claim checks, transforms, CORS, edge errors, the Location mapping, sliding
// windows and the breaker, each decided exactly as the reference gateway decides it.
//
// The library is plain data to Go: renderers bundle it (esbuild) with the tables they generate from the IR
// and their target's glue, which does the I/O (crypto, state, upstream). It is written in the subset
// cloudfront-js-2.0 accepts: no optional chaining, no nullish coalescing, no spread, no classes, no async;
// keep it that way. Its unit tests (test/, node:test, no npm dependencies) run from this package's Go test.
package jsruntime

import "embed"

// Files holds the library's modules, by file name ("pathnorm.js", "json.js", "jwt.js", "gateway.js").
//
//go:embed pathnorm.js json.js jwt.js gateway.js
var Files embed.FS

// Modules lists the library's module file names, in a fixed order.
var Modules = []string{"gateway.js", "json.js", "jwt.js", "pathnorm.js"}
