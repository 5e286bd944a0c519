package jsruntime

import (
	"fmt"
	"path"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// BuildErrors is esbuild's errors as one line: each message at its file:line:col (the column 1-based, as
// editors count), joined by "; ". Every renderer that bundles the library reports a failed build with it.
func BuildErrors(msgs []api.Message) string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		loc := ""
		if m.Location != nil {
			loc = fmt.Sprintf("%s:%d:%d: ", m.Location.File, m.Location.Line, m.Location.Column+1)
		}
		out = append(out, loc+m.Text)
	}
	return strings.Join(out, "; ")
}

// ImportPrefix is how a renderer's glue imports the library: `import … from "edgegw-runtime/jwt.js"`.
const ImportPrefix = "edgegw-runtime/"

// Resolve registers, in an esbuild plugin's setup, the library's modules: ImportPrefix + NAME, and their
// relative imports of each other, load from Files. Every renderer that bundles the library calls it before
// adding its own modules.
func Resolve(pb api.PluginBuild) {
	pb.OnResolve(api.OnResolveOptions{Filter: "^" + ImportPrefix}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
		return api.OnResolveResult{Path: strings.TrimPrefix(a.Path, ImportPrefix), Namespace: "jsruntime"}, nil
	})
	pb.OnResolve(api.OnResolveOptions{Filter: `^\./`, Namespace: "jsruntime"}, func(a api.OnResolveArgs) (api.OnResolveResult, error) {
		return api.OnResolveResult{Path: path.Clean(path.Join(path.Dir(a.Importer), a.Path)), Namespace: "jsruntime"}, nil
	})
	pb.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "jsruntime"}, func(a api.OnLoadArgs) (api.OnLoadResult, error) {
		b, err := Files.ReadFile(a.Path)
		if err != nil {
			return api.OnLoadResult{}, fmt.Errorf("no runtime module %s", a.Path)
		}
		s := string(b)
		return api.OnLoadResult{Contents: &s, Loader: api.LoaderJS}, nil
	})
}
