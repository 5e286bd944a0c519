package cloudfront

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/edgegw/edgegw/manifest/ir"
)

// KVSFile is the artifact that holds the route table's KeyValueStore entries when the routes do not fit
// the function's code: CloudFront's KeyValueStore import format,
//
//	{"data": [{"key": "r1a2b3c4d/v1", "value": "[[1,\"/v1\",0,0,0,{...}]]"}, ...]}
//
// keys sorted. A key is "r", the table's version (eight hex digits, RouteKeyVersion) and a stem: a route's
// path without its trailing "/" (the root's is ""). Its value, JSON text, lists the exact and prefix routes
// of that stem in IR order, each as [1 for a prefix route else 0, path, methods or 0, hosts or 0,
// [[header, value]] or 0, the route's table entry, with its property names as the functions' code spells
// them and its transform an index into the code's R_TRANSFORMS]. The code reads its own version's keys
// only: the deploy writes a new version into the store associated with the functions (opened as cf.kvs()),
// beside the HS256 secrets (SecretKeys) and the version the live code reads, before publishing the code.
const KVSFile = "kvs.json"

// CloudFront KeyValueStore limits.
const (
	MaxKVSKeyBytes   = 512
	MaxKVSValueBytes = 1024
	MaxKVSBytes      = 5 << 20
)

// kvsCandidate is one KeyValueStore route.
type kvsCandidate struct {
	stem  string
	value []any // [prefix, path, methods, hosts, headers, entry]
}

// kvsRoute reports whether a route goes to the KeyValueStore at levelKVS: exact and prefix routes, which
// the stems find.
func kvsRoute(r routeT) bool {
	return r.Kind == string(ir.PathExact) || r.Kind == string(ir.PathPrefix)
}

// candidate is r's KeyValueStore form, its transform the index tr.
func candidate(r routeT, tr int) (kvsCandidate, error) {
	stem := strings.TrimSuffix(r.Path, "/")
	entry := r
	entry.Transform = nil
	raw, err := json.Marshal(entry)
	if err != nil {
		return kvsCandidate{}, err
	}
	var e map[string]any
	if err := json.Unmarshal(raw, &e); err != nil {
		return kvsCandidate{}, err
	}
	e["transform"] = tr
	prefix := 0
	if r.Kind == string(ir.PathPrefix) {
		prefix = 1
	}
	var methods, hosts, headers any = 0, 0, 0
	if len(r.Methods) > 0 {
		methods = r.Methods
	}
	if len(r.Hosts) > 0 {
		hosts = r.Hosts
	}
	if len(r.Headers) > 0 {
		headers = r.Headers
	}
	if len(routeKeyPlaceholder+stem) > MaxKVSKeyBytes {
		return kvsCandidate{}, fmt.Errorf("render/cloudfront: path %q is longer than a KeyValueStore key takes (%d bytes): shorten it", r.Path, MaxKVSKeyBytes-len(routeKeyPlaceholder))
	}
	return kvsCandidate{stem: stem, value: []any{prefix, r.Path, methods, hosts, headers, e}}, nil
}

// routeKeyPlaceholder stands for ROUTE_KEY_PREFIX in a bundle until the table's version is known (the
// table's entries use the names the bundle shortened): "r" and eight characters, a version's length.
const routeKeyPlaceholder = "r%KVSVER%"

// routeKey matches a route table key: "r", the table's version (eight hex digits), and a stem.
var routeKey = regexp.MustCompile(`^r([0-9a-f]{8})(/.*)?$`)

// RouteKeyVersion returns the table version of a route table key of KVSFile, and whether key is one (the
// HS256 secrets' keys are not).
func RouteKeyVersion(key string) (string, bool) {
	m := routeKey.FindStringSubmatch(key)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// withRouteVersion writes the table's version into a bundle in place of routeKeyPlaceholder.
func withRouteVersion(code []byte, version string) ([]byte, error) {
	switch bytes.Count(code, []byte(routeKeyPlaceholder)) {
	case 0:
		return code, nil // this function reads no route from the store
	case 1:
		return bytes.Replace(code, []byte(routeKeyPlaceholder), []byte("r"+version), 1), nil
	}
	return nil, fmt.Errorf("render/cloudfront: a manifest string holds %q, which the renderer reserves: change it", routeKeyPlaceholder)
}

// kvsFile writes the candidates, grouped by stem in IR order, as KVSFile, with the property names the
// functions use (cache: esbuild's shortened names), and returns the table's version (the first eight hex
// digits of the SHA-256 of its entries, so the same table has the same keys) and the number of keys.
func kvsFile(cands []kvsCandidate, cache map[string]any) ([]byte, string, int, error) {
	byStem := map[string][]any{}
	var stems []string
	for _, c := range cands {
		if _, ok := byStem[c.stem]; !ok {
			stems = append(stems, c.stem)
		}
		byStem[c.stem] = append(byStem[c.stem], renamed(c.value, cache))
	}
	sort.Strings(stems)
	type item struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	values := make([]string, len(stems))
	sum := sha256.New()
	for i, st := range stems {
		v, err := json.Marshal(byStem[st])
		if err != nil {
			return nil, "", 0, err
		}
		if len(v) > MaxKVSValueBytes {
			return nil, "", 0, fmt.Errorf("render/cloudfront: the routes of path %q take %d bytes in the KeyValueStore, over a value's %d: give fewer routes that path, or shorter answers", st, len(v), MaxKVSValueBytes)
		}
		values[i] = string(v)
		fmt.Fprintf(sum, "%q %q\n", st, v)
	}
	version := hex.EncodeToString(sum.Sum(nil))[:8]
	out := struct {
		Data []item `json:"data"`
	}{Data: []item{}}
	total := 0
	for i, st := range stems {
		key := "r" + version + st
		total += len(key) + len(values[i])
		out.Data = append(out.Data, item{Key: key, Value: values[i]})
	}
	if total > MaxKVSBytes {
		return nil, "", 0, fmt.Errorf("render/cloudfront: the route table takes %d bytes in the KeyValueStore, over a store's %d: use fewer routes", total, MaxKVSBytes)
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return nil, "", 0, err
	}
	return append(b, '\n'), version, len(out.Data), nil
}

// renamed returns v with every object key the functions' code shortened written as the code spells it.
func renamed(v any, cache map[string]any) any {
	switch t := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, x := range t {
			if n, ok := cache[k].(string); ok && internalSet[k] {
				k = n
			}
			m[k] = renamed(x, cache)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = renamed(x, cache)
		}
		return out
	}
	return v
}
