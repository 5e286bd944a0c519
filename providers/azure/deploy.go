package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/cdn/armcdn/v2"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
)

// SubscriptionVar is read when targets.azure.subscription_id is not written.
const SubscriptionVar = "AZURE_SUBSCRIPTION_ID"

// credentialVars names what DefaultAzureCredential reads first, for messages.
const credentialVars = "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or workload identity, managed identity, `az login`)"

// Provider deploys to one Front Door endpoint through armcdn. Every release is a rule set of its own
// (blue/green): apply builds the new set beside the live one, then switches each route's ruleSets to it
// with one route update per route. The previous set stays for rollback, which switches the routes back.
// The routes' current rule-set ids are the plan's base token.
type Provider struct {
	sub, group, profile, endpoint string

	routes      *armcdn.RoutesClient
	ruleSets    *armcdn.RuleSetsClient
	rules       *armcdn.RulesClient
	groups      *armcdn.AFDOriginGroupsClient
	origins     *armcdn.AFDOriginsClient
	domains     *armcdn.AFDCustomDomainsClient
	profiles    *armcdn.ProfilesClient
	pollEvery   time.Duration
	progress    io.Writer
	staged      map[string]*stagedRelease
	keepRecords int
	// lastRead is the live state the last Plan read, for the Stage that follows it.
	lastRead *live
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Stager   = (*Provider)(nil)
	_ providers.Verifier = (*Provider)(nil)
)

// Options change how New builds the clients; the zero value is what the registration uses.
type Options struct {
	// Credential replaces DefaultAzureCredential.
	Credential azcore.TokenCredential
	// Transport, Retry and InsecureHTTP are passed to the SDK's pipelines (the credential's too).
	Transport    policy.Transporter
	Retry        policy.RetryOptions
	InsecureHTTP bool
	// PollEvery is the wait between two polls of a long-running operation (2s when zero).
	PollEvery time.Duration
	// Progress receives one line per long-running operation finished (stderr when nil).
	Progress io.Writer
}

// New builds the provider from the manifest's targets.azure block and the environment.
func New(cfg providers.Config) (providers.Provider, error) { return NewWithOptions(cfg, Options{}) }

// NewWithOptions is New with the clients' options set.
func NewWithOptions(cfg providers.Config, o Options) (providers.Provider, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var s *Settings
	if cfg.Gateway != nil {
		if t, ok := cfg.Gateway.Targets.Lookup(Name); ok {
			s, _ = t.Config.(*Settings)
		}
	}
	if s == nil {
		return nil, errors.New("providers/azure: the manifest has no targets.azure block: add `azure: {subscription_id: {env: AZURE_SUBSCRIPTION_ID}, resource_group: ..., profile: ..., endpoint: ...}` under targets")
	}
	sub, err := subscription(s.SubscriptionID, getenv)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ key, v string }{{"resource_group", s.ResourceGroup}, {"profile", s.Profile}, {"endpoint", s.Endpoint}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, &providers.CredentialsError{Target: Name, Var: "targets.azure." + f.key,
				Err: fmt.Errorf("targets.azure.%s is empty: write the Front Door %s's name", f.key, strings.ReplaceAll(f.key, "_", " "))}
		}
	}
	armURL, armSet, err := endpoint.Get(getenv, endpoint.AzureARMEndpoint)
	if err != nil {
		return nil, fmt.Errorf("providers/azure: %w", err)
	}
	authority, authSet, err := endpoint.Get(getenv, endpoint.AzureAuthorityHost)
	if err != nil {
		return nil, fmt.Errorf("providers/azure: %w", err)
	}
	cl := cloud.AzurePublic
	cl.Services = map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: cl.Services[cloud.ResourceManager]}
	if armSet {
		rm := cl.Services[cloud.ResourceManager]
		rm.Endpoint = armURL
		cl.Services[cloud.ResourceManager] = rm
	}
	if authSet {
		cl.ActiveDirectoryAuthorityHost = authority
	}
	co := policy.ClientOptions{Cloud: cl, Transport: o.Transport, Retry: o.Retry, InsecureAllowCredentialWithHTTP: o.InsecureHTTP}
	cred := o.Credential
	if cred == nil {
		// DefaultAzureCredential reads its variables from the process environment itself.
		c, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: policy.ClientOptions{Cloud: cl, Transport: o.Transport, Retry: o.Retry},
			// A local or sovereign authority has no instance-discovery endpoint.
			DisableInstanceDiscovery: authSet,
		})
		if err != nil {
			return nil, &providers.CredentialsError{Target: Name, Var: credentialVars, Err: err}
		}
		cred = c
	}
	f, err := armcdn.NewClientFactory(sub, cred, &arm.ClientOptions{ClientOptions: co})
	if err != nil {
		return nil, fmt.Errorf("providers/azure: %w", err)
	}
	p := &Provider{sub: sub, group: s.ResourceGroup, profile: s.Profile, endpoint: s.Endpoint,
		routes: f.NewRoutesClient(), ruleSets: f.NewRuleSetsClient(), rules: f.NewRulesClient(),
		groups: f.NewAFDOriginGroupsClient(), origins: f.NewAFDOriginsClient(), domains: f.NewAFDCustomDomainsClient(),
		profiles: f.NewProfilesClient(), pollEvery: o.PollEvery, progress: o.Progress,
		staged: map[string]*stagedRelease{}, keepRecords: 20}
	if p.pollEvery == 0 {
		p.pollEvery = 2 * time.Second
	}
	if p.progress == nil {
		p.progress = os.Stderr
	}
	return p, nil
}

