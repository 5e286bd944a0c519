package apitest_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/endpoint"
)

func TestEnvFor(t *testing.T) {
	srv := apitest.New(t)
	if got := srv.EnvFor(endpoint.Fastly); !maps.Equal(got, map[string]string{"FASTLY_API_URL": srv.URL}) {
		t.Errorf("EnvFor(fastly) = %v", got)
	}
	aws := slices.Sorted(maps.Keys(srv.EnvFor(endpoint.CloudFront)))
	if want := []string{"AWS_ENDPOINT_URL_CLOUDFRONT", "AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_WAFV2"}; !slices.Equal(aws, want) {
		t.Errorf("EnvFor(cloudfront) names %v, want %v", aws, want)
	}
	all := srv.Env()
	if len(all) != 9 {
		t.Errorf("Env() has %d variables, want 9: %v", len(all), all)
	}
	if all["CLOUDFLARE_BASE_URL"] != srv.URL+"/client/v4/" || all["CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE"] != srv.URL+"/compute/v1/" {
		t.Errorf("Env() does not keep the vendors' paths: %v", all)
	}
	for name, v := range all {
		if got, ok, err := endpoint.Get(func(string) string { return v }, name); err != nil || !ok || got != v {
			t.Errorf("endpoint.Get(%s=%s) = %q, %v, %v", name, v, got, ok, err)
		}
	}
}

// A client built the way a provider builds one, from getenv alone, reaches the stub.
func TestGetenvPointsAClientAtTheServer(t *testing.T) {
	srv := apitest.New(t)
	srv.Register(apitest.Route("GET", "/client/v4/zones").And(apitest.HeaderValue("Authorization", "Bearer t")), apitest.JSON(200, "zones"))
	getenv := srv.Getenv(func(name string) string {
		if name == "CLOUDFLARE_API_TOKEN" {
			return "t"
		}
		return ""
	}, endpoint.Cloudflare)
	if getenv("FASTLY_API_URL") != "" {
		t.Error("Getenv(cloudflare) answers a Fastly variable")
	}
	base, ok, err := endpoint.Get(getenv, endpoint.CloudflareBaseURL)
	if err != nil || !ok {
		t.Fatalf("endpoint.Get: %q %v %v", base, ok, err)
	}
	status, body, _ := do(t, srv.Client(), "GET", base+"zones", "", "Authorization", "Bearer "+getenv("CLOUDFLARE_API_TOKEN"))
	if status != 200 || body != `"zones"` {
		t.Errorf("got %d %s", status, body)
	}
}

func TestSetenv(t *testing.T) {
	rec := newRecorder(t)
	srv := apitest.New(rec)
	srv.Setenv(endpoint.Azure)
	want := map[string]string{"AZURE_AUTHORITY_HOST": srv.URL + "/", "EDGEGW_AZURE_ARM_ENDPOINT": srv.URL}
	if !maps.Equal(rec.env, want) {
		t.Errorf("Setenv(azure) set %v, want %v", rec.env, want)
	}
	rec.finish()
}

// The harness is test support: no file that goes into the binary may import it.
func TestNotImportedByNonTestCode(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	const self = "github.com/edgegw/edgegw/providers/apitest"
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == self {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s, which only tests may import", rel, self)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d files under %s", checked, root)
	}
}
