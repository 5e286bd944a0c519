package providers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/edgegw/edgegw/manifest"
	"github.com/edgegw/edgegw/render"
)

// CheckTargetName checks a --target value: a registered target, or, with renderOnly, a renderer with no
// provider (`ir`, the IR dump). An old spelling is an error that names the new one; an unknown name lists
// the known ones and the closest.
func CheckTargetName(name string, renderOnly bool) error {
	known := Names()
	if renderOnly {
		for _, r := range render.Names() {
			if !slices.Contains(known, r) {
				known = append(known, r)
			}
		}
		slices.Sort(known)
	}
	if slices.Contains(known, name) {
		return nil
	}
	if to, ok := manifest.RenamedTarget(name); ok {
		return fmt.Errorf("target %q is now called %q: every command names a target the same way (known: %s)", name, to, strings.Join(known, ", "))
	}
	return fmt.Errorf("no such target %q (the targets of this edgegw: %s)", name, strings.Join(known, ", "))
}
