// Package render owns the registry of renderers: pure functions from the IR to the bytes a target deploys.
//
// A renderer never talks to a network, reads the clock or the environment, or re-sorts routes: the same IR
// gives the same artifacts, byte for byte. Target packages (render/<target>) register themselves in init and
// are linked in by a blank import in cmd.
package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/manifest/ir"
)

// Artifact is one file a target deploys.
type Artifact struct {
	Target string // the target or renderer name, e.g. "ir", "local"
	Path   string // slash-separated, relative to the target's folder, e.g. "worker.js"
	// MediaType tells providers how to upload it, e.g. "application/javascript+module".
	MediaType string
	Data      []byte
	// Canonical is the digest of the same artifact rendered from the IR without positions, when that differs
	// from Digest (a renderer that cites manifest lines in comments). Whether a target changed is decided on
	// it, so a comment-only edit of the manifest redeploys nothing.
	Canonical string
	// MaxBytes is the target's limit on the artifact's size (0: none), set by a renderer whose target has
	// one (a CloudFront Function's 10,240 bytes of code): plan reports the size against it, and a larger
	// artifact never reaches a plan.
	MaxBytes int
}

// RouteError is a render failure caused by one route (a table the target cannot hold, a construct it cannot
// express). Renderers return it so the failure is reported at the route's manifest position.
type RouteError struct {
	Route string
	Err   error
}

func (e *RouteError) Error() string { return fmt.Sprintf("route %q: %v", e.Route, e.Err) }
func (e *RouteError) Unwrap() error { return e.Err }

// DecisionDigest is the digest that decides whether the artifact changed: Canonical when set, else Digest.
func (a Artifact) DecisionDigest() string {
	if a.Canonical != "" {
		return a.Canonical
	}
	return a.Digest()
}

// Canonicalize sets Canonical on arts (rendered from g) by rendering g without positions with r. A renderer
// whose canonical output has other files than its full output is broken.
func Canonicalize(r Renderer, g *ir.Gateway, arts []Artifact) error {
	bare, err := g.WithoutPositions()
	if err != nil {
		return err
	}
	canon, err := r.Render(bare)
	if err != nil {
		return fmt.Errorf("render: %s without positions: %w", r.Name(), err)
	}
	if len(canon) != len(arts) {
		return fmt.Errorf("render: %s renders %d files without positions, %d with them", r.Name(), len(canon), len(arts))
	}
	for i := range arts {
		if canon[i].Path != arts[i].Path {
			return fmt.Errorf("render: %s renders %s without positions where it renders %s with them", r.Name(), canon[i].Path, arts[i].Path)
		}
		if d := canon[i].Digest(); d != arts[i].Digest() {
			arts[i].Canonical = d
		}
	}
	return nil
}

// Digest is the hex SHA-256 of the artifact's bytes, used in plans and deploy records.
func (a Artifact) Digest() string {
	s := sha256.Sum256(a.Data)
	return hex.EncodeToString(s[:])
}

// Renderer turns the IR into a target's artifacts.
type Renderer interface {
	// Name is the value of `--target` that selects this renderer.
	Name() string
	// Render must be deterministic and must not mutate g.
	Render(g *ir.Gateway) ([]Artifact, error)
}

var (
	mu        sync.RWMutex
	renderers = map[string]Renderer{}
)

// Register adds a renderer. It panics on a duplicate name: that is a programming error found at start-up.
func Register(r Renderer) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := renderers[r.Name()]; dup {
		panic("render: renderer registered twice: " + r.Name())
	}
	renderers[r.Name()] = r
}

// Lookup returns the renderer for a target name.
func Lookup(name string) (Renderer, error) {
	mu.RLock()
	defer mu.RUnlock()
	r, ok := renderers[name]
	if !ok {
		return nil, fmt.Errorf("render: no such target %q (targets: %s)", name, strings.Join(namesLocked(), ", "))
	}
	return r, nil
}

// Names lists the registered renderers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	n := make([]string, 0, len(renderers))
	for k := range renderers {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
