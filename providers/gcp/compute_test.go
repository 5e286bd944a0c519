package gcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	compute "google.golang.org/api/compute/v1"

	"github.com/edgegw/edgegw/providers"
	"github.com/edgegw/edgegw/providers/apitest"
	"github.com/edgegw/edgegw/providers/endpoint"
	"github.com/edgegw/edgegw/providers/gcp"
)

const mapPath = "/compute/v1/projects/p/global/urlMaps/m"

func client(t *testing.T, s *apitest.Server) *gcp.Client {
	t.Helper()
	c, err := gcp.NewClient(context.Background(), gcp.ClientOptions{Project: "p", Getenv: s.Getenv(nil, endpoint.GCP),
		WithoutAuth: true, Poll: time.Millisecond, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fingerprinted answers an update like compute/v1: 412 unless the body carries the live fingerprint.
func fingerprinted(live string, next apitest.Responder) apitest.Responder {
	return func(w http.ResponseWriter, r *apitest.Request) {
		var m compute.UrlMap
		if err := json.Unmarshal(r.Body, &m); err != nil || m.Fingerprint != live {
			apitest.JSON(http.StatusPreconditionFailed, map[string]any{"error": map[string]any{"code": 412, "message": "Precondition Failed", "errors": []map[string]string{{"reason": "conditionNotMet"}}}})(w, r)
			return
		}
		next(w, r)
	}
}

// TestUpdateWithTheFingerprintAndWait: the map is read with its fingerprint, updated with it (a fresh
// requestId each time) and the global operation is waited on until DONE.
func TestUpdateWithTheFingerprintAndWait(t *testing.T) {
	s := apitest.New(t)
	s.Register(apitest.Route("GET", mapPath), apitest.JSON(200, map[string]any{"name": "m", "fingerprint": "fp1"}))
	s.Register(apitest.Route("PUT", mapPath), fingerprinted("fp1", apitest.JSON(200, map[string]any{"name": "op-1", "status": "RUNNING"}))).Times(2)
	s.Register(apitest.Route("POST", "/compute/v1/projects/p/global/operations/op-1/wait"), apitest.JSON(200, map[string]any{"name": "op-1", "status": "RUNNING"}))
	s.Register(apitest.Route("POST", "/compute/v1/projects/p/global/operations/op-1/wait"), apitest.JSON(200, map[string]any{"name": "op-1", "status": "DONE"})).Times(2)
	c := client(t, s)
	live, err := c.GetURLMap(context.Background(), "m")
	if err != nil || live.Fingerprint != "fp1" {
		t.Fatalf("live %+v, %v", live, err)
	}
	for range 2 {
		if err := c.UpdateURLMap(context.Background(), &compute.UrlMap{Name: "m"}, live.Fingerprint); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, r := range s.Requests() {
		if r.Method == "PUT" {
			ids = append(ids, r.Query.Get("requestId"))
		}
	}
	if len(ids) != 2 || ids[0] == "" || ids[0] == ids[1] {
		t.Errorf("requestIds %q: want two different ones", ids)
	}
}

// TestStaleFingerprintIsAStalePlan: a 412 from the update is the engine's stale-plan error, not a retry.
func TestStaleFingerprintIsAStalePlan(t *testing.T) {
	s := apitest.New(t)
	s.Register(apitest.Route("PUT", mapPath), fingerprinted("fp2", apitest.JSON(200, map[string]any{"name": "op-1", "status": "DONE"})))
	err := client(t, s).UpdateURLMap(context.Background(), &compute.UrlMap{Name: "m"}, "fp1")
	var stale *providers.StalePlanError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "fp1") {
		t.Fatalf("error %v, want a stale plan naming fp1", err)
	}
}

// TestFailedOperationAndServerErrors: an operation that ends with errors fails the update with them, and a
// 5xx is retried 3 times, every attempt with the requestId of the first, then reported.
func TestFailedOperationAndServerErrors(t *testing.T) {
	s := apitest.New(t)
	s.Register(apitest.Route("PUT", mapPath), apitest.JSON(200, map[string]any{"name": "op-9", "status": "DONE",
		"error": map[string]any{"errors": []map[string]string{{"code": "RESOURCE_NOT_READY", "message": "backend service not found"}}}}))
	s.Register(apitest.Route("PUT", mapPath), apitest.ServerError(503)).Times(4)
	c := client(t, s)
	err := c.UpdateURLMap(context.Background(), &compute.UrlMap{Name: "m"}, "fp")
	if err == nil || !strings.Contains(err.Error(), "RESOURCE_NOT_READY: backend service not found") {
		t.Fatalf("failed operation: %v", err)
	}
	if err := c.UpdateURLMap(context.Background(), &compute.UrlMap{Name: "m"}, "fp"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("503: %v", err)
	}
	var ids []string
	for _, r := range s.Requests()[1:] {
		ids = append(ids, r.Query.Get("requestId"))
	}
	if len(ids) != 4 || ids[0] == "" || ids[0] != ids[3] || ids[0] != ids[1] {
		t.Errorf("requestIds of the 503'd update %q: want 4 attempts with one requestId", ids)
	}
}

// TestValidateReportsFailedTests: the server-side validation's load errors and failed tests[] are the
// error; a passing validation is none.
func TestValidateReportsFailedTests(t *testing.T) {
	s := apitest.New(t)
	s.Register(apitest.Route("POST", mapPath+"/validate"), apitest.JSON(200, map[string]any{"result": map[string]any{
		"loadSucceeded": true, "testPassed": false,
		"testFailures": []map[string]string{{"host": "api.example.com", "path": "/v2", "expectedService": "svc-a", "actualService": "svc-b"}}}}))
	s.Register(apitest.Route("POST", mapPath+"/validate"), apitest.JSON(200, map[string]any{"result": map[string]any{"loadSucceeded": true, "testPassed": true}}))
	c := client(t, s)
	m := &compute.UrlMap{Name: "m", Tests: []*compute.UrlMapTest{{Host: "api.example.com", Path: "/v2", Service: "svc-a"}}}
	if err := c.ValidateURLMap(context.Background(), m); err == nil || !strings.Contains(err.Error(), "expected svc-a, got svc-b") {
		t.Fatalf("error %v", err)
	}
	if err := c.ValidateURLMap(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var body compute.UrlMapsValidateRequest
	if err := json.Unmarshal(s.Requests()[0].Body, &body); err != nil || body.Resource == nil || body.LoadBalancingSchemes[0] != "EXTERNAL_MANAGED" {
		t.Errorf("validate body %+v, %v", body, err)
	}
}

// TestMissingMapIsNil: no live map is not an error (the first deploy creates it).
func TestMissingMapIsNil(t *testing.T) {
	s := apitest.New(t)
	s.Register(apitest.Route("GET", mapPath), apitest.JSON(404, map[string]any{"error": map[string]any{"code": 404, "message": "not found"}}))
	m, err := client(t, s).GetURLMap(context.Background(), "m")
	if err != nil || m != nil {
		t.Fatalf("%v, %v", m, err)
	}
}
