package cloudfront_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/cloudfront"
	"github.com/edgegw/edgegw/providers/endpoint"
)

// limited is the quickstart with its api route limited per client address, behind the waf-rate-limit
// companion.
func limited(limit string) string {
	src := quickstart("ok", "ok")
	src = strings.Replace(src, "routes:\n", "rate_limits:\n  per_ip: {key: ip, limit: "+limit+", window: 60s}\nroutes:\n", 1)
	src = strings.Replace(src, "    match: {path: {prefix: /api}}\n    pool: app\n", "    match: {path: {prefix: /api}}\n    pool: app\n    rate_limit: per_ip\n", 1)
	return strings.Replace(src, "function: quickstart}", "function: quickstart, companions: [waf-rate-limit], web_acl_name: "+aclName+", web_acl_id: "+aclID+"}", 1)
}

type wafEnv struct {
	*env
	w *fakeWAF
}

func newWAFEnv(t *testing.T) *wafEnv {
	return &wafEnv{env: newEnv(t), w: newFakeWAF(t)}
}

func (e *wafEnv) provider(g *ir.Gateway) *cloudfront.Provider {
	e.t.Helper()
	cfEnv := e.f.Getenv(nil, endpoint.CloudFront)
	getenv := func(k string) string {
		if k == endpoint.AWSWAFv2 {
			return e.w.URL
		}
		return cfEnv(k)
	}
	p, err := cloudfront.Open(g, cloudfront.Options{Getenv: getenv, BaseDir: e.dir, PollInterval: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *wafEnv) deploy(src string) (*cloudfront.Provider, *ir.Gateway) {
	e.t.Helper()
	g := load(e.t, src)
	p := e.provider(g)
	if _, err := e.apply(p, g, e.plan(p, g)); err != nil {
		e.t.Fatal(err)
	}
	return p, g
}

var webACLID = regexp.MustCompile(`<WebACLId>([^<]*)</WebACLId>`)

func (e *wafEnv) distWebACL() string {
	e.f.mu.Lock()
	defer e.f.mu.Unlock()
	if m := webACLID.FindSubmatch(e.f.dist); m != nil {
		return string(m[1])
	}
	return ""
}

func (e *wafEnv) limit() int64 {
	r, ok := e.w.rules()["edgegw-rl-per_ip"]
	if !ok {
		return 0
	}
	return aws.ToInt64(r.Statement.RateBasedStatement.Limit)
}

// TestWAFDeployLifecycle: a first apply writes the rate-based rule after the team's own rule (kept, with its
// body) and associates the web ACL with the distribution; a re-plan sees no change; a changed limit
// replaces the rule; a rollback puts the previous rule back.
func TestWAFDeployLifecycle(t *testing.T) {
	e := newWAFEnv(t)
	p, g := e.deploy(limited("10"))
	rules := e.w.rules()
	team, ok := rules["team-block-bad-bots"]
	if !ok || team.Priority != 0 || e.w.body("team-body") != "go away" {
		t.Fatalf("the team's rule or body was not kept: %+v", rules)
	}
	own, ok := rules["edgegw-rl-per_ip"]
	if !ok || own.Priority != 1 || e.limit() != 10 || own.Action.Block.CustomResponse == nil || aws.ToInt32(own.Action.Block.CustomResponse.ResponseCode) != 429 {
		t.Fatalf("edgegw's rule: %+v", own)
	}
	if !strings.Contains(e.w.body("edgegw-rate-limit"), "RATE_LIMIT") {
		t.Errorf("the 429 body: %q", e.w.body("edgegw-rate-limit"))
	}
	if got := e.distWebACL(); got != aclARN {
		t.Fatalf("distribution WebACLId %q, want %s", got, aclARN)
	}
	if plan := e.plan(p, g); plan.Targets[0].HasChanges() {
		t.Errorf("re-plan after apply: %+v", plan.Targets[0].Changes)
	}

	g20 := load(t, limited("20"))
	ch := e.plan(e.provider(g20), g20).Targets[0].Changes
	if len(ch) != 1 || ch[0].Name != "waf.json" {
		t.Errorf("plan of a changed limit: %+v, want one change, waf.json", ch)
	}
	p2, g2 := e.deploy(limited("20"))
	if e.limit() != 20 || e.w.rules()["team-block-bad-bots"].Priority != 0 {
		t.Fatalf("after the change: limit %d, rules %+v", e.limit(), e.w.rules())
	}
	_ = g2
	hist, err := p2.History(context.Background())
	if err != nil || len(hist) != 2 {
		t.Fatalf("history %v %v", hist, err)
	}
	if _, err := p2.Rollback(context.Background(), hist[1].Previous, providers.DeployRecord{Kind: providers.KindRollback}); err != nil {
		t.Fatal(err)
	}
	if e.limit() != 10 || len(e.w.rules()) != 2 {
		t.Errorf("after rollback: limit %d, rules %+v, want the first deploy's rule back", e.limit(), e.w.rules())
	}
}

// TestWAFStaleLock: a web ACL changed after the plan (its lock token moved) makes the plan stale, exit 5,
// with nothing changed; a lock that moves between the read and UpdateWebACL (WAFOptimisticLockException) is
// a stale plan too, and no function is published.
func TestWAFStaleLock(t *testing.T) {
	e := newWAFEnv(t)
	g := load(t, limited("10"))
	p := e.provider(g)
	plan := e.plan(p, g)
	e.w.someoneEdits()
	from := len(e.f.Requests())
	_, err := e.apply(p, g, plan)
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) || exitCode(err) != cmdutil.ExitBlocked {
		t.Fatalf("apply after the ACL moved: %v (exit %d)", err, exitCode(err))
	}
	if c := e.callsSince(from); c.writes != 0 {
		t.Errorf("a stale plan made mutating calls: %v", c.list)
	}
	e.w.inject(target("UpdateWebACL"), wafError(http.StatusBadRequest, "WAFOptimisticLockException", "someone changed it"))
	_, err = e.apply(p, g, e.plan(p, g))
	if !errors.As(err, &stale) || exitCode(err) != cmdutil.ExitBlocked {
		t.Fatalf("apply racing another edit: %v (exit %d)", err, exitCode(err))
	}
	if e.f.liveCode(requestFn) != nil || e.limit() != 0 {
		t.Errorf("a stale lock left changes: function live %t, limit %d", e.f.liveCode(requestFn) != nil, e.limit())
	}
}

// TestWAFRetriesAndRestores: throttling and a 5xx from AWS WAF are retried; a failure after the rules were
// written (the distribution update keeps failing) puts the previous rules back.
func TestWAFRetriesAndRestores(t *testing.T) {
	e := newWAFEnv(t)
	e.w.inject(target("GetWebACL"), wafError(http.StatusBadRequest, "ThrottlingException", "Rate exceeded"))
	e.w.inject(target("UpdateWebACL"), apitest.ServerError(http.StatusServiceUnavailable))
	e.deploy(limited("10"))
	if e.limit() != 10 {
		t.Fatalf("not written after retries: limit %d", e.limit())
	}
	g := load(t, limited("30"))
	p := e.provider(g)
	for i := 0; i < 3; i++ { // the SDK's three attempts
		e.f.inject(apitest.Route("PUT", "/2020-05-31/distribution/E2EXAMPLE/config"), apitest.ServerError(http.StatusInternalServerError))
	}
	// Only the association would change: the distribution lost its web ACL meanwhile.
	e.f.mu.Lock()
	e.f.dist = webACLID.ReplaceAll(e.f.dist, []byte("<WebACLId></WebACLId>"))
	e.f.distETag = "EDIST-EDITED"
	e.f.mu.Unlock()
	_, err := e.apply(p, g, e.plan(p, g))
	var partial *providers.PartialError
	if !errors.As(err, &partial) || exitCode(err) != cmdutil.ExitPartial {
		t.Fatalf("apply with the distribution update failing: %v (exit %d)", err, exitCode(err))
	}
	if e.limit() != 10 {
		t.Errorf("after the failed apply the rule has limit %d, want the previous 10", e.limit())
	}
}
