package gcp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	compute "google.golang.org/api/compute/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/endpoint"
	gcprender "github.com/edgegw/edgegw/render/gcp"
)

// The Compute API half of the deploy: read the live map and its fingerprint, validate a map server-side
// (its tests[] included), create and update maps, backend services and health checks, and wait on the
// global operations. compute/v1 retries nothing itself; every call here is retried (see call) at most
// maxRetries times on 429, 5xx and dropped connections, and a mutation is retried with the requestId of
// its first attempt, which the API answers with the first attempt's operation instead of a second one.

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
	// RetryBase is the first pause before a retry without Retry-After, doubled at each retry (default 1s).
	RetryBase time.Duration
}

// Client is a compute/v1 client for one project's global URL maps.
type Client struct {
	svc       *compute.Service
	project   string
	poll      time.Duration
	prog      func(string)
	retryBase time.Duration
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
	c := &Client{svc: svc, project: o.Project, poll: o.Poll, prog: o.Progress, retryBase: o.RetryBase}
	if c.retryBase == 0 {
		c.retryBase = time.Second
	}
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
	var m *compute.UrlMap
	err := c.call(ctx, func() (err error) { m, err = c.svc.UrlMaps.Get(c.project, name).Context(ctx).Do(); return err })
	if notFound(err) {
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
	var res *compute.UrlMapsValidateResponse
	err := c.call(ctx, func() (err error) {
		res, err = c.svc.UrlMaps.Validate(c.project, m.Name, &compute.UrlMapsValidateRequest{
			Resource: m, LoadBalancingSchemes: []string{"EXTERNAL_MANAGED"},
		}).Context(ctx).Do()
		return err
	})
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
// fingerprint is no longer the planned one, and waits for the global operation.
func (c *Client) UpdateURLMap(ctx context.Context, m *compute.UrlMap, fingerprint string) error {
	m.Fingerprint = fingerprint
	err := c.mutate(ctx, "update URL map "+m.Name, func(id string) (*compute.Operation, error) {
		return c.svc.UrlMaps.Update(c.project, m.Name, m).RequestId(id).Context(ctx).Do()
	})
	var ge *googleapi.Error
	if errors.As(err, &ge) && ge.Code == http.StatusPreconditionFailed {
		return &providers.StalePlanError{Target: Name, Reason: fmt.Sprintf("URL map %s changed since the plan (fingerprint %s is no longer live)", m.Name, fingerprint)}
	}
	return err
}

// InsertURLMap creates m and waits for the operation.
func (c *Client) InsertURLMap(ctx context.Context, m *compute.UrlMap) error {
	m.Fingerprint = ""
	return c.mutate(ctx, "create URL map "+m.Name, func(id string) (*compute.Operation, error) {
		return c.svc.UrlMaps.Insert(c.project, m).RequestId(id).Context(ctx).Do()
	})
}

// DeleteURLMap deletes a map and waits.
func (c *Client) DeleteURLMap(ctx context.Context, name string) error {
	return c.mutate(ctx, "delete URL map "+name, func(id string) (*compute.Operation, error) {
		return c.svc.UrlMaps.Delete(c.project, name).RequestId(id).Context(ctx).Do()
	})
}

// GetBackendService returns the live backend service, or nil when there is none.
func (c *Client) GetBackendService(ctx context.Context, name string) (*compute.BackendService, error) {
	var bs *compute.BackendService
	err := c.call(ctx, func() (err error) { bs, err = c.svc.BackendServices.Get(c.project, name).Context(ctx).Do(); return err })
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: get backend service %s in project %s: %w", name, c.project, err)
	}
	return bs, nil
}

// InsertBackendService creates bs and waits for the operation.
func (c *Client) InsertBackendService(ctx context.Context, bs *compute.BackendService) error {
	bs.Fingerprint = ""
	return c.mutate(ctx, "create backend service "+bs.Name, func(id string) (*compute.Operation, error) {
		return c.svc.BackendServices.Insert(c.project, bs).RequestId(id).Context(ctx).Do()
	})
}

// UpdateBackendService replaces the backend service with bs, sent with the live fingerprint, and waits.
func (c *Client) UpdateBackendService(ctx context.Context, bs *compute.BackendService, fingerprint string) error {
	bs.Fingerprint = fingerprint
	return c.mutate(ctx, "update backend service "+bs.Name, func(id string) (*compute.Operation, error) {
		return c.svc.BackendServices.Update(c.project, bs.Name, bs).RequestId(id).Context(ctx).Do()
	})
}

// DeleteBackendService deletes a backend service and waits.
func (c *Client) DeleteBackendService(ctx context.Context, name string) error {
	return c.mutate(ctx, "delete backend service "+name, func(id string) (*compute.Operation, error) {
		return c.svc.BackendServices.Delete(c.project, name).RequestId(id).Context(ctx).Do()
	})
}

// GetHealthCheck returns the live health check, or nil when there is none.
func (c *Client) GetHealthCheck(ctx context.Context, name string) (*compute.HealthCheck, error) {
	var hc *compute.HealthCheck
	err := c.call(ctx, func() (err error) { hc, err = c.svc.HealthChecks.Get(c.project, name).Context(ctx).Do(); return err })
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: get health check %s in project %s: %w", name, c.project, err)
	}
	return hc, nil
}

