package fastly

import (
	"encoding/json"
	"sort"

	"github.com/edgegw/edgegw/manifest/ir"
)

// ServiceFile is the artifact that lists the service objects besides the VCL (the contract is documented on
// providers/fastly.Service). Backends and their health probes are declared in main.vcl itself, so the
// service holds no API-managed backends; the domains are the manifest's.
const ServiceFile = "service.json"

type serviceDomain struct {
	Name string `json:"name"`
}

type serviceObjects struct {
	Backends []struct{}      `json:"backends"`
	Domains  []serviceDomain `json:"domains"`
}

// serviceJSON renders the service objects of g, sorted so the bytes depend on the IR only.
func serviceJSON(g *ir.Gateway) ([]byte, error) {
	s := serviceObjects{Backends: []struct{}{}, Domains: []serviceDomain{}}
	for _, d := range g.Domains {
		s.Domains = append(s.Domains, serviceDomain{Name: d.Host})
	}
	sort.Slice(s.Domains, func(i, j int) bool { return s.Domains[i].Name < s.Domains[j].Name })
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
