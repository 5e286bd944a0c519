package njs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/testrun/conformance"
	"github.com/edgegw/edgegw/render/cloudfront"
)

func TestZZDump(t *testing.T) {
	ms, _, _ := conformance.Load(conformance.LoadOptions{Vectors: "../../../" + conformance.DefaultVectors})
	for i, m := range ms {
		for _, min := range []bool{false, true} {
			arts, err := cloudfront.RenderWith(m.Gateway, cloudfront.Options{IgnoreSizeLimit: true, NoMinify: !min})
			if err != nil {
				t.Log(err)
				continue
			}
			name := strings.TrimSuffix(filepath.Base(m.File), filepath.Ext(m.File))
			for _, a := range arts {
				suf := ".plain"
				if min {
					suf = ".min"
				}
				os.MkdirAll("/tmp/cfdump", 0o755)
				os.WriteFile(filepath.Join("/tmp/cfdump", name+"-"+string(rune('a'+i))+"-"+a.Path+suf), a.Data, 0o644)
			}
		}
	}
}
