// Package waf renders the rate limits of a gateway as AWS WAF rules, for the cloudfront target's
// waf-rate-limit companion: one rate-based rule per rate limit (keyed by the client's IP, or by the header,
// with a second rule by IP for requests without it), scoped down to the routes that use the limit, blocking
// with the IR's 429 edge error. The document is the web ACL's Rules and CustomResponseBodies in the shape
// aws-sdk-go-v2's wafv2 types take, so the deploy decodes it into those types and ships it unchanged.
//
// A rule's scope-down repeats the gateway's routing: the route's path, hosts, headers and methods, minus
// the earlier routes (IR order) that could take the same request, since the WAF sees every request before
// the viewer-request function routes it. The WAF inspects the path after URL_DECODE and NORMALIZE_PATH, its
// nearest view of the normalized path the function routes on.
//
// Evaluator holds the documented semantics of what is rendered, for tests. The package is pure: the same IR
// gives the same bytes. It must not talk to AWS.
package waf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/render"
)

// File is the artifact's path in the cloudfront target's folder.
const File = "waf.json"

// Companion is the companion's name under targets.cloudfront.companions.
const Companion = "waf-rate-limit"

// RulePrefix starts the name of every rule edgegw owns in a web ACL; a deploy replaces those rules only.
const RulePrefix = "edgegw-"

// BodyKey is the custom response body every edgegw rule answers with.
const BodyKey = "edgegw-rate-limit"

// Windows are the evaluation windows a rate-based rule takes; MinLimit is its lowest limit.
var Windows = []time.Duration{60 * time.Second, 120 * time.Second, 300 * time.Second, 600 * time.Second}

// MinLimit is the lowest limit a rate-based rule takes.
const MinLimit = 10

// Document is the artifact: the web ACL rules edgegw owns, with priorities from 0 (the deploy places them
// after the web ACL's other rules), and the bodies they answer with.
type Document struct {
	Rules                []types.Rule                        `json:"Rules"`
	CustomResponseBodies map[string]types.CustomResponseBody `json:"CustomResponseBodies,omitempty"`
}

// Options change what Render produces. The zero value is the production document.
type Options struct {
	// IgnoreLimits renders windows and limits the WAF does not take, for tests that check the rules'
	// semantics on small limits. Such a document does not deploy.
	IgnoreLimits bool
}

// Enabled reports whether the manifest opted the cloudfront target into the companion.
func Enabled(g *ir.Gateway) bool {
	t, _ := g.Targets.Lookup("cloudfront")
	return slices.Contains(t.Companions, Companion)
}

// Render returns the document, or nil when no route is rate limited. A limit the WAF cannot express (a
// jwt.sub key, another window, fewer than MinLimit requests) is a *render.RouteError at the first route that
// uses it.
func Render(g *ir.Gateway, o Options) (*Document, error) {
	doc := &Document{CustomResponseBodies: map[string]types.CustomResponseBody{}}
	for _, rl := range g.RateLimits {
		var routes []int
		for i, r := range g.Routes {
			if r.RateLimit == rl.Name {
				routes = append(routes, i)
			}
		}
		if len(routes) == 0 {
			continue
		}
		if err := expressible(rl, o); err != nil {
			return nil, &render.RouteError{Route: g.Routes[routes[0]].Name, Err: err}
		}
		scope, err := limitScope(g, rl.Name, routes)
		if err != nil {
			return nil, &render.RouteError{Route: g.Routes[routes[0]].Name, Err: err}
		}
		if g.CORS != nil {
			// The function answers a CORS preflight before any rate limit: the WAF must not count it.
			scope = and(scope, &types.Statement{NotStatement: &types.NotStatement{Statement: preflight()}})
		}
		kind, header := rl.KeyKind()
		rbs := &types.RateBasedStatement{Limit: aws.Int64(int64(rl.Limit)), EvaluationWindowSec: int64(rl.Window.D() / time.Second), ScopeDownStatement: scope}
		if kind == "ip" {
			rbs.AggregateKeyType = types.RateBasedStatementAggregateKeyTypeIp
		} else {
			rbs.AggregateKeyType = types.RateBasedStatementAggregateKeyTypeCustomKeys
			rbs.CustomKeys = []types.RateBasedStatementCustomKey{{Header: &types.RateLimitHeader{Name: aws.String(header),
				TextTransformations: []types.TextTransformation{{Priority: 0, Type: types.TextTransformationTypeNone}}}}}
		}
		doc.Rules = append(doc.Rules, rule(g, rl, RuleName(rl.Name), rbs))
		if kind == "header" {
			// WAF does not count a request without the key header; the IR counts it by client address.
			noKey := &types.Statement{NotStatement: &types.NotStatement{Statement: &types.Statement{SizeConstraintStatement: &types.SizeConstraintStatement{
				FieldToMatch: &types.FieldToMatch{SingleHeader: &types.SingleHeader{Name: aws.String(strings.ToLower(header))}}, ComparisonOperator: types.ComparisonOperatorGt,
				Size: 0, TextTransformations: none()}}}}
			fb := &types.RateBasedStatement{Limit: rbs.Limit, EvaluationWindowSec: rbs.EvaluationWindowSec,
				AggregateKeyType: types.RateBasedStatementAggregateKeyTypeIp, ScopeDownStatement: and(scope, noKey)}
			doc.Rules = append(doc.Rules, rule(g, rl, RuleName(rl.Name)+"-nokey", fb))
		}
	}
	if len(doc.Rules) == 0 {
		return nil, nil
	}
	e := g.Error(ir.CodeRateLimit)
	ct := types.ResponseContentTypeTextPlain
	for _, h := range e.Headers {
		if strings.EqualFold(h.Name, "Content-Type") && strings.HasPrefix(h.Value, "application/json") {
			ct = types.ResponseContentTypeApplicationJson
		}
	}
	doc.CustomResponseBodies[BodyKey] = types.CustomResponseBody{Content: aws.String(e.Body), ContentType: ct}
	for i := range doc.Rules {
		doc.Rules[i].Priority = int32(i)
	}
	return doc, nil
}

