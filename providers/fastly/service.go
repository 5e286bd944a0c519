package fastly

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/edgegw/edgegw/render"
	fastlyvcl "github.com/edgegw/edgegw/render/fastly"
)

// The artifacts the provider ships. Every `.vcl` artifact is uploaded as a custom VCL file named by its
// path without `.vcl` (`main.vcl` is the main VCL, named "main"); ServiceFile describes the other objects
// of the service version. Any other artifact is refused at plan time.
const (
	MainVCL     = "main.vcl"
	ServiceFile = "service.json"
	// DictionariesFile lists the edge dictionaries the VCL reads and what fills them
	// (render/fastly.DictionarySet); written only when there are some.
	DictionariesFile = fastlyvcl.DictionariesFile
	// VCLMediaType is the media type the renderer gives VCL artifacts.
	VCLMediaType = "text/x-vcl"
	// recordVCL holds the deploy record in each version edgegw makes (see record.go); no artifact may
	// take its name.
	recordVCL = "edgegw_record"
)

// Service is the `service.json` artifact: the contract between the fastly renderer (render/fastly) and
// this provider. It lists the objects of a service version that the VCL needs besides itself, and the
// provider makes the version hold exactly these: every backend, health check and domain of the service
// belongs to the gateway, so the service must be dedicated to it. Dictionaries are not part of it: route
// tables go into VCL `table`s, which are versioned with the VCL and so come back with a rollback, and the
// edge dictionaries the VCL reads (JWT keys and secrets) are listed in DictionariesFile.
//
// The renderer emits it as JSON (unknown fields are an error, so a misspelt field is found at plan time):
//
//	{
//	  "backends": [
//	    {"name": "primary", "address": "api-origin.internal", "port": 443, "use_ssl": true,
//	     "override_host": "api-origin.internal", "ssl_cert_hostname": "api-origin.internal",
//	     "ssl_sni_hostname": "api-origin.internal",
//	     "connect_timeout_ms": 1000, "first_byte_timeout_ms": 10000, "between_bytes_timeout_ms": 10000,
//	     "probe": {"path": "/health", "method": "GET", "host": "api-origin.internal",
//	               "interval_ms": 10000, "timeout_ms": 2000, "threshold": 3, "window": 3,
//	               "initial": 3, "expected_response": 200}},
//	    {"name": "secondary", "address": "api-origin-dr.internal", "port": 443, "use_ssl": true}
//	  ],
//	  "domains": [{"name": "api.example.com"}, {"name": "example.com"}, {"name": "*.api.example.com"}]
//	}
//
// A backend's name is the manifest's origin name; the VCL refers to it as F_<name> (Fastly's prefix, so
// `backend.F_primary.healthy`). A backend with a probe gets a health check of the same name. Numbers left
// out (or 0) keep Fastly's defaults and are not compared; strings left out are compared as empty.
type Service struct {
	Backends []Backend `json:"backends"`
	Domains  []Domain  `json:"domains"`
}

// Backend is one origin of the service.
type Backend struct {
	Name                string `json:"name"`
	Address             string `json:"address"`
	Port                int    `json:"port"`
	UseSSL              bool   `json:"use_ssl,omitempty"`
	OverrideHost        string `json:"override_host,omitempty"`
	SSLCertHostname     string `json:"ssl_cert_hostname,omitempty"`
	SSLSNIHostname      string `json:"ssl_sni_hostname,omitempty"`
	ConnectTimeout      int    `json:"connect_timeout_ms,omitempty"`
	FirstByteTimeout    int    `json:"first_byte_timeout_ms,omitempty"`
	BetweenBytesTimeout int    `json:"between_bytes_timeout_ms,omitempty"`
	Probe               *Probe `json:"probe,omitempty"`
}

// Probe is a backend's active health check.
type Probe struct {
	Path             string `json:"path"`
	Method           string `json:"method,omitempty"` // Fastly's default is HEAD
	Host             string `json:"host,omitempty"`
	Interval         int    `json:"interval_ms,omitempty"`
	Timeout          int    `json:"timeout_ms,omitempty"`
	Threshold        int    `json:"threshold,omitempty"` // healthy probes of Window needed to be healthy
	Window           int    `json:"window,omitempty"`
	Initial          int    `json:"initial,omitempty"`
	ExpectedResponse int    `json:"expected_response,omitempty"`
}

