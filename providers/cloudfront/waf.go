package cloudfront

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"
	"github.com/aws/smithy-go"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/render"
	"github.com/edgegw/edgegw/render/cloudfront/waf"
)

// The waf-rate-limit companion's deploy. The web ACL is the user's (targets.cloudfront.web_acl_name and
// web_acl_id, scope CLOUDFRONT, in us-east-1): edgegw replaces the rules whose names start with
// waf.RulePrefix and the custom response body waf.BodyKey, placed after the ACL's own rules, and leaves
// everything else as it read it. GetWebACL's LockToken is the optimistic lock: UpdateWebACL with a token
// that moved fails with WAFOptimisticLockException, which is a stale plan. The distribution is associated
// with the web ACL by DistributionConfig.WebACLId (the ACL's ARN), in the same UpdateDistribution as the
// functions. The edgegw rules a deploy replaced are kept in its restore point (Detail[waf.File]), so a
// failed apply and a rollback put them back.

// wafDeploy is the wafv2 client and the web ACL it manages.
type wafDeploy struct {
	client   *wafv2.Client
	name, id string
}

// liveWAF is the web ACL as read.
type liveWAF struct {
	acl       *types.WebACL
	lockToken string
	// doc is edgegw's rules and body as waf.Marshal writes them (priorities from 0); nil when none.
	doc []byte
	// shipped is set once this apply updated the web ACL, so a failure puts doc back.
	shipped bool
}

// openWAF builds the wafv2 client when the manifest lists the companion.
func (p *Provider) openWAF(s *Settings, awsCfg aws.Config, getenv func(string) string) error {
	if !hasCompanion(s, waf.Companion) {
		return nil
	}
	if s.WebACLName == "" || s.WebACLID == "" {
		return fmt.Errorf("providers/%s: the waf-rate-limit companion needs the web ACL: add web_acl_name and web_acl_id (a CLOUDFRONT-scope web ACL) to targets.cloudfront", Name)
	}
	base, ok, err := endpoint.Get(getenv, endpoint.AWSWAFv2)
	if err != nil {
		return fmt.Errorf("providers/%s: %w", Name, err)
	}
	p.waf = &wafDeploy{name: s.WebACLName, id: s.WebACLID, client: wafv2.NewFromConfig(awsCfg, func(o *wafv2.Options) {
		o.Region = Region // CLOUDFRONT-scope web ACLs live in us-east-1
		if ok {
			o.BaseEndpoint = aws.String(base)
		}
	})}
	return nil
}

func hasCompanion(s *Settings, c string) bool {
	for _, x := range s.Companions {
		if x == c {
			return true
		}
	}
	return false
}

func (w *wafDeploy) what() string { return fmt.Sprintf("web ACL %s (%s, CLOUDFRONT)", w.name, w.id) }

// apiError says which call failed and what to do.
func (w *wafDeploy) apiError(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "WAFOptimisticLockException":
			return &providers.StalePlanError{Target: Name, Reason: what + ": AWS WAF refused the lock token (WAFOptimisticLockException): someone changed " + w.what() + " meanwhile"}
		case "WAFNonexistentItemException":
			return fmt.Errorf("providers/%s: %s: AWS WAF has no %s: check targets.cloudfront.web_acl_name and web_acl_id (the web ACL must have scope CLOUDFRONT)", Name, what, w.what())
		case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException":
			return &providers.CredentialsError{Target: Name, Var: CredentialsHint,
				Err: fmt.Errorf("%s: AWS refused the credentials (%s): give them wafv2:GetWebACL and wafv2:UpdateWebACL", what, ae.ErrorCode())}
		}
	}
	return fmt.Errorf("providers/%s: %s: %w", Name, what, err)
}

func (w *wafDeploy) read(ctx context.Context) (*liveWAF, error) {
	out, err := w.client.GetWebACL(ctx, &wafv2.GetWebACLInput{Name: aws.String(w.name), Id: aws.String(w.id), Scope: types.ScopeCloudfront})
	if err != nil {
		return nil, w.apiError("read "+w.what(), err)
	}
	if out.WebACL == nil {
		return nil, fmt.Errorf("providers/%s: read %s: AWS WAF answered no web ACL", Name, w.what())
	}
	lw := &liveWAF{acl: out.WebACL, lockToken: aws.ToString(out.LockToken)}
	if lw.doc, err = ownDoc(out.WebACL); err != nil {
		return nil, err
	}
	return lw, nil
}

func owned(r types.Rule) bool { return strings.HasPrefix(aws.ToString(r.Name), waf.RulePrefix) }

// ownDoc is the part of acl edgegw owns, as render/cloudfront/waf writes it; nil when none.
func ownDoc(acl *types.WebACL) ([]byte, error) {
	d := &waf.Document{}
	for _, r := range acl.Rules {
		if owned(r) {
			d.Rules = append(d.Rules, r)
		}
	}
	if len(d.Rules) == 0 {
		return nil, nil
	}
	sortRules(d.Rules)
	for i := range d.Rules {
		d.Rules[i].Priority = int32(i)
	}
	if b, ok := acl.CustomResponseBodies[waf.BodyKey]; ok {
		d.CustomResponseBodies = map[string]types.CustomResponseBody{waf.BodyKey: b}
	}
	return waf.Marshal(d)
}

