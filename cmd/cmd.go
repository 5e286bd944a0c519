// Package cmd links every command into the binary. Each command lives in its own package under cmd/ and
// registers itself with root.AddCommand; this package imports them all, and the renderers and providers they
// need, so main only calls Main.
package cmd

import (
	"github.com/edgegw/edgegw/cmd/root"

	_ "github.com/edgegw/edgegw/cmd/apply"     // edgegw apply
	_ "github.com/edgegw/edgegw/cmd/dev"       // edgegw dev
	_ "github.com/edgegw/edgegw/cmd/history"   // edgegw history
	_ "github.com/edgegw/edgegw/cmd/init"      // edgegw init
	_ "github.com/edgegw/edgegw/cmd/plan"      // edgegw plan
	_ "github.com/edgegw/edgegw/cmd/providers" // edgegw providers
	_ "github.com/edgegw/edgegw/cmd/render"    // edgegw render
	_ "github.com/edgegw/edgegw/cmd/rollback"  // edgegw rollback
	_ "github.com/edgegw/edgegw/cmd/schema"    // edgegw schema
	_ "github.com/edgegw/edgegw/cmd/test"      // edgegw test
	_ "github.com/edgegw/edgegw/cmd/unlock"    // edgegw unlock
	_ "github.com/edgegw/edgegw/cmd/validate"  // edgegw validate
	_ "github.com/edgegw/edgegw/cmd/verifydns" // edgegw verify-dns

	_ "github.com/edgegw/edgegw/internal/falco"            // the fastly target's test engine (falco)
	_ "github.com/edgegw/edgegw/providers/all"             // every target
	_ "github.com/edgegw/edgegw/providers/azure/evaluate"  // the azure test engine (it imports testrun, which providers/all must not reach)
	_ "github.com/edgegw/edgegw/providers/gcp/evaluate"    // the gcp test engine (it imports testrun, which providers/all must not reach)
	_ "github.com/edgegw/edgegw/render/cloudflare/workerd" // the cloudflare test engine (workerd through miniflare; it imports testrun, which providers/all must not reach)
	_ "github.com/edgegw/edgegw/render/cloudfront/njs"     // the cloudfront test engine (njs)
)

// Main runs edgegw and returns the process exit code.
func Main() int { return root.Main() }
