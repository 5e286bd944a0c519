package jwtverify

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/edgegw/edgegw/internal/boundedio"
)

// maxJWKSSize bounds a fetched key set; real ones are a few KiB.
const maxJWKSSize = 1 << 20

// jwksCache holds the keys of one JWKS URL. Keys are parsed once per fetch; a token with an unknown kid
// triggers a refresh, but at most once per minRefresh so a flood of made-up kids cannot turn the gateway
// into a traffic amplifier against the identity provider.
type jwksCache struct {
	url        string
	client     *http.Client
	ttl        time.Duration
	minRefresh time.Duration
	now        func() time.Time

	mu        sync.Mutex
	keys      []Key
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last attempt, successful or not
	kidAt     time.Time // last refresh caused by an unknown kid
	lastErr   error
}

func newJWKSCache(cfg Config) *jwksCache {
	c := &jwksCache{url: cfg.JWKSURL, client: cfg.HTTPClient, ttl: cfg.JWKSCacheTTL, minRefresh: cfg.JWKSMinRefresh, now: cfg.Now}
	if c.client == nil {
		c.client = &http.Client{Timeout: 5 * time.Second}
	}
	if c.ttl <= 0 {
		c.ttl = 10 * time.Minute
	}
	if c.minRefresh <= 0 {
		c.minRefresh = 30 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// get returns the cached keys, fetching when the cache is empty or stale, or when kid is unknown and the
// last attempt is older than minRefresh.
func (c *jwksCache) get(ctx context.Context, kid string) ([]Key, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	stale := c.fetchedAt.IsZero() || now.Sub(c.fetchedAt) >= c.ttl
	unknown := kid != "" && !slices.ContainsFunc(c.keys, func(k Key) bool { return k.KID == kid })
	// A failed fetch is retried no sooner than minRefresh, and so is a refresh for an unknown kid.
	retryStale := stale && (c.lastErr == nil || now.Sub(c.triedAt) >= c.minRefresh)
	retryKid := unknown && (c.kidAt.IsZero() || now.Sub(c.kidAt) >= c.minRefresh)
	if retryStale || retryKid {
		if !stale {
			c.kidAt = now
		}
		c.triedAt = now
		keys, err := c.fetch(ctx)
		if err != nil {
			c.lastErr = err
		} else {
			c.keys, c.fetchedAt, c.lastErr = keys, now, nil
		}
	}
	if c.keys == nil && c.lastErr != nil {
		return nil, c.lastErr
	}
	return c.keys, nil
}

func (c *jwksCache) fetch(ctx context.Context) ([]Key, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwtverify: jwks %s: %w", c.url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwtverify: jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwtverify: jwks %s: status %d", c.url, resp.StatusCode)
	}
	body, err := boundedio.ReadAll(resp.Body, "the response", maxJWKSSize)
	if boundedio.IsTooLarge(err) {
		return nil, fmt.Errorf("jwtverify: jwks %s: larger than %d bytes", c.url, maxJWKSSize)
	}
	if err != nil {
		return nil, fmt.Errorf("jwtverify: jwks %s: %w", c.url, err)
	}
	keys, err := ParseKeys(body, "")
	if err != nil {
		return nil, fmt.Errorf("jwtverify: jwks %s: %w", c.url, err)
	}
	return keys, nil
}
