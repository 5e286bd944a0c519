package gcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
)

// The URL-map half of the deploy: read the live map and its fingerprint, validate a map server-side (its
// tests[] included), update it with the fingerprint it was planned against, and wait on the global
// operation. The provider that plans, applies and rolls back through it (and keeps the deploy records)
// is not registered yet: Registration.New stays nil.

// ClientOptions say how to reach the Compute API.
type ClientOptions struct {
	Project string
	// Getenv reads CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE (gcloud's name for the override).
	Getenv func(string) string
	// WithoutAuth skips Google Application Default Credentials: for a fake endpoint in tests only.
	WithoutAuth bool
	// HTTPClient, when set, is the client the service uses (tests); with credentials, ADC wraps it.
	HTTPClient *http.Client
	// Poll is the pause between operation waits that return before the operation is done (default 2s).
	Poll time.Duration
	// Progress receives one line per operation state seen, for the user.
	Progress func(string)
}

// Client is a compute/v1 client for one project's global URL maps.
type Client struct {
	svc     *compute.Service
	project string
	poll    time.Duration
	prog    func(string)
}

// NewClient builds the client. Credentials are Google ADC; missing ones are a *providers.CredentialsError.
func NewClient(ctx context.Context, o ClientOptions) (*Client, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var opts []option.ClientOption
	if u, ok, err := endpoint.Get(getenv, endpoint.GCPCompute); err != nil {
		return nil, fmt.Errorf("providers/gcp: %w", err)
	} else if ok {
		opts = append(opts, option.WithEndpoint(u))
	}
	if o.HTTPClient != nil && o.WithoutAuth {
		opts = append(opts, option.WithHTTPClient(o.HTTPClient))
	}
	if o.WithoutAuth {
		opts = append(opts, option.WithoutAuthentication())
	}
	svc, err := compute.NewService(ctx, opts...)
	if err != nil {
		return nil, &providers.CredentialsError{Target: Name, Var: "GOOGLE_APPLICATION_CREDENTIALS", Err: err}
	}
	c := &Client{svc: svc, project: o.Project, poll: o.Poll, prog: o.Progress}
	if c.poll == 0 {
		c.poll = 2 * time.Second
	}
	if c.prog == nil {
		c.prog = func(string) {}
	}
	return c, nil
}

// GetURLMap returns the live map, or nil when there is none.
func (c *Client) GetURLMap(ctx context.Context, name string) (*compute.UrlMap, error) {
	m, err := c.svc.UrlMaps.Get(c.project, name).Context(ctx).Do()
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Code == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: get URL map %s in project %s: %w", name, c.project, err)
	}
	return m, nil
}

// ValidateURLMap asks GCP to load the map and run its tests[] without changing anything; the error lists
// every load error and failed test.
func (c *Client) ValidateURLMap(ctx context.Context, m *compute.UrlMap) error {
	res, err := c.svc.UrlMaps.Validate(c.project, m.Name, &compute.UrlMapsValidateRequest{
		Resource: m, LoadBalancingSchemes: []string{"EXTERNAL_MANAGED"},
	}).Context(ctx).Do()
	if err != nil {
		return fmt.Errorf("providers/gcp: validate URL map %s: %w", m.Name, err)
	}
	r := res.Result
	if r == nil {
		return fmt.Errorf("providers/gcp: validate URL map %s: the API returned no result", m.Name)
	}
	var probs []string
	probs = append(probs, r.LoadErrors...)
	for _, f := range r.TestFailures {
		probs = append(probs, fmt.Sprintf("test %s%s: expected %s%s, got %s%s", f.Host, f.Path, f.ExpectedService, f.ExpectedOutputUrl, f.ActualService, f.ActualOutputUrl))
	}
	if !r.LoadSucceeded || len(probs) > 0 || (len(m.Tests) > 0 && !r.TestPassed) {
		if len(probs) == 0 {
			probs = []string{"the map did not load"}
		}
		return fmt.Errorf("providers/gcp: URL map %s does not validate: %s", m.Name, strings.Join(probs, "; "))
	}
	return nil
}

// UpdateURLMap replaces the live map with m, refusing with a *providers.StalePlanError when the live
// fingerprint is no longer the planned one, and waits for the global operation. Each call sends a fresh
// requestId: a repeated one would silently replay the first operation.
func (c *Client) UpdateURLMap(ctx context.Context, m *compute.UrlMap, fingerprint string) error {
	m.Fingerprint = fingerprint
	op, err := c.svc.UrlMaps.Update(c.project, m.Name, m).RequestId(requestID()).Context(ctx).Do()
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed {
		return &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("URL map %s changed since the plan (fingerprint %s is no longer live)", m.Name, fingerprint)}
	}
	if err != nil {
		return fmt.Errorf("providers/gcp: update URL map %s: %w", m.Name, err)
	}
	return c.wait(ctx, op)
}

// wait follows a global operation until it is DONE and returns its error, if it failed. compute/v1 does
// not retry a 5xx, and neither does this: the error is the user's to see.
func (c *Client) wait(ctx context.Context, op *compute.Operation) error {
	for {
		c.prog(fmt.Sprintf("operation %s: %s", op.Name, op.Status))
		if op.Status == "DONE" {
			if op.Error != nil && len(op.Error.Errors) > 0 {
				var msgs []string
				for _, e := range op.Error.Errors {
					msgs = append(msgs, e.Code+": "+e.Message)
				}
				return fmt.Errorf("providers/gcp: operation %s failed: %s", op.Name, strings.Join(msgs, "; "))
			}
			return nil
		}
		next, err := c.svc.GlobalOperations.Wait(c.project, op.Name).Context(ctx).Do()
		if err != nil {
			return fmt.Errorf("providers/gcp: wait for operation %s: %w", op.Name, err)
		}
		if next.Status != "DONE" {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(c.poll):
			}
		}
		op = next
	}
}

// requestID is a fresh UUIDv4 for one mutating call.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