// RuleName is the name of the rule that enforces rate limit name: RulePrefix, "rl-" and the name with
// what WAF does not take in a name replaced by "-".
func RuleName(name string) string {
	return RulePrefix + "rl-" + regexp.MustCompile(`[^A-Za-z0-9_-]`).ReplaceAllString(name, "-")
}

func expressible(rl ir.RateLimit, o Options) error {
	kind, _ := rl.KeyKind()
	if kind == "jwt.sub" {
		return fmt.Errorf("render/cloudfront/waf: rate limit %q is keyed by jwt.sub, which an AWS WAF rate-based rule cannot key on (it sees no verified token): key it by ip or a header for this target", rl.Name)
	}
	if o.IgnoreLimits {
		return nil
	}
	if !slices.Contains(Windows, rl.Window.D()) {
		return fmt.Errorf("render/cloudfront/waf: rate limit %q has a window of %s, and an AWS WAF rate-based rule takes 1m, 2m, 5m or 10m: use one of those", rl.Name, rl.Window)
	}
	if rl.Limit < MinLimit {
		return fmt.Errorf("render/cloudfront/waf: rate limit %q allows %d requests, and an AWS WAF rate-based rule takes %d or more: raise it", rl.Name, rl.Limit, MinLimit)
	}
	return nil
}

// rule is the blocking rule around a rate-based statement.
func rule(g *ir.Gateway, rl ir.RateLimit, name string, rbs *types.RateBasedStatement) types.Rule {
	e := g.Error(ir.CodeRateLimit)
	// What every edge answer gets: the error's headers, the gateway-wide response transform, HSTS, Vary.
	// WAF takes the content type from the body, and refuses it as a header.
	set := map[string]string{}
	for _, h := range e.Headers {
		set[h.Name] = h.Value
	}
	for _, n := range g.Transform.Response.RemoveHeaders {
		for k := range set {
			if strings.EqualFold(k, n) {
				delete(set, k)
			}
		}
	}
	for _, h := range g.Transform.Response.SetHeaders {
		set[h.Name] = h.Value
	}
	// The WAF cannot say when the key's count drops under the limit; the window bounds it.
	set["Retry-After"] = strconv.FormatInt(rbs.EvaluationWindowSec, 10)
	if g.HSTS != nil {
		set["Strict-Transport-Security"] = g.HSTS.Header()
	}
	if g.CORS != nil {
		set["Vary"] = "Origin"
	}
	var hs []types.CustomHTTPHeader
	for k, v := range set {
		if !strings.EqualFold(k, "Content-Type") {
			hs = append(hs, header(k, v))
		}
	}
	slices.SortFunc(hs, func(a, b types.CustomHTTPHeader) int { return strings.Compare(*a.Name, *b.Name) })
	return types.Rule{
		Name:      aws.String(name),
		Statement: &types.Statement{RateBasedStatement: rbs},
		Action: &types.RuleAction{Block: &types.BlockAction{CustomResponse: &types.CustomResponse{
			ResponseCode: aws.Int32(int32(e.Status)), CustomResponseBodyKey: aws.String(BodyKey), ResponseHeaders: hs}}},
		VisibilityConfig: &types.VisibilityConfig{CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: aws.String(name)},
	}
}