func sortRules(rs []types.Rule) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Priority < rs[j-1].Priority; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// write replaces edgegw's rules and body in the web ACL with doc (nil or empty: none), keeping the ACL's
// own rules first, and returns the next lock token.
func (w *wafDeploy) write(ctx context.Context, lw *liveWAF, doc []byte) error {
	var d *waf.Document
	if len(doc) > 0 {
		var err error
		if d, err = waf.Parse(doc); err != nil {
			return err
		}
	}
	acl := lw.acl
	var rules []types.Rule
	top := int32(-1)
	for _, r := range acl.Rules {
		if !owned(r) {
			rules = append(rules, r)
			top = max(top, r.Priority)
		}
	}
	bodies := map[string]types.CustomResponseBody{}
	for k, v := range acl.CustomResponseBodies {
		if k != waf.BodyKey {
			bodies[k] = v
		}
	}
	if d != nil {
		for _, r := range d.Rules {
			r.Priority += top + 1
			rules = append(rules, r)
		}
		for k, v := range d.CustomResponseBodies {
			bodies[k] = v
		}
	}
	if len(bodies) == 0 {
		bodies = nil
	}
	out, err := w.client.UpdateWebACL(ctx, &wafv2.UpdateWebACLInput{
		Name: acl.Name, Id: acl.Id, Scope: types.ScopeCloudfront, LockToken: aws.String(lw.lockToken),
		DefaultAction: acl.DefaultAction, VisibilityConfig: acl.VisibilityConfig, Description: acl.Description,
		Rules: rules, CustomResponseBodies: bodies, CaptchaConfig: acl.CaptchaConfig, ChallengeConfig: acl.ChallengeConfig,
		TokenDomains: acl.TokenDomains, AssociationConfig: acl.AssociationConfig, DataProtectionConfig: acl.DataProtectionConfig,
		ApplicationConfig: acl.ApplicationConfig, OnSourceDDoSProtectionConfig: acl.OnSourceDDoSProtectionConfig,
	})
	if err != nil {
		return w.apiError("update the rules of "+w.what(), err)
	}
	lw.lockToken = aws.ToString(out.NextLockToken)
	lw.acl.Rules, lw.acl.CustomResponseBodies = rules, bodies
	return nil
}

// wafArtifact is the live part of the web ACL edgegw owns, as an artifact plan compares with waf.json.
func wafArtifact(l *liveState) *render.Artifact {
	if l.waf == nil || l.waf.doc == nil {
		return nil
	}
	return &render.Artifact{Target: Name, Path: waf.File, MediaType: "application/json", Data: l.waf.doc}
}

// shipWAF makes codes[waf.File] edgegw's rules in the web ACL when they differ, before the distribution is
// pointed at it. Codes without that key (a record written without the companion) leave the web ACL alone;
// an empty value removes edgegw's rules.
func (p *Provider) shipWAF(ctx context.Context, l *liveState, codes map[string][]byte) error {
	doc, ok := codes[wafFile]
	if !ok || p.waf == nil || l.waf == nil || bytes.Equal(l.waf.doc, doc) {
		return nil
	}
	if err := p.waf.write(ctx, l.waf, doc); err != nil {
		return err
	}
	l.waf.shipped = true // l.waf.doc stays what to put back
	return nil
}

// restoreWAF puts back the rules shipWAF replaced; "" when there was nothing to do.
func (p *Provider) restoreWAF(ctx context.Context, l *liveState) error {
	if p.waf == nil || l.waf == nil || !l.waf.shipped {
		return nil
	}
	cur, err := p.waf.read(ctx)
	if err != nil {
		return err
	}
	return p.waf.write(ctx, cur, l.waf.doc)
}

// associateWAF points dc at the web ACL; it returns 1 when that changes dc.
func (p *Provider) associateWAF(l *liveState, dc *cftypes.DistributionConfig) int {
	if p.waf == nil || l.waf == nil || l.waf.acl.ARN == nil || aws.ToString(dc.WebACLId) == aws.ToString(l.waf.acl.ARN) {
		return 0
	}
	dc.WebACLId = l.waf.acl.ARN
	return 1
}

// wafCode adds the desired rules to codes when the companion is deployed (an empty value removes them).
func (p *Provider) wafCode(codes map[string][]byte, want map[string]render.Artifact) {
	if p.waf != nil {
		codes[waf.File] = want[waf.File].Data
	}
}

// wafFile is the companion's artifact, the key of its rules in codes and restore points.
const wafFile = waf.File

// wafShipped reports whether this apply changed the web ACL already.
func wafShipped(l *liveState) bool { return l.waf != nil && l.waf.shipped }
