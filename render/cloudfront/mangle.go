package cloudfront

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// internalNames are the property names of the functions' own objects (the tables and the runtime's
// values) that esbuild may shorten when a minified function is still over the limit. None of them is a
// name CloudFront reads or writes (event.request, uri, headers, value, statusCode, body, requestId, the
// origin-selection arguments), a method of a built-in or of the KeyValueStore (get), or a key of the test
// build's decision header (its keys are quoted, which esbuild never shortens).
var internalNames = []string{
	"abs", "algorithms", "allowCredentials", "allowOrigins", "audience", "auth", "claims", "client", "clientHeaders",
	"clientIP", "clockSkew", "code", "cors", "corsOrigin", "defaultType", "domains", "errorHeaders", "errorPairs", "errors", "fail", "failover",
	"forward", "fragment", "hasFragment", "hasQuery", "host", "hsts", "issuer", "keepClientRequestId", "keepQuery",
	"kind", "limited", "location", "messages", "minSecretBytes", "newRequestID", "onStatus", "originHosts", "origins",
	"owned", "path", "policies", "pool", "pools", "preflight", "preflightAllowed", "preflightRefused", "prefix", "publicHost",
	"query", "rawHost", "redirect", "remove", "requestPath", "required", "respond", "rewrite", "route", "scheme", "secretKey",
	"segs", "set", "simpleHeaders", "status", "stripHeaders", "tenancy", "tenant", "tenantHeader", "text", "token", "transform",
	"upstreamPath", "vars", "wildcard",
}

var internalSet = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range internalNames {
		m[n] = true
	}
	return m
}()

// mangleProps is esbuild's MangleProps pattern for internalNames.
func mangleProps() string {
	names := append([]string(nil), internalNames...)
	sort.Strings(names)
	return "^(?:" + strings.Join(names, "|") + ")$"
}

// jsLiteral writes v (JSON-encodable) as a JavaScript literal: keys that are internal names bare, so the
// mangler can shorten them, and every other key quoted (esbuild leaves quoted keys alone), since pool,
// policy and error tables are keyed by the manifest's own names and read by computed lookups. Object keys
// come out sorted.
func jsLiteral(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return "", err
	}
	var b strings.Builder
	writeLiteral(&b, x)
	return b.String(), nil
}

func writeLiteral(b *strings.Builder, x any) {
	switch t := x.(type) {
	case map[string]any:
		if names, ok := t[nameKeyed]; ok {
			// A table keyed by the manifest's names: every key quoted, so that none is shortened.
			writeNamed(b, names.(map[string]any))
			return
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			if strings.HasPrefix(k, computedKey) {
				b.WriteString("[" + strings.TrimPrefix(k, computedKey) + "]")
			} else if internalSet[k] {
				b.WriteString(k)
			} else {
				b.WriteString(jsString(k))
			}
			b.WriteString(": ")
			writeLiteral(b, t[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLiteral(b, e)
		}
		b.WriteByte(']')
	case string:
		b.WriteString(jsString(t))
	case json.Number:
		b.WriteString(t.String())
	case bool:
		fmt.Fprint(b, t)
	case nil:
		b.WriteString("null")
	}
}

// computedKey marks, in a table's JSON, a key to write as a computed one: the name after it is a constant.
const computedKey = "\x01"

// nameKeyed marks, in a table's JSON, an object keyed by the manifest's own names (pools, auth policies):
// its keys are quoted even when one is spelt like an internal name.
const nameKeyed = "\x00names"

// names is a table keyed by the manifest's names.
type names[T any] map[string]T

func (n names[T]) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]map[string]T{nameKeyed: n})
}

func writeNamed(b *strings.Builder, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(jsString(k))
		b.WriteString(": ")
		writeLiteral(b, m[k])
	}
	b.WriteByte('}')
}