// preflight matches a CORS preflight as the gateway tells one: OPTIONS with Origin and
// Access-Control-Request-Method.
func preflight() *types.Statement {
	present := func(name string) *types.Statement {
		return &types.Statement{SizeConstraintStatement: &types.SizeConstraintStatement{FieldToMatch: singleHeader(name),
			ComparisonOperator: types.ComparisonOperatorGt, Size: 0, TextTransformations: none()}}
	}
	return and(&types.Statement{ByteMatchStatement: &types.ByteMatchStatement{FieldToMatch: &types.FieldToMatch{Method: &types.Method{}},
		PositionalConstraint: types.PositionalConstraintExactly, SearchString: []byte("OPTIONS"), TextTransformations: none()}},
		present("origin"), present("access-control-request-method"))
}

func header(name, value string) types.CustomHTTPHeader {
	return types.CustomHTTPHeader{Name: aws.String(name), Value: aws.String(value)}
}

func none() []types.TextTransformation {
	return []types.TextTransformation{{Priority: 0, Type: types.TextTransformationTypeNone}}
}

// pathView is how every path condition reads the path: decoded and normalized.
func pathView() []types.TextTransformation {
	return []types.TextTransformation{{Priority: 0, Type: types.TextTransformationTypeUrlDecode}, {Priority: 1, Type: types.TextTransformationTypeNormalizePath}}
}

// limitScope matches the requests the gateway routes to one of the limit's routes.
func limitScope(g *ir.Gateway, limit string, routes []int) (*types.Statement, error) {
	var alts []*types.Statement
	for _, i := range routes {
		m, err := matchStatement(g.Routes[i])
		if err != nil {
			return nil, err
		}
		var earlier []*types.Statement
		for j := 0; j < i; j++ {
			e := g.Routes[j]
			if e.RateLimit == limit || !overlap(e.Match, g.Routes[i].Match) {
				continue
			}
			em, err := matchStatement(e)
			if err != nil {
				return nil, err
			}
			if em == nil {
				// An earlier route takes every request: this one never matches (validate refuses it).
				return nil, fmt.Errorf("render/cloudfront/waf: route %q takes every request before route %q", e.Name, g.Routes[i].Name)
			}
			earlier = append(earlier, em)
		}
		if o := or(earlier...); o != nil {
			m = and(m, &types.Statement{NotStatement: &types.NotStatement{Statement: o}})
		}
		if m == nil {
			return nil, nil // every request
		}
		alts = append(alts, m)
	}
	return or(alts...), nil
}

// matchStatement matches what r's match takes; nil takes every request.
func matchStatement(r ir.Route) (*types.Statement, error) {
	m := r.Match
	var parts []*types.Statement
	switch m.Kind {
	case ir.PathExact:
		parts = append(parts, pathBytes(types.PositionalConstraintExactly, m.Path))
	case ir.PathPrefix:
		if m.Path != "/" {
			// Segment boundaries: /v1 and /v1/..., never /v10.
			p := strings.TrimSuffix(m.Path, "/")
			parts = append(parts, or(pathBytes(types.PositionalConstraintExactly, p), pathBytes(types.PositionalConstraintStartsWith, p+"/")))
		}
	case ir.PathTemplate:
		var b strings.Builder
		b.WriteString("^")
		for _, s := range m.Segments {
			if s == "" {
				continue
			}
			b.WriteString("/")
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				b.WriteString("[^/]+")
			} else {
				b.WriteString(regexp.QuoteMeta(s))
			}
		}
		if strings.HasSuffix(m.Path, "/") {
			b.WriteString("/")
		}
		b.WriteString("$")
		parts = append(parts, pathRegex(b.String()))
	case ir.PathRegex:
		parts = append(parts, pathRegex("^(?:"+m.Path+")$"))
	case ir.PathFallback:
	default:
		return nil, fmt.Errorf("render/cloudfront/waf: route %q: path kind %q has no WAF statement", r.Name, m.Kind)
	}
	var hosts []*types.Statement
	for _, h := range m.Hosts {
		pc, s := types.PositionalConstraintExactly, h
		if rest, ok := strings.CutPrefix(h, "*."); ok {
			pc, s = types.PositionalConstraintEndsWith, "."+rest
		}
		hosts = append(hosts, &types.Statement{ByteMatchStatement: &types.ByteMatchStatement{FieldToMatch: singleHeader("host"),
			PositionalConstraint: pc, SearchString: []byte(strings.ToLower(s)), TextTransformations: []types.TextTransformation{{Priority: 0, Type: types.TextTransformationTypeLowercase}}}})
	}
	if o := or(hosts...); o != nil {
		parts = append(parts, o)
	}
	for _, h := range m.Headers {
		parts = append(parts, &types.Statement{ByteMatchStatement: &types.ByteMatchStatement{FieldToMatch: singleHeader(strings.ToLower(h.Name)),
			PositionalConstraint: types.PositionalConstraintExactly, SearchString: []byte(h.Value), TextTransformations: none()}})
	}
	var methods []*types.Statement
	for _, meth := range m.Methods {
		methods = append(methods, &types.Statement{ByteMatchStatement: &types.ByteMatchStatement{FieldToMatch: &types.FieldToMatch{Method: &types.Method{}},
			PositionalConstraint: types.PositionalConstraintExactly, SearchString: []byte(meth), TextTransformations: none()}})
	}
	if o := or(methods...); o != nil {
		parts = append(parts, o)
	}
	return and(parts...), nil
}