// InsertHealthCheck creates hc and waits.
func (c *Client) InsertHealthCheck(ctx context.Context, hc *compute.HealthCheck) error {
	return c.mutate(ctx, "create health check "+hc.Name, func(id string) (*compute.Operation, error) {
		return c.svc.HealthChecks.Insert(c.project, hc).RequestId(id).Context(ctx).Do()
	})
}

// UpdateHealthCheck replaces the health check with hc (health checks have no fingerprint) and waits.
func (c *Client) UpdateHealthCheck(ctx context.Context, hc *compute.HealthCheck) error {
	return c.mutate(ctx, "update health check "+hc.Name, func(id string) (*compute.Operation, error) {
		return c.svc.HealthChecks.Update(c.project, hc.Name, hc).RequestId(id).Context(ctx).Do()
	})
}

// DeleteHealthCheck deletes a health check and waits.
func (c *Client) DeleteHealthCheck(ctx context.Context, name string) error {
	return c.mutate(ctx, "delete health check "+name, func(id string) (*compute.Operation, error) {
		return c.svc.HealthChecks.Delete(c.project, name).RequestId(id).Context(ctx).Do()
	})
}

// maxRetries bounds the retries of one call.
const maxRetries = 3

// mutate sends one mutation and waits for its operation. Every attempt carries the same requestId: when
// an attempt reached the API but its answer was lost (a 5xx, a reset connection), the API answers the
// retry with the operation the first attempt started and does not run the mutation twice.
func (c *Client) mutate(ctx context.Context, what string, send func(requestID string) (*compute.Operation, error)) error {
	id := requestID()
	var op *compute.Operation
	err := c.call(ctx, func() (err error) { op, err = send(id); return err })
	if err != nil {
		return fmt.Errorf("providers/gcp: %s: %w", what, err)
	}
	if err := c.wait(ctx, op); err != nil {
		return fmt.Errorf("providers/gcp: %s: %w", what, err)
	}
	return nil
}

