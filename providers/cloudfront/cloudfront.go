// Package cloudfront is the `cloudfront` target: CloudFront Functions on a distribution, with Lambda@Edge and
// AWS WAF as opt-in companions. It owns the target's registration (its `targets.cloudfront` block and edge
// identity), its capability table, the renderer's name and the deploy through aws-sdk-go-v2: plan reads both
// functions and the distribution's config, apply uploads the changed functions, runs the manifest's tests
// through TestFunction, publishes them and associates them with the cache behaviors; rollback publishes the
// code kept in the deploy records, since CloudFront keeps no function history. With the lambda-edge-auth
// companion (lambda.go) it ships the one Lambda@Edge handler instead: a published version associated on
// three events, rolled back by associating the previous version.
//
// It ships the artifacts render/cloudfront produced and never derives gateway semantics.
package cloudfront

import (
	"regexp"
	"slices"
	"time"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/providers"
	render "github.com/edgegw/edgegw/render/cloudfront"
)

// Name is the target name.
const Name = "cloudfront"

// Settings is the manifest's `targets.cloudfront` block.
type Settings struct {
	DistributionID string `yaml:"distribution_id" jsonschema:"required"`
	Function       string `yaml:"function" jsonschema:"required"`
	// PollInterval is how often apply reads the distribution while it deploys (60s by default);
	// PropagationTimeout bounds that wait (30m by default), after which apply fails and restores.
	PollInterval       string   `yaml:"poll_interval,omitempty" jsonschema_description:"how often apply reads the distribution while it deploys, a duration such as 30s (default 60s)"`
	PropagationTimeout string   `yaml:"propagation_timeout,omitempty" jsonschema_description:"how long apply waits for the distribution to deploy before it fails and restores, a duration such as 20m (default 30m)"`
	Companions         []string `yaml:"companions,omitempty"`
	// WebACLName and WebACLID name the AWS WAF web ACL (scope CLOUDFRONT) the waf-rate-limit companion
	// writes its rules into and associates with the distribution.
	WebACLName string `yaml:"web_acl_name,omitempty" jsonschema_description:"the AWS WAF web ACL (scope CLOUDFRONT) the waf-rate-limit companion writes its rate-based rules into; required with that companion"`
	WebACLID   string `yaml:"web_acl_id,omitempty" jsonschema_description:"the id of that web ACL; required with the waf-rate-limit companion"`
	// LambdaFunction names the Lambda@Edge function (us-east-1, runtime nodejs20.x, handler index.handler)
	// the lambda-edge-auth companion deploys to; the function and its execution role are created once.
	LambdaFunction string `yaml:"lambda_function,omitempty" jsonschema_description:"the Lambda@Edge function (us-east-1, nodejs20.x, handler index.handler) the lambda-edge-auth companion publishes versions of; created once with its execution role"`
	// KeyValueStore names the CloudFront KeyValueStore the viewer-request function reads HS256 secrets,
	// and a route table too large for its code, from (its name, created when missing, or its ARN); the
	// function's name when unset.
	KeyValueStore string `yaml:"key_value_store,omitempty" jsonschema_description:"the CloudFront KeyValueStore that holds the HS256 secrets the viewer-request function reads: its name (created when missing) or its ARN; default: the function's name"`
}

// durations returns the block's poll interval and propagation timeout, zero where unset.
func (s *Settings) durations() (poll, timeout time.Duration, problems []manifest.BlockProblem) {
	parse := func(field, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, manifest.InvalidField(field, "write a positive duration such as 30s or 20m", "%q is not a positive duration", v))
			return 0
		}
		return d
	}
	return parse("poll_interval", s.PollInterval), parse("propagation_timeout", s.PropagationTimeout), problems
}

// functionName is what targets.cloudfront.function may be: the deploy names the two functions after it,
// with -viewer-request and -viewer-response (16 characters) appended, within CloudFront's 64.
var functionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,48}$`)

// kvsName and kvsARN are what targets.cloudfront.key_value_store may be: a store's name as CloudFront
// allows it, or a store's ARN.
var (
	kvsName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	kvsARN  = regexp.MustCompile(`^arn:aws[a-z-]*:cloudfront::[0-9]{12}:key-value-store/[A-Za-z0-9-]+$`)
)

// CompanionList implements ir.Companioned.
func (s *Settings) CompanionList() []string { return s.Companions }

func checkSettings(cfg any) []manifest.BlockProblem {
	s := cfg.(*Settings)
	var out []manifest.BlockProblem
	if s.DistributionID == "" {
		out = append(out, manifest.MissingField("distribution_id", "write the distribution's id, e.g. E2EXAMPLE"))
	}
	if s.Function == "" {
		out = append(out, manifest.MissingField("function", "write the CloudFront Function's name"))
	} else if !functionName.MatchString(s.Function) {
		out = append(out, manifest.InvalidField("function", "use letters, digits, - and _ only, at most 48 characters",
			"%q cannot name the functions %s-viewer-request and %s-viewer-response (CloudFront allows letters, digits, - and _, 64 characters)", s.Function, s.Function, s.Function))
	}
	if slices.Contains(s.Companions, "lambda-edge-auth") && s.LambdaFunction == "" {
		out = append(out, manifest.MissingField("lambda_function", "name the Lambda@Edge function (us-east-1, nodejs20.x) the lambda-edge-auth companion deploys to"))
	}
	if v := s.KeyValueStore; v != "" && !kvsName.MatchString(v) && !kvsARN.MatchString(v) {
		out = append(out, manifest.InvalidField("key_value_store", "write the store's name (letters, digits, - and _, at most 64 characters) or its ARN (arn:aws:cloudfront::ACCOUNT:key-value-store/ID)",
			"%q is neither a KeyValueStore name nor a KeyValueStore ARN", v))
	}
	_, _, bad := s.durations()
	return append(out, bad...)
}

// The cloudfront target: render/cloudfront renders the functions, this package deploys them.
func init() {
	providers.Register(providers.Registration{
		Name:          Name,
		Renderer:      render.Name,
		Capabilities:  capabilities,
		Settings:      func() any { return &Settings{} },
		CheckSettings: checkSettings,
		Companions:    []string{"lambda-edge-auth", "waf-rate-limit", PlatformErrors},
		EdgeHeaders:   []string{"X-Amz-Cf-Id"},
		Credentials:   "the AWS default credential chain",
		PublicDNS:     true,
		NotReverted:   []string{"KeyValueStore secrets (a rollback puts back the route table its version reads)", "the web ACL's own rules and, on a rollback to nothing deployed, edgegw's rules in it", "DNS records", "functions a failed first deploy created (published, associated with no cache behavior)", "the response headers policy a failed first deploy created, and the one a manifest without tls.hsts detaches (kept, attached to no cache behavior)", "published Lambda@Edge versions (kept; a rollback associates an earlier one)"},
		New:           New,
	})
}
