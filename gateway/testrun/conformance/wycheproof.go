package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/edgegw/edgegw/gateway/jwtverify"
	"github.com/edgegw/edgegw/manifest/ir"
)

// WycheproofFile is the JWS vector file, under the vector directory.
const WycheproofFile = "wycheproof/json_web_signature_test.json"

// wycheproofBroken are the tcIds the vector README lists as mislabelled (367 and 370 are byte-identical to
// a valid token yet labelled invalid).
var wycheproofBroken = map[int]bool{367: true, 370: true}

type wycheproofFile struct {
	TestGroups []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int    `json:"tcId"`
			Comment string `json:"comment"`
			JWS     string `json:"jws"`
			Result  string `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// wycheproof turns every invalid compact JWS of the Wycheproof file into a case on a one-route gateway
// that trusts the group's key: the gateway must refuse it (401 or 403) and no origin may see it. Valid
// vectors sign payloads that are not JWT claim sets ("foo"), which a JWT gateway refuses too, so they are
// not cases here; their signatures are checked in gateway/jwtverify.
func wycheproof(dir string) ([]Manifest, error) {
	file := path.Join(dir, WycheproofFile)
	data, err := readVectors(dir, WycheproofFile)
	if err != nil {
		return nil, err
	}
	var wf wycheproofFile
	if err := json.Unmarshal(data, &wf); err != nil {
		return nil, fmt.Errorf("conformance: %s: %w", file, err)
	}
	lines := tcIDLines(data)
	for id, p := range lines {
		p.File = file
		lines[id] = p
	}
	groups := groupPositions(data)
	var out []Manifest
	for gi, grp := range wf.TestGroups {
		var meta struct {
			Alg string `json:"alg"`
			Kty string `json:"kty"`
			K   string `json:"k"`
		}
		_ = json.Unmarshal(grp.Private, &meta)
		if meta.Alg == "" || !supportedAlg(meta.Alg) {
			continue // encryption keys and algorithms the gateway does not verify
		}
		name := fmt.Sprintf("wycheproof-%d-%s", gi, grp.Comment)
		// The route stands where the group (its key) is written, so a finding about the policy the key
		// makes, such as an algorithm a target does not verify, points there.
		var gpos ir.Pos
		if gi < len(groups) {
			gpos = groups[gi]
			gpos.File = file
		}
		m := Manifest{File: file}
		g := &ir.Gateway{
			Name:    name,
			Domains: []ir.Domain{{Host: "api.example.com", Zone: "example.com"}},
			Origins: []ir.Origin{{Name: "app", URL: "http://app.internal"}},
			Pools:   []ir.Pool{{Name: "app", Origins: []string{"app"}}},
			Routes:  []ir.Route{{Name: "api", Match: ir.Match{Kind: ir.PathPrefix, Path: "/"}, Pool: "app", Auth: "jws", Pos: gpos}},
		}
		j := &ir.JWT{Algorithms: []string{meta.Alg}}
		feature := featureOf(meta.Alg)
		if meta.Kty == "oct" {
			k, err := base64.RawURLEncoding.DecodeString(meta.K)
			if err != nil {
				continue
			}
			// The key reaches every target as a real secret does: a reference resolved from the
			// environment (Manifest.Env), never written in the manifest.
			env := fmt.Sprintf("WYCHEPROOF_GROUP_%d_SECRET", gi)
			j.Secret = &ir.Value{Env: env}
			m.Env = map[string]string{env: string(k)}
		} else {
			pub := grp.Public
			if len(pub) == 0 {
				pub = grp.Private // ParseKeys keeps only the public half
			}
			j.Keys = []ir.KeyFile{{Path: file + " group " + grp.Comment, Data: string(pub)}}
		}
		g.AuthPolicies = []ir.AuthPolicy{{Name: "jws", JWT: j, Pos: gpos}}
		for _, t := range grp.Tests {
			if t.Result != "invalid" || wycheproofBroken[t.TcID] || strings.ContainsAny(t.JWS, "\r\n") {
				continue
			}
			g.Tests = append(g.Tests, ir.TestCase{
				Name:     fmt.Sprintf("wycheproof tcId %d %s (%s)", t.TcID, t.Comment, meta.Alg),
				Pos:      lines[t.TcID],
				Features: []string{feature, "match.prefix"},
				Request: ir.TestRequest{Method: "GET", URL: "https://api.example.com/w",
					Headers: []ir.HeaderSet{{Name: "Authorization", Value: "Bearer " + t.JWS}}},
				Expect: ir.TestExpect{StatusIn: []int{401, 403}, NoOrigin: true},
			})
		}
		if len(g.Tests) > 0 {
			m.Gateway = g
			out = append(out, m)
		}
	}
	return out, nil
}

func supportedAlg(alg string) bool {
	for _, a := range jwtverify.Supported() {
		if a == alg {
			return true
		}
	}
	return false
}

func featureOf(alg string) string {
	switch alg {
	case "HS256":
		return "auth.jwt.hs256"
	case "RS256":
		return "auth.jwt.rs256"
	case "ES256":
		return "auth.jwt.es256"
	}
	return "auth.jwt.other"
}

// groupPositions finds where each test group's object starts, in order.
func groupPositions(data []byte) []ir.Pos {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []ir.Pos
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return out
		}
		if key != "testGroups" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return out
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return out
		}
		for dec.More() {
			off := int(dec.InputOffset())
			for off < len(data) && data[off] != '{' {
				off++
			}
			out = append(out, posAt(data, off))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return out
			}
		}
		return out
	}
	return out
}

// posAt is the line and column of byte offset off.
func posAt(data []byte, off int) ir.Pos {
	before := data[:min(off, len(data))]
	line := bytes.Count(before, []byte("\n")) + 1
	return ir.Pos{Line: line, Col: off - (bytes.LastIndexByte(before, '\n') + 1) + 1}
}

var tcIDRE = regexp.MustCompile(`^(\s*)"tcId"\s*:\s*([0-9]+)`)

// tcIDLines finds where each test vector is written, so a difference points at its line in the file.
func tcIDLines(data []byte) map[int]ir.Pos {
	out := map[int]ir.Pos{}
	for i, line := range strings.Split(string(data), "\n") {
		if m := tcIDRE.FindStringSubmatch(line); m != nil {
			id, _ := strconv.Atoi(m[2])
			out[id] = ir.Pos{Line: i + 1, Col: len(m[1]) + 1}
		}
	}
	return out
}
