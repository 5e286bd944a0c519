package falco

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render/fastly"
)

// wycheproofLabelDefects are the vectors shared/testvectors/README.md documents as mislabelled.
var wycheproofLabelDefects = map[int]bool{346: true, 347: true, 350: true, 351: true, 367: true, 370: true, 372: true, 373: true}

// TestWycheproofJWS runs the Wycheproof JWS vectors whose key is HS256, RS256/384/512 or ES256 (the
// algorithms this target verifies) through the generated VCL: one gateway per key, every algorithm the
// target supports allowed (the key pins it), the vector sent as a bearer token. A vector counts as accepted
// when the VCL verified its signature (reported in test mode; the vectors carry no exp, so the request is
// then refused for its claims). Each decision must match the label, and the reference's verifier on the
// same key, except the documented label defects, where it must match the reference alone.
func TestWycheproofJWS(t *testing.T) {
	requireFalco(t)
	data, err := os.ReadFile(testenv.SharedFile(t, "testvectors/wycheproof/json_web_signature_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		TestGroups []struct {
			Comment string          `json:"comment"`
			Public  json.RawMessage `json:"public"`
			Private json.RawMessage `json:"private"`
			Tests   []struct {
				TcID    int    `json:"tcId"`
				Comment string `json:"comment"`
				JWS     string `json:"jws"`
				Result  string `json:"result"`
			} `json:"tests"`
		} `json:"testGroups"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	perAlg := map[string][2]int{} // alg -> {label agreed, run}
	refAgree, run, skipped := 0, 0, 0
	for gi, grp := range file.TestGroups {
		jwk := grp.Public
		if jwk == nil {
			jwk = grp.Private
		}
		var k struct {
			Kty, Alg, Crv, K string
		}
		_ = json.Unmarshal(jwk, &k)
		alg := k.Alg
		if alg == "" {
			switch {
			case k.Kty == "RSA":
				alg = "RS256"
			case k.Kty == "EC" && k.Crv == "P-256":
				alg = "ES256"
			}
		}
		switch alg {
		case "HS256", "RS256", "RS384", "RS512", "ES256":
		default:
			continue
		}
		policy := ir.AuthPolicy{Name: "wp", JWT: &ir.JWT{Algorithms: fastly.SupportedAlgorithms}}
		secret := ""
		var refKeys []jwtverify.Key
		if k.Kty == "oct" {
			b, err := base64.RawURLEncoding.DecodeString(k.K)
			if err != nil {
				t.Fatal(err)
			}
			secret = string(b)
			policy.JWT.Secret = &ir.Value{Env: "WP_SECRET"}
			refKeys = []jwtverify.Key{jwtverify.HMACKey(b, "")}
		} else {
			policy.JWT.Keys = []ir.KeyFile{{Path: fmt.Sprintf("group%d.jwk", gi), Data: string(jwk)}}
			refKeys, err = jwtverify.ParseKeys(jwk, "")
			if err != nil {
				// The manifest could not name this key (validation refuses it): nothing to render.
				skipped += len(grp.Tests)
				continue
			}
		}
		ref, err := jwtverify.New(jwtverify.Config{Algorithms: fastly.SupportedAlgorithms, Keys: refKeys})
		if err != nil {
			t.Fatal(err)
		}
		g := pathsGateway(t)
		g.AuthPolicies = []ir.AuthPolicy{policy}
		g.Routes[0].Auth = "wp"
		o := newOrigins(t, g)
		env := testrun.Env{Getenv: func(n string) string {
			if n == "WP_SECRET" {
				return secret
			}
			return ""
		}}
		in, err := NewEngine().Open(context.Background(), g, o.urls(), env)
		if err != nil {
			t.Fatalf("group %d (%s): %v", gi, grp.Comment, err)
		}
		for _, tc := range grp.Tests {
			run++
			h := http.Header{}
			h.Set("Authorization", "Bearer "+tc.JWS)
			resp, err := in.Do(context.Background(), requestTo("api.example.com", "/x", h))
			if err != nil {
				t.Errorf("tcId %d: %v", tc.TcID, err)
				continue
			}
			accepted := resp.Decision["jwt"] == "verified"
			_, rerr := ref.VerifySignature(context.Background(), tc.JWS)
			refAccepted := rerr == nil
			c := perAlg[alg]
			c[1]++
			if accepted == (tc.Result == "valid") {
				c[0]++
			}
			perAlg[alg] = c
			if accepted == refAccepted {
				refAgree++
			}
			switch {
			case wycheproofLabelDefects[tc.TcID]:
				if accepted != refAccepted {
					t.Errorf("tcId %d (%s; documented label defect): fastly accepted=%v, reference accepted=%v", tc.TcID, tc.Comment, accepted, refAccepted)
				}
			case accepted != (tc.Result == "valid") || accepted != refAccepted:
				t.Errorf("tcId %d (%s / %s): labelled %s, fastly accepted=%v (%d %s), reference accepted=%v", tc.TcID, grp.Comment, tc.Comment, tc.Result, accepted, resp.Status, strings.TrimSpace(string(resp.Body)), refAccepted)
			}
		}
		_ = in.Close()
	}
	var algs []string
	for a := range perAlg {
		algs = append(algs, a)
	}
	sort.Strings(algs)
	var parts []string
	for _, a := range algs {
		parts = append(parts, fmt.Sprintf("%s %d/%d", a, perAlg[a][0], perAlg[a][1]))
	}
	t.Logf("Wycheproof JWS through the VCL: label agreed %s; same decision as the reference %d/%d; %d vectors of groups whose key a manifest cannot hold (jwtverify refuses it) not run", strings.Join(parts, ", "), refAgree, run, skipped)
	if run < 300 {
		t.Fatalf("ran %d vectors; expected the HS256/RS*/ES256 groups (over 300)", run)
	}
}
