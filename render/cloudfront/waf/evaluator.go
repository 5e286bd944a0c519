package waf

import (
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"
)

// Evaluator applies a document's rules to requests as AWS WAF documents them, for tests: rules in
// priority order; a rate-based rule counts, per aggregation key, every request its scope-down statement
// matches (the ones it blocks too) over the trailing evaluation window, and blocks a key whose count is
// over the limit; a request without the key is not counted. WAF checks the rates about every 10 seconds
// (CheckEvery), so a key stays blocked, or unblocked, until the next check. A blocked request gets the
// rule's custom response and goes no further.
type Evaluator struct {
	doc *Document
	// CheckEvery is how often the rates are checked, from Epoch; zero checks on every request (the
	// closest WAF could come to the IR's exact window).
	CheckEvery time.Duration
	Epoch      time.Time

	mu   sync.Mutex
	logs map[string]map[string][]time.Time // rule name → key → times counted
}

// DefaultCheckEvery is the period AWS documents for rate checks.
const DefaultCheckEvery = 10 * time.Second

// NewEvaluator evaluates d, checking rates every DefaultCheckEvery from epoch.
func NewEvaluator(d *Document, epoch time.Time) *Evaluator {
	rules := append([]types.Rule(nil), d.Rules...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Priority < rules[j].Priority })
	return &Evaluator{doc: &Document{Rules: rules, CustomResponseBodies: d.CustomResponseBodies}, CheckEvery: DefaultCheckEvery, Epoch: epoch,
		logs: map[string]map[string][]time.Time{}}
}

// Request is what the rules inspect of a web request.
type Request struct {
	Method   string
	Path     string // the path as the client sent it, still encoded
	Header   http.Header
	Host     string
	ClientIP string
	Now      time.Time
}

// Response is a block's custom response.
type Response struct {
	Rule   string
	Status int
	Header http.Header
	Body   []byte
}

// Evaluate counts r and returns the block response, or nil when the request goes on to CloudFront.
func (e *Evaluator) Evaluate(r Request) *Response {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, rule := range e.doc.Rules {
		rbs := rule.Statement.RateBasedStatement
		if rbs == nil || rule.Action == nil || rule.Action.Block == nil {
			continue
		}
		if rbs.ScopeDownStatement != nil && !matches(rbs.ScopeDownStatement, r) {
			continue
		}
		key, ok := aggregateKey(rbs, r)
		if !ok {
			continue
		}
		name := aws.ToString(rule.Name)
		if e.logs[name] == nil {
			e.logs[name] = map[string][]time.Time{}
		}
		window := time.Duration(rbs.EvaluationWindowSec) * time.Second
		log := append(e.logs[name][key], r.Now)
		// Keep what the latest check can still see.
		keep := r.Now.Add(-window - e.CheckEvery)
		for len(log) > 0 && !log[0].After(keep) {
			log = log[1:]
		}
		e.logs[name][key] = log
		at := r.Now
		if e.CheckEvery > 0 {
			// The state the latest check decided.
			at = e.Epoch.Add(r.Now.Sub(e.Epoch).Truncate(e.CheckEvery))
		}
		n := int64(0)
		for _, t := range log {
			if t.After(at.Add(-window)) && !t.After(at) {
				n++
			}
		}
		if n > aws.ToInt64(rbs.Limit) {
			return e.block(name, rule.Action.Block.CustomResponse)
		}
	}
	return nil
}

func (e *Evaluator) block(rule string, cr *types.CustomResponse) *Response {
	resp := &Response{Rule: rule, Status: http.StatusForbidden, Header: http.Header{}}
	if cr == nil {
		return resp
	}
	resp.Status = int(aws.ToInt32(cr.ResponseCode))
	for _, h := range cr.ResponseHeaders {
		resp.Header.Add(aws.ToString(h.Name), aws.ToString(h.Value))
	}
	if b, ok := e.doc.CustomResponseBodies[aws.ToString(cr.CustomResponseBodyKey)]; ok {
		resp.Body = []byte(aws.ToString(b.Content))
		switch b.ContentType {
		case types.ResponseContentTypeApplicationJson:
			resp.Header.Set("Content-Type", "application/json")
		case types.ResponseContentTypeTextHtml:
			resp.Header.Set("Content-Type", "text/html")
		default:
			resp.Header.Set("Content-Type", "text/plain")
		}
	}
	return resp
}