// call runs one API call, retried at most maxRetries times when the API answers 429 or a 5xx or the
// connection drops, after the answer's Retry-After or an exponential pause. A 4xx other than 429 is the
// caller's to handle and is never retried.
func (c *Client) call(ctx context.Context, do func() error) error {
	for attempt := 0; ; attempt++ {
		err := do()
		if err == nil || attempt == maxRetries || !retryable(ctx, err) {
			return err
		}
		pause := c.retryBase << attempt
		var ge *googleapi.Error
		if errors.As(err, &ge) {
			if s, perr := strconv.Atoi(ge.Header.Get("Retry-After")); perr == nil && s >= 0 {
				pause = min(time.Duration(s)*time.Second, 60*time.Second)
			}
		}
		c.prog(fmt.Sprintf("retry %d of %d in %s: %v", attempt+1, maxRetries, pause, err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code == http.StatusTooManyRequests || ge.Code >= 500
	}
	if te, ok := tokenError(err); ok {
		return te.Temporary()
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// temporary is what the token endpoint's errors (cloud.google.com/go/auth's *Error) say of themselves.
type temporary interface {
	error
	Temporary() bool
}

// tokenError finds an error of the credentials' token endpoint in err: one that says whether it is
// temporary and is neither the API's nor the network's.
func tokenError(err error) (temporary, bool) {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return nil, false
	}
	var ue *url.Error // a net.Error itself: look at what it wraps
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	var te temporary
	if errors.As(err, &ne) || !errors.As(err, &te) {
		return nil, false
	}
	return te, true
}

func notFound(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == http.StatusNotFound
}

// wait follows a global operation until it is DONE and returns its error, if it failed.
func (c *Client) wait(ctx context.Context, op *compute.Operation) error {
	for {
		c.prog(fmt.Sprintf("operation %s (%s %s): %s", op.Name, op.OperationType, lastSegment(op.TargetLink), op.Status))
		if op.Status == "DONE" {
			if op.Error != nil && len(op.Error.Errors) > 0 {
				var msgs []string
				for _, e := range op.Error.Errors {
					msgs = append(msgs, e.Code+": "+e.Message)
				}
				return &OperationError{Operation: op.Name, Messages: msgs}
			}
			return nil
		}
		var next *compute.Operation
		err := c.call(ctx, func() (err error) {
			next, err = c.svc.GlobalOperations.Wait(c.project, op.Name).Context(ctx).Do()
			return err
		})
		if err != nil {
			return fmt.Errorf("wait for operation %s: %w", op.Name, err)
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

// OperationError is a global operation that ended with errors: the change it carried did not happen.
type OperationError struct {
	Operation string
	Messages  []string
}

func (e *OperationError) Error() string {
	return fmt.Sprintf("operation %s failed: %s", e.Operation, strings.Join(e.Messages, "; "))
}

func lastSegment(link string) string {
	if i := strings.LastIndex(link, "/"); i >= 0 {
		return link[i+1:]
	}
	return link
}

// requestID is a fresh UUIDv4 for one mutation (and its retries).
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// GetEndpointGroup returns the live global NEG and its endpoints, or nil when there is none.
func (c *Client) GetEndpointGroup(ctx context.Context, name string) (*gcprender.EndpointGroup, error) {
	var g *compute.NetworkEndpointGroup
	err := c.call(ctx, func() (err error) {
		g, err = c.svc.GlobalNetworkEndpointGroups.Get(c.project, name).Context(ctx).Do()
		return err
	})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: get network endpoint group %s in project %s: %w", name, c.project, err)
	}
	var list *compute.NetworkEndpointGroupsListNetworkEndpoints
	err = c.call(ctx, func() (err error) {
		list, err = c.svc.GlobalNetworkEndpointGroups.ListNetworkEndpoints(c.project, name).Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: list the endpoints of network endpoint group %s: %w", name, err)
	}
	out := &gcprender.EndpointGroup{Group: g}
	for _, e := range list.Items {
		out.Endpoints = append(out.Endpoints, e.NetworkEndpoint)
	}
	return out, nil
}

// InsertEndpointGroup creates a global NEG and waits.
func (c *Client) InsertEndpointGroup(ctx context.Context, g *compute.NetworkEndpointGroup) error {
	return c.mutate(ctx, "create network endpoint group "+g.Name, func(id string) (*compute.Operation, error) {
		return c.svc.GlobalNetworkEndpointGroups.Insert(c.project, g).RequestId(id).Context(ctx).Do()
	})
}

// AttachEndpoints attaches endpoints to a global NEG and waits.
func (c *Client) AttachEndpoints(ctx context.Context, name string, eps []*compute.NetworkEndpoint) error {
	return c.mutate(ctx, "attach endpoints to network endpoint group "+name, func(id string) (*compute.Operation, error) {
		return c.svc.GlobalNetworkEndpointGroups.AttachNetworkEndpoints(c.project, name,
			&compute.GlobalNetworkEndpointGroupsAttachEndpointsRequest{NetworkEndpoints: eps}).RequestId(id).Context(ctx).Do()
	})
}

// DetachEndpoints detaches endpoints from a global NEG and waits.
func (c *Client) DetachEndpoints(ctx context.Context, name string, eps []*compute.NetworkEndpoint) error {
	return c.mutate(ctx, "detach endpoints from network endpoint group "+name, func(id string) (*compute.Operation, error) {
		return c.svc.GlobalNetworkEndpointGroups.DetachNetworkEndpoints(c.project, name,
			&compute.GlobalNetworkEndpointGroupsDetachEndpointsRequest{NetworkEndpoints: eps}).RequestId(id).Context(ctx).Do()
	})
}

// DeleteEndpointGroup deletes a global NEG and waits.
func (c *Client) DeleteEndpointGroup(ctx context.Context, name string) error {
	return c.mutate(ctx, "delete network endpoint group "+name, func(id string) (*compute.Operation, error) {
		return c.svc.GlobalNetworkEndpointGroups.Delete(c.project, name).RequestId(id).Context(ctx).Do()
	})
}

// GetBackendBucket returns the live backend bucket, or nil when there is none.
func (c *Client) GetBackendBucket(ctx context.Context, name string) (*compute.BackendBucket, error) {
	var b *compute.BackendBucket
	err := c.call(ctx, func() (err error) { b, err = c.svc.BackendBuckets.Get(c.project, name).Context(ctx).Do(); return err })
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: get backend bucket %s in project %s: %w", name, c.project, err)
	}
	return b, nil
}

// InsertBackendBucket creates a backend bucket and waits.
func (c *Client) InsertBackendBucket(ctx context.Context, b *compute.BackendBucket) error {
	return c.mutate(ctx, "create backend bucket "+b.Name, func(id string) (*compute.Operation, error) {
		return c.svc.BackendBuckets.Insert(c.project, b).RequestId(id).Context(ctx).Do()
	})
}

// UpdateBackendBucket replaces a backend bucket and waits.
func (c *Client) UpdateBackendBucket(ctx context.Context, b *compute.BackendBucket) error {
	return c.mutate(ctx, "update backend bucket "+b.Name, func(id string) (*compute.Operation, error) {
		return c.svc.BackendBuckets.Update(c.project, b.Name, b).RequestId(id).Context(ctx).Do()
	})
}

// DeleteBackendBucket deletes a backend bucket and waits.
func (c *Client) DeleteBackendBucket(ctx context.Context, name string) error {
	return c.mutate(ctx, "delete backend bucket "+name, func(id string) (*compute.Operation, error) {
		return c.svc.BackendBuckets.Delete(c.project, name).RequestId(id).Context(ctx).Do()
	})
}

// GetSecurityPolicy returns the live Cloud Armor policy, or nil when there is none.
func (c *Client) GetSecurityPolicy(ctx context.Context, name string) (*compute.SecurityPolicy, error) {
	var sp *compute.SecurityPolicy
	err := c.call(ctx, func() (err error) {
		sp, err = c.svc.SecurityPolicies.Get(c.project, name).Context(ctx).Do()
		return err
	})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("providers/gcp: get security policy %s in project %s: %w", name, c.project, err)
	}
	return sp, nil
}

// InsertSecurityPolicy creates a Cloud Armor policy with its rules and waits.
func (c *Client) InsertSecurityPolicy(ctx context.Context, sp *compute.SecurityPolicy) error {
	return c.mutate(ctx, "create security policy "+sp.Name, func(id string) (*compute.Operation, error) {
		return c.svc.SecurityPolicies.Insert(c.project, sp).RequestId(id).Context(ctx).Do()
	})
}

// DeleteSecurityPolicy deletes a Cloud Armor policy and waits.
func (c *Client) DeleteSecurityPolicy(ctx context.Context, name string) error {
	return c.mutate(ctx, "delete security policy "+name, func(id string) (*compute.Operation, error) {
		return c.svc.SecurityPolicies.Delete(c.project, name).RequestId(id).Context(ctx).Do()
	})
}