func singleHeader(name string) *types.FieldToMatch {
	return &types.FieldToMatch{SingleHeader: &types.SingleHeader{Name: aws.String(name)}}
}

func pathBytes(pc types.PositionalConstraint, s string) *types.Statement {
	return &types.Statement{ByteMatchStatement: &types.ByteMatchStatement{FieldToMatch: &types.FieldToMatch{UriPath: &types.UriPath{}},
		PositionalConstraint: pc, SearchString: []byte(s), TextTransformations: pathView()}}
}

func pathRegex(re string) *types.Statement {
	return &types.Statement{RegexMatchStatement: &types.RegexMatchStatement{FieldToMatch: &types.FieldToMatch{UriPath: &types.UriPath{}},
		RegexString: aws.String(re), TextTransformations: pathView()}}
}

// and/or build the statements; WAF wants two or more statements in each, so one is returned as is and
// none as nil (every request).
func and(ss ...*types.Statement) *types.Statement {
	return combine(ss, func(l []types.Statement) *types.Statement {
		return &types.Statement{AndStatement: &types.AndStatement{Statements: l}}
	})
}

func or(ss ...*types.Statement) *types.Statement {
	return combine(ss, func(l []types.Statement) *types.Statement {
		return &types.Statement{OrStatement: &types.OrStatement{Statements: l}}
	})
}

func combine(ss []*types.Statement, mk func([]types.Statement) *types.Statement) *types.Statement {
	var l []types.Statement
	for _, s := range ss {
		if s != nil {
			l = append(l, *s)
		}
	}
	switch len(l) {
	case 0:
		return nil
	case 1:
		return &l[0]
	}
	return mk(l)
}

// overlap reports whether a request could match both a and b by path: conservative, false only when the
// paths' literal parts rule it out.
func overlap(a, b ir.Match) bool {
	la, ea := literal(a)
	lb, eb := literal(b)
	if la == "" || lb == "" {
		return true // regex, fallback, the root prefix: anything
	}
	switch {
	case ea && eb:
		return la == lb
	case ea:
		return within(la, lb, b.Kind == ir.PathPrefix)
	case eb:
		return within(lb, la, a.Kind == ir.PathPrefix)
	}
	return strings.HasPrefix(la, lb) || strings.HasPrefix(lb, la)
}

// within reports whether the exact path p can fall under the literal start l of another route.
func within(p, l string, segment bool) bool {
	if segment {
		return p == l || strings.HasPrefix(p, l+"/")
	}
	return strings.HasPrefix(p, l)
}

// literal returns the literal start of m's paths and whether it is the whole (exact) path; "" for anything.
func literal(m ir.Match) (string, bool) {
	switch m.Kind {
	case ir.PathExact:
		return m.Path, true
	case ir.PathPrefix:
		if m.Path == "/" {
			return "", false
		}
		return strings.TrimSuffix(m.Path, "/"), false
	case ir.PathTemplate:
		if i := strings.Index(m.Path, "{"); i > 1 {
			return m.Path[:i], false
		}
		if !strings.Contains(m.Path, "{") {
			return m.Path, true
		}
	}
	return "", false
}

// Marshal writes the document as indented JSON without the null members the types marshal their unset
// fields as.
func Marshal(d *Document) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("render/cloudfront/waf: %w", err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("render/cloudfront/waf: %w", err)
	}
	out, err := json.MarshalIndent(dropNulls(v), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render/cloudfront/waf: %w", err)
	}
	return append(out, '\n'), nil
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
	}
	return v
}

// Parse reads a document Marshal wrote.
func Parse(b []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("render/cloudfront/waf: %s: %w", File, err)
	}
	return &d, nil
}

// Artifact renders the document as the cloudfront target's waf.json; nil when the manifest does not opt
// into the companion or no route is rate limited.
func Artifact(g *ir.Gateway, target string, o Options) (*render.Artifact, error) {
	if !Enabled(g) {
		return nil, nil
	}
	d, err := Render(g, o)
	if err != nil || d == nil {
		return nil, err
	}
	b, err := Marshal(d)
	if err != nil {
		return nil, err
	}
	return &render.Artifact{Target: target, Path: File, MediaType: "application/json", Data: b}, nil
}