func aggregateKey(rbs *types.RateBasedStatement, r Request) (string, bool) {
	switch rbs.AggregateKeyType {
	case types.RateBasedStatementAggregateKeyTypeIp:
		return r.ClientIP, r.ClientIP != ""
	case types.RateBasedStatementAggregateKeyTypeCustomKeys:
		var parts []string
		for _, k := range rbs.CustomKeys {
			switch {
			case k.Header != nil:
				v, ok := headerValue(r, aws.ToString(k.Header.Name))
				if !ok {
					return "", false
				}
				parts = append(parts, transform(v, k.Header.TextTransformations))
			case k.IP != nil:
				parts = append(parts, r.ClientIP)
			default:
				return "", false // a key this evaluator does not model: never counted
			}
		}
		return strings.Join(parts, "\x00"), len(parts) > 0
	}
	return "", false
}

func headerValue(r Request, name string) (string, bool) {
	if strings.EqualFold(name, "host") {
		if r.Host != "" {
			return r.Host, true
		}
	}
	vs := r.Header.Values(name)
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// matches evaluates a statement; a component the request lacks matches nothing.
func matches(s *types.Statement, r Request) bool {
	switch {
	case s.AndStatement != nil:
		for i := range s.AndStatement.Statements {
			if !matches(&s.AndStatement.Statements[i], r) {
				return false
			}
		}
		return true
	case s.OrStatement != nil:
		for i := range s.OrStatement.Statements {
			if matches(&s.OrStatement.Statements[i], r) {
				return true
			}
		}
		return false
	case s.NotStatement != nil:
		return !matches(s.NotStatement.Statement, r)
	case s.ByteMatchStatement != nil:
		b := s.ByteMatchStatement
		v, ok := field(b.FieldToMatch, r)
		if !ok {
			return false
		}
		v, want := transform(v, b.TextTransformations), string(b.SearchString)
		switch b.PositionalConstraint {
		case types.PositionalConstraintExactly:
			return v == want
		case types.PositionalConstraintStartsWith:
			return strings.HasPrefix(v, want)
		case types.PositionalConstraintEndsWith:
			return strings.HasSuffix(v, want)
		case types.PositionalConstraintContains:
			return strings.Contains(v, want)
		}
		return false
	case s.RegexMatchStatement != nil:
		x := s.RegexMatchStatement
		v, ok := field(x.FieldToMatch, r)
		if !ok {
			return false
		}
		re, err := regexp.Compile(aws.ToString(x.RegexString))
		return err == nil && re.MatchString(transform(v, x.TextTransformations))
	case s.SizeConstraintStatement != nil:
		x := s.SizeConstraintStatement
		v, ok := field(x.FieldToMatch, r)
		if !ok {
			return false
		}
		n := int64(len(transform(v, x.TextTransformations)))
		switch x.ComparisonOperator {
		case types.ComparisonOperatorEq:
			return n == x.Size
		case types.ComparisonOperatorNe:
			return n != x.Size
		case types.ComparisonOperatorGt:
			return n > x.Size
		case types.ComparisonOperatorGe:
			return n >= x.Size
		case types.ComparisonOperatorLt:
			return n < x.Size
		case types.ComparisonOperatorLe:
			return n <= x.Size
		}
	}
	return false
}

func field(f *types.FieldToMatch, r Request) (string, bool) {
	switch {
	case f == nil:
		return "", false
	case f.UriPath != nil:
		return r.Path, true
	case f.Method != nil:
		return r.Method, true
	case f.SingleHeader != nil:
		return headerValue(r, aws.ToString(f.SingleHeader.Name))
	}
	return "", false
}

// transform applies the text transformations the rendered rules use, in priority order.
func transform(v string, ts []types.TextTransformation) string {
	ts = append([]types.TextTransformation(nil), ts...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Priority < ts[j].Priority })
	for _, t := range ts {
		switch t.Type {
		case types.TextTransformationTypeLowercase:
			v = strings.ToLower(v)
		case types.TextTransformationTypeUrlDecode:
			if d, err := url.PathUnescape(v); err == nil {
				v = d
			}
		case types.TextTransformationTypeNormalizePath:
			v = normalizePath(v)
		}
	}
	return v
}

// normalizePath is WAF's NORMALIZE_PATH: multiple slashes collapsed, self and back references removed
// (not above the start).
func normalizePath(v string) string {
	if v == "" {
		return v
	}
	trailing := strings.HasSuffix(v, "/") && len(v) > 1
	c := path.Clean(v)
	if trailing && c != "/" {
		c += "/"
	}
	return c
}
