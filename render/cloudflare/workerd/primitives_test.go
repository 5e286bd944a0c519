package workerd

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/internal/testenv"
)

// TestWycheproofPrimitivesInWorkerd runs Wycheproof's signature-primitive files through the generated
// Worker's own signature step (key import and WebCrypto verify, as a token's signature is checked) in
// workerd, through the test build's verify endpoint. Every applicable vector must match its label
// ("acceptable" ones may go either way). Not applicable to a JWS, and counted apart: HMAC tags shorter
// than the hash (a JWS carries the whole tag); HMAC keys shorter than the hash must be refused (RFC 7518
// section 3.2, as the reference refuses them).
func TestWycheproofPrimitivesInWorkerd(t *testing.T) {
	requireEngine(t)
	ctx := context.Background()
	g := pathsIR()
	in, err := engine.Open(ctx, g, nil, testrun.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	files := []struct{ file, alg string }{
		{"ecdsa_secp256r1_sha256_p1363_test.json", "ES256"},
		{"rsa_signature_2048_sha256_test.json", "RS256"},
		{"rsa_pss_2048_sha256_mgf1_32_test.json", "PS256"},
		{"hmac_sha256_test.json", "HS256"},
		{"ed25519_test.json", "EdDSA"},
	}
	for _, f := range files {
		t.Run(f.alg, func(t *testing.T) {
			data, err := os.ReadFile(testenv.SharedFile(t, "testvectors/wycheproof/"+f.file))
			if err != nil {
				t.Fatal(err)
			}
			var file struct {
				NumberOfTests int `json:"numberOfTests"`
				TestGroups    []struct {
					PublicKeyJwk json.RawMessage `json:"publicKeyJwk"`
					KeyJwk       json.RawMessage `json:"keyJwk"`
					PublicKeyPem string          `json:"publicKeyPem"`
					KeySize      int             `json:"keySize"`
					TagSize      int             `json:"tagSize"`
					Tests        []struct {
						TcID    int    `json:"tcId"`
						Comment string `json:"comment"`
						Key     string `json:"key"`
						Msg     string `json:"msg"`
						Sig     string `json:"sig"`
						Tag     string `json:"tag"`
						Result  string `json:"result"`
					} `json:"tests"`
				} `json:"testGroups"`
			}
			if err := json.Unmarshal(data, &file); err != nil {
				t.Fatal(err)
			}
			total, pass, notApplicable, shortKey, acceptable := 0, 0, 0, 0, 0
			for _, grp := range file.TestGroups {
				for _, tc := range grp.Tests {
					total++
					jwk := grp.PublicKeyJwk
					if jwk == nil {
						jwk = grp.KeyJwk
					}
					if jwk == nil && grp.PublicKeyPem != "" {
						// Some groups hold only PEM: read it as a manifest's key file is read, then as JWK.
						keys, err := jwtverify.ParseKeys([]byte(grp.PublicKeyPem), "")
						if err != nil {
							t.Fatalf("tcId %d: %v", tc.TcID, err)
						}
						if jwk, err = (jose.JSONWebKey{Key: keys[0].Key}).MarshalJSON(); err != nil {
							t.Fatal(err)
						}
					}
					sig := tc.Sig
					want := tc.Result == "valid"
					if f.alg == "HS256" {
						if grp.TagSize != 256 {
							notApplicable++
							continue
						}
						key, _ := hex.DecodeString(tc.Key)
						jwk, _ = json.Marshal(map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(key)})
						sig = tc.Tag
						if len(key) < 32 {
							shortKey++
							want = false
						}
					}
					body, _ := json.Marshal(map[string]any{"alg": f.alg, "jwk": jwk, "msg": tc.Msg, "sig": sig})
					resp, err := in.Do(ctx, &testrun.ClientRequest{Method: "POST", Target: "/__edgegw-test/verify", Host: "api.example.com",
						Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
					if err != nil {
						t.Fatal(err)
					}
					var out struct {
						Verified bool `json:"verified"`
					}
					if resp.Status != 200 || json.Unmarshal(resp.Body, &out) != nil {
						t.Fatalf("tcId %d: %d %s", tc.TcID, resp.Status, resp.Body)
					}
					if tc.Result == "acceptable" {
						acceptable++
					}
					if tc.Result == "acceptable" || out.Verified == want {
						pass++
						continue
					}
					t.Errorf("tcId %d (%s): labelled %s, verified=%v", tc.TcID, tc.Comment, tc.Result, out.Verified)
				}
			}
			t.Logf("%s (%s): %d/%d applicable vectors pass (%d labelled acceptable, either answer passes); not applicable to a JWS: %d; HMAC keys under 32 bytes refused: %d",
				f.file, f.alg, pass, total-notApplicable, acceptable, notApplicable, shortKey)
			if total != file.NumberOfTests {
				t.Errorf("ran %d vectors, the file declares %d", total, file.NumberOfTests)
			}
		})
	}
}
