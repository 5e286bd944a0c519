package njs

// The registration of this engine with the conformance suite, in one file so it is easy to move. Nothing
// links the package into the binary: cmd imports it blank only once the conformance suite passes on it.

import (
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/render/cloudfront"
)

func init() { testrun.RegisterEngine(cloudfront.Name, Default) }
