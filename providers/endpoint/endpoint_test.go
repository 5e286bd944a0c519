package endpoint_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/providers/endpoint"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestGet(t *testing.T) {
	const name = endpoint.FastlyAPIURL
	for _, c := range []struct {
		value string
		want  string
		ok    bool
		err   string // part of the error; empty for none
	}{
		{value: "", ok: false},
		{value: "   ", ok: false},
		{value: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080", ok: true},
		{value: " https://api.fastly.test/base/ ", want: "https://api.fastly.test/base/", ok: true},
		{value: "127.0.0.1:8080", err: `"127.0.0.1:8080" is not a URL`},
		{value: "localhost:8080", err: `"localhost:8080" is not an absolute http(s) URL`},
		{value: "/client/v4", err: "is not an absolute http(s) URL"},
		{value: "ftp://127.0.0.1", err: "is not an absolute http(s) URL"},
		{value: "http://", err: `"http://" has no host`},
		{value: "http://127.0.0.1:8080/?x=1", err: "cannot carry a query or fragment"},
		{value: "http://127.0.0.1:8080/#top", err: "cannot carry a query or fragment"},
		{value: "https://user:s3cret@127.0.0.1", err: "must not carry credentials"},
	} {
		got, ok, err := endpoint.Get(env(map[string]string{name: c.value}), name)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: got %q, %v; want %q, %v", c.value, got, ok, c.want, c.ok)
		}
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%q: unexpected error %v", c.value, err)
		case c.err != "" && err == nil:
			t.Errorf("%q: no error, want one saying %q", c.value, c.err)
		case c.err != "":
			msg := err.Error()
			for _, part := range []string{"endpoint: FASTLY_API_URL: ", c.err, "such as https://api.fastly.com", "or unset it"} {
				if !strings.Contains(msg, part) {
					t.Errorf("%q: error %q lacks %q", c.value, msg, part)
				}
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("error repeats a password: %q", msg)
			}
		}
	}
}

func TestVariables(t *testing.T) {
	var names []string
	for _, v := range endpoint.Variables() {
		names = append(names, v.Name)
		if got, ok, err := endpoint.Get(env(map[string]string{v.Name: v.Default}), v.Name); err != nil || !ok || got != v.Default {
			t.Errorf("%s: its own default %q fails Get: %v", v.Name, v.Default, err)
		}
		if !strings.HasPrefix(v.Default, "https://") {
			t.Errorf("%s: default %q is not the vendor's https API", v.Name, v.Default)
		}
	}
	want := []string{
		"CLOUDFLARE_BASE_URL",
		"AWS_ENDPOINT_URL_CLOUDFRONT", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_CLOUDFRONT_KEYVALUESTORE", "AWS_ENDPOINT_URL_WAFV2",
		"FASTLY_API_URL",
		"AZURE_AUTHORITY_HOST", "EDGEGW_AZURE_ARM_ENDPOINT",
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE",
	}
	if !slices.Equal(names, want) {
		t.Errorf("variables %v, want %v", names, want)
	}

	var perVendor int
	for _, vendor := range endpoint.Vendors() {
		vs := endpoint.Variables(vendor)
		if len(vs) == 0 {
			t.Errorf("%s has no variables", vendor)
		}
		for _, v := range vs {
			if v.Vendor != vendor {
				t.Errorf("Variables(%s) holds %s of %s", vendor, v.Name, v.Vendor)
			}
		}
		perVendor += len(vs)
	}
	if perVendor != len(want) {
		t.Errorf("the vendors' variables add up to %d, want %d", perVendor, len(want))
	}
}
