// Package all links every target into a binary or a test: import it blank. Adding a target is a new folder
// under providers/ (and render/) plus one line here.
package all

import (
	_ "github.com/edgegw/edgegw/providers/azure"      // the azure target
	_ "github.com/edgegw/edgegw/providers/cloudflare" // the cloudflare target
	_ "github.com/edgegw/edgegw/providers/cloudfront" // the cloudfront target
	_ "github.com/edgegw/edgegw/providers/fastly"     // the fastly target
	_ "github.com/edgegw/edgegw/providers/gcp"        // the gcp target
	_ "github.com/edgegw/edgegw/providers/local"      // the local target
	_ "github.com/edgegw/edgegw/render/irjson"        // the `ir` dump
)
