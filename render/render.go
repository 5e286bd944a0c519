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
