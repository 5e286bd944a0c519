package workerd

// The registration of this engine with the conformance suite, in one file so it is easy to move: the
// binary links it through cmd (a blank import), and `edgegw test --target cloudflare` then runs cases in
// workerd.

import (
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/render/cloudflare"
)

func init() { testrun.RegisterEngine(cloudflare.Name, Default) }