// Domain is a hostname the service answers; a wildcard is written `*.api.example.com`.
type Domain struct {
	Name string `json:"name"`
}

// ParseService reads and checks a service.json artifact.
func ParseService(data []byte) (*Service, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var s Service
	if err := d.Decode(&s); err != nil {
		return nil, fmt.Errorf("providers/fastly: %s: %w (the fastly renderer writes it; see the Service type)", ServiceFile, err)
	}
	seen := map[string]bool{}
	for _, b := range s.Backends {
		switch {
		case b.Name == "":
			return nil, fmt.Errorf("providers/fastly: %s: a backend has no name", ServiceFile)
		case seen[b.Name]:
			return nil, fmt.Errorf("providers/fastly: %s: backend %q is listed twice", ServiceFile, b.Name)
		case b.Address == "":
			return nil, fmt.Errorf("providers/fastly: %s: backend %q has no address", ServiceFile, b.Name)
		case b.Port < 1 || b.Port > 65535:
			return nil, fmt.Errorf("providers/fastly: %s: backend %q: port %d is not 1-65535", ServiceFile, b.Name, b.Port)
		case b.Probe != nil && b.Probe.Path == "":
			return nil, fmt.Errorf("providers/fastly: %s: backend %q: the probe has no path", ServiceFile, b.Name)
		}
		seen[b.Name] = true
	}
	hosts := map[string]bool{}
	for _, dm := range s.Domains {
		if dm.Name == "" || hosts[dm.Name] {
			return nil, fmt.Errorf("providers/fastly: %s: domain %q is empty or listed twice", ServiceFile, dm.Name)
		}
		hosts[dm.Name] = true
	}
	return &s, nil
}

// marshal writes s in a stable form: the live objects as a service.json, for a plan's diff.
func (s *Service) marshal() []byte {
	c := *s
	c.Backends = append([]Backend(nil), s.Backends...)
	c.Domains = append([]Domain(nil), s.Domains...)
	sort.Slice(c.Backends, func(i, j int) bool { return c.Backends[i].Name < c.Backends[j].Name })
	sort.Slice(c.Domains, func(i, j int) bool { return c.Domains[i].Name < c.Domains[j].Name })
	if c.Backends == nil {
		c.Backends = []Backend{}
	}
	if c.Domains == nil {
		c.Domains = []Domain{}
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	return append(b, '\n')
}

// desired is what a plan ships, sorted out by kind.
type desired struct {
	service    *Service
	serviceArt render.Artifact
	vcls       map[string]render.Artifact // by VCL name
	dicts      *fastlyvcl.DictionarySet   // nil without a dictionaries.json
	dictsArt   render.Artifact
}

// vclName is the VCL file name an artifact is uploaded as.
func vclName(path string) string { return strings.TrimSuffix(path, ".vcl") }

// sortArtifacts checks the artifacts and sorts them by kind.
func sortArtifacts(arts []render.Artifact) (*desired, error) {
	d := &desired{vcls: map[string]render.Artifact{}}
	for _, a := range arts {
		switch {
		case a.Path == ServiceFile:
			s, err := ParseService(a.Data)
			if err != nil {
				return nil, err
			}
			d.service, d.serviceArt = s, a
		case a.Path == DictionariesFile:
			set, err := parseDictionaries(a.Data)
			if err != nil {
				return nil, err
			}
			d.dicts, d.dictsArt = set, a
		case strings.HasSuffix(a.Path, ".vcl"):
			if vclName(a.Path) == recordVCL {
				return nil, fmt.Errorf("providers/fastly: artifact %s: the name %s is reserved for edgegw's deploy record", a.Path, recordVCL)
			}
			d.vcls[vclName(a.Path)] = a
		default:
			return nil, fmt.Errorf("providers/fastly: artifact %s (%s): not a .vcl file, %s or %s, and the fastly provider ships nothing else", a.Path, a.MediaType, ServiceFile, DictionariesFile)
		}
	}
	if _, ok := d.vcls[vclName(MainVCL)]; !ok {
		return nil, fmt.Errorf("providers/fastly: the artifacts hold no %s: the fastly renderer must write the main VCL", MainVCL)
	}
	if d.service == nil {
		return nil, fmt.Errorf("providers/fastly: the artifacts hold no %s: the fastly renderer must describe the backends and domains", ServiceFile)
	}
	return d, nil
}
