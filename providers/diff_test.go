package providers_test

import (
	"strings"
	"testing"

	"github.com/edgegw/edgegw/manifest/ir"
	"github.com/edgegw/edgegw/providers"
)

func TestGatewayChanges(t *testing.T) {
	old := gateway("keep", "edit", "gone", "last")
	neu := gateway("keep", "edit", "last", "added")
	neu.Routes[1].Match.Path = "/edited"
	neu.Routes[0].Pos.Line = 99 // moving a line is not a change
	neu.Domains = append(neu.Domains, ir.Domain{Host: "example.com", Zone: "example.com", Apex: true})
	var got []string
	for _, c := range providers.GatewayChanges(old, neu) {
		s := string(c.Action) + " " + c.Kind + " " + c.Name
		if c.Apex {
			s += " (apex)"
		}
		got = append(got, s)
	}
	// "last" moved from 4th to 3rd place in the precedence order: an update.
	want := "update route edit, update route last, create route added, delete route gone, create domain example.com (apex)"
	if g := strings.Join(got, ", "); g != want {
		t.Errorf("changes\n got %s\nwant %s", g, want)
	}
	if c := providers.GatewayChanges(nil, old); len(c) != 5 || c[0].Action != providers.Create {
		t.Errorf("from nothing: %+v", c)
	}
	if c := providers.GatewayChanges(old, old); len(c) != 0 {
		t.Errorf("no change: %+v", c)
	}
}
