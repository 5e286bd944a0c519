package cloudfront_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/edgegw/edgegw/providers/apitest"
)

// fakeWAF is the AWS WAF (wafv2) API on an apitest server, in the JSON 1.1 shape aws-sdk-go-v2's wafv2
// client speaks: POST / with X-Amz-Target AWSWAF_20190729.<Operation>. It holds one CLOUDFRONT-scope web
// ACL and keeps WAF's rules for it: GetWebACL answers the ACL and its LockToken, UpdateWebACL replaces the
// whole ACL only with the current LockToken (else WAFOptimisticLockException) and hands out the next one;
// an unknown name or id is WAFNonexistentItemException.
type fakeWAF struct {
	*apitest.Server
	t testing.TB

	mu     sync.Mutex
	acl    types.WebACL
	lock   int
	faults *apitest.Faults
}

const (
	aclName = "edge"
	aclID   = "example-acl-id"
	aclARN  = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/example-acl-id"
)

func target(op string) apitest.Matcher {
	return apitest.HeaderValue("X-Amz-Target", "AWSWAF_20190729."+op)
}

// newFakeWAF holds a web ACL with a rule and a custom response body of its own team, which every deploy must
// keep.
func newFakeWAF(t testing.TB) *fakeWAF {
	f := &fakeWAF{Server: apitest.New(t), t: t, lock: 1, acl: types.WebACL{
		Name: aws.String(aclName), Id: aws.String(aclID), ARN: aws.String(aclARN),
		DefaultAction:    &types.DefaultAction{Allow: &types.AllowAction{}},
		VisibilityConfig: &types.VisibilityConfig{CloudWatchMetricsEnabled: true, MetricName: aws.String("edge"), SampledRequestsEnabled: true},
		Rules: []types.Rule{{Name: aws.String("team-block-bad-bots"), Priority: 0,
			Statement: &types.Statement{ByteMatchStatement: &types.ByteMatchStatement{FieldToMatch: &types.FieldToMatch{SingleHeader: &types.SingleHeader{Name: aws.String("user-agent")}},
				PositionalConstraint: types.PositionalConstraintContains, SearchString: []byte("badbot"), TextTransformations: []types.TextTransformation{{Priority: 0, Type: types.TextTransformationTypeLowercase}}}},
			Action:           &types.RuleAction{Block: &types.BlockAction{CustomResponse: &types.CustomResponse{ResponseCode: aws.Int32(403), CustomResponseBodyKey: aws.String("team-body")}}},
			VisibilityConfig: &types.VisibilityConfig{MetricName: aws.String("team-block-bad-bots")}}},
		CustomResponseBodies: map[string]types.CustomResponseBody{"team-body": {Content: aws.String("go away"), ContentType: types.ResponseContentTypeTextPlain}},
	}}
	f.Register(apitest.MatchFunc("the fake AWS WAF API", func(*apitest.Request) bool { return true }), f.serve).Always()
	f.faults = apitest.NewFaults(t, "fake waf")
	return f
}

func (f *fakeWAF) inject(m apitest.Matcher, respond apitest.Responder) { f.faults.Add(m, respond) }

// wafError answers the JSON 1.1 error shape.
func wafError(status int, code, msg string) apitest.Responder {
	return func(w http.ResponseWriter, r *apitest.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"Message":%q}`, code, msg)
	}
}

func (f *fakeWAF) token() string { return fmt.Sprintf("lock-%d", f.lock) }

func (f *fakeWAF) serve(w http.ResponseWriter, r *apitest.Request) {
	if respond, ok := f.faults.Take(r); ok {
		respond(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.Path != "/" {
		wafError(http.StatusBadRequest, "UnknownOperationException", r.Method+" "+r.Path)(w, r)
		return
	}
	var in struct {
		Name, Id, Scope, LockToken string
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		wafError(http.StatusBadRequest, "SerializationException", err.Error())(w, r)
		return
	}
	if in.Name != aclName || in.Id != aclID || in.Scope != "CLOUDFRONT" {
		wafError(http.StatusBadRequest, "WAFNonexistentItemException", "AWS WAF couldn’t perform the operation because your resource doesn't exist.")(w, r)
		return
	}
	switch r.Header.Get("X-Amz-Target") {
	case "AWSWAF_20190729.GetWebACL":
		writeJSON(f.t, w, map[string]any{"WebACL": f.acl, "LockToken": f.token()})
	case "AWSWAF_20190729.UpdateWebACL":
		if in.LockToken != f.token() {
			wafError(http.StatusBadRequest, "WAFOptimisticLockException", "AWS WAF couldn’t save your changes because someone changed the resource after you started to edit it.")(w, r)
			return
		}
		var up wafv2.UpdateWebACLInput
		if err := json.Unmarshal(r.Body, &up); err != nil {
			wafError(http.StatusBadRequest, "SerializationException", err.Error())(w, r)
			return
		}
		seen := map[int32]bool{}
		for _, rule := range up.Rules {
			if seen[rule.Priority] {
				wafError(http.StatusBadRequest, "WAFInvalidParameterException", "duplicate rule priority")(w, r)
				return
			}
			seen[rule.Priority] = true
		}
		f.acl.Rules, f.acl.CustomResponseBodies, f.acl.DefaultAction, f.acl.VisibilityConfig = up.Rules, up.CustomResponseBodies, up.DefaultAction, up.VisibilityConfig
		f.lock++
		writeJSON(f.t, w, map[string]any{"NextLockToken": f.token()})
	default:
		wafError(http.StatusBadRequest, "UnknownOperationException", r.Header.Get("X-Amz-Target"))(w, r)
	}
}

// writeJSON answers v without the null members encoding/json gives unset SDK fields.
func writeJSON(t testing.TB, w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.Errorf("fake waf: %v", err)
	}
	var x any
	_ = json.Unmarshal(b, &x)
	b, _ = json.Marshal(dropNulls(x))
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(b)
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = dropNulls(e)
			}
		}
	case []any:
		for i := range x {
			x[i] = dropNulls(x[i])
		}
	}
	return v
}

// rules returns the ACL's rules by name, with their priorities.
func (f *fakeWAF) rules() map[string]types.Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]types.Rule{}
	for _, r := range f.acl.Rules {
		out[aws.ToString(r.Name)] = r
	}
	return out
}

func (f *fakeWAF) body(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return aws.ToString(f.acl.CustomResponseBodies[key].Content)
}

// someoneEdits changes the ACL as another tool would: the lock token moves.
func (f *fakeWAF) someoneEdits() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lock += 10
}