func subscription(v ir.Value, getenv func(string) string) (string, error) {
	name := SubscriptionVar
	if v.Env == "" && strings.TrimSpace(v.Literal) != "" {
		return strings.TrimSpace(v.Literal), nil
	}
	if v.Env != "" {
		name = v.Env
	}
	if s := strings.TrimSpace(getenv(name)); s != "" {
		return s, nil
	}
	return "", &providers.CredentialsError{Target: Name, Var: name,
		Err: fmt.Errorf("targets.azure.subscription_id reads %s, which is not set: set it to the id of the subscription that holds the Front Door profile", name)}
}

// Name implements providers.Provider.
func (p *Provider) Name() string { return Name }

// apiError says which call failed and what to do; refused or missing credentials become a
// *CredentialsError (exit 4).
func (p *Provider) apiError(what string, err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return &providers.CredentialsError{Target: Name, Var: credentialVars,
				Err: fmt.Errorf("%s: Azure Resource Manager refused the credential (%d %s): give the identity the CDN Profile Contributor role on profile %s of resource group %s", what, re.StatusCode, re.ErrorCode, p.profile, p.group)}
		case http.StatusTooManyRequests:
			return fmt.Errorf("providers/azure: %s: throttled by Azure Resource Manager (429 %s) after the SDK's retries: wait a minute and re-run", what, re.ErrorCode)
		case http.StatusNotFound:
			return fmt.Errorf("providers/azure: %s: not found (%s): check targets.azure (subscription %s, resource group %s, profile %s, endpoint %s): %w", what, re.ErrorCode, p.sub, p.group, p.profile, p.endpoint, err)
		}
		return fmt.Errorf("providers/azure: %s: %w", what, err)
	}
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) || strings.Contains(err.Error(), "DefaultAzureCredential") || strings.Contains(err.Error(), "EnvironmentCredential") {
		return &providers.CredentialsError{Target: Name, Var: credentialVars, Err: fmt.Errorf("%s: no token for Azure Resource Manager: %v", what, err)}
	}
	return fmt.Errorf("providers/azure: %s: %w", what, err)
}

// pending is a long-running operation as an SDK Begin call returned it.
type pending[T any] struct {
	poller *runtime.Poller[T]
	err    error
}

func begin[T any](poller *runtime.Poller[T], err error) pending[T] { return pending[T]{poller, err} }

// poll waits for a long-running operation, polling every p.pollEvery, and reports it done.
func poll[T any](ctx context.Context, p *Provider, what string, b pending[T]) (T, error) {
	var zero T
	poller, err := b.poller, b.err
	if err != nil {
		return zero, p.apiError(what, err)
	}
	polls := 0
	for !poller.Done() {
		select {
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-time.After(p.pollEvery):
		}
		if _, err := poller.Poll(ctx); err != nil {
			return zero, p.apiError(what, err)
		}
		polls++
	}
	res, err := poller.Result(ctx)
	if err != nil {
		return zero, p.apiError(what+" (long-running operation failed)", err)
	}
	fmt.Fprintf(p.progress, "azure: %s: done (%d polls)\n", what, polls)
	return res, nil
}
