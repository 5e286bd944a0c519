package falco

import (
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/render/fastly"
)

// The falco engine is the `fastly` target's runtime in the conformance suite and `edgegw test --target
// fastly`. cmd links this package; the provider packages do not (this package's tests import them).
func init() { testrun.RegisterEngine(fastly.Name, NewEngine()) }
