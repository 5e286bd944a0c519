package manifest

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"

	"github.com/edgegw/edgegw/manifest/ir"
)

// DefaultTarget is the target a manifest without a `targets:` section deploys to: the embedded one.
const DefaultTarget = "local"

// TargetBlock is how one `targets.<name>` block is read. Each target owns its block: its package registers it
// (through providers.Register) and the manifest decodes it strictly into the block's own type, with positions,
// then asks the block to check it. The manifest knows no target by name.
type TargetBlock struct {
	Name string
	// OldNames are earlier spellings of the target name; a manifest using one is told the new name.
	OldNames []string
	// New returns a pointer to a zero value of the block's settings type. Its yaml tags are the keys a manifest
	// may write, and the JSON Schema of the block; jsonschema:"required" marks required keys.
	New func() any
	// Check reports problems in decoded settings; nil when every value is acceptable as decoded.
	Check func(cfg any) []BlockProblem
}

// BlockProblem is one problem in a target block. Field is relative to the block ("account_id").
type BlockProblem struct {
	Field   string
	Code    string
	Summary string
	Fix     string
}

// MissingField reports a required key that is absent or empty.
func MissingField(field, fix string) BlockProblem {
	return BlockProblem{Field: field, Code: CodeRequired, Summary: field + " is missing", Fix: fix}
}

// InvalidField reports a value that cannot be used.
func InvalidField(field, fix, format string, args ...any) BlockProblem {
	return BlockProblem{Field: field, Code: CodeInvalidValue, Summary: fmt.Sprintf(format, args...), Fix: fix}
}

var (
	blockMu sync.RWMutex
	blocks  = map[string]TargetBlock{}
)

// RegisterTargetBlock adds a target's block. It panics on a duplicate or incomplete block: both are
// programming errors found at start-up.
func RegisterTargetBlock(b TargetBlock) {
	blockMu.Lock()
	defer blockMu.Unlock()
	if b.Name == "" || b.New == nil {
		panic("manifest: target block without a name or a settings type")
	}
	if _, dup := blocks[b.Name]; dup {
		panic("manifest: target block registered twice: " + b.Name)
	}
	if k := reflect.TypeOf(b.New()); k == nil || k.Kind() != reflect.Pointer || k.Elem().Kind() != reflect.Struct {
		panic("manifest: target block " + b.Name + ": New must return a pointer to a struct")
	}
	blocks[b.Name] = b
}

// LookupTargetBlock returns the block registered for a target name.
func LookupTargetBlock(name string) (TargetBlock, bool) {
	blockMu.RLock()
	defer blockMu.RUnlock()
	b, ok := blocks[name]
	return b, ok
}

// TargetNames lists the registered target names, sorted.
func TargetNames() []string {
	blockMu.RLock()
	defer blockMu.RUnlock()
	out := make([]string, 0, len(blocks))
	for n := range blocks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// RenamedTarget returns the current name of a target once spelt old.
func RenamedTarget(old string) (string, bool) {
	blockMu.RLock()
	defer blockMu.RUnlock()
	for _, b := range blocks {
		for _, o := range b.OldNames {
			if o == old {
				return b.Name, true
			}
		}
	}
	return "", false
}

// TargetBlocks is the `targets:` section as decoded: each target's settings, of its block's own type.
type TargetBlocks map[string]any

var targetBlocksType = reflect.TypeOf(TargetBlocks{})

// decodeTargets decodes each key of `targets:` into the type its registered block declares.
func (d *decoder) decodeTargets(n ast.Node, v reflect.Value, path string) {
	out := TargetBlocks{}
	d.eachKey(n, path, v.Type(), func(key string, kr Range, value ast.Node) {
		p := joinPath(path, key)
		d.keyPos[p] = kr
		b, ok := LookupTargetBlock(key)
		if !ok {
			d.failed[p] = true
			if now, renamed := RenamedTarget(key); renamed {
				d.errorf(kr, CodeUnknownKey, "rename the block to "+strconv.Quote(now), "target %q is now called %q", key, now)
				return
			}
			names := TargetNames()
			detail := "targets in this edgegw: " + strings.Join(names, ", ")
			if s := suggest(key, names); s != "" {
				detail = "did you mean " + strconv.Quote(s) + "? " + detail
			}
			d.errorf(kr, CodeUnknownKey, detail, "unknown target %q in targets", key)
			return
		}
		cfg := reflect.New(reflect.TypeOf(b.New()).Elem())
		d.decode(value, cfg.Elem(), p)
		out[key] = cfg.Interface()
	})
	v.Set(reflect.ValueOf(out))
}

// compileTargets turns the decoded blocks into the IR's opaque target list and lets each block check its own
// settings, reported at the key they concern.
func (c *compiler) compileTargets() {
	names := make([]string, 0, len(c.m.Targets))
	for n := range c.m.Targets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cfg := c.m.Targets[name]
		path := "targets." + name
		t := ir.Target{Name: name, Config: cfg, Pos: c.pos(path)}
		if cl, ok := cfg.(ir.Companioned); ok {
			t.Companions = cl.CompanionList()
		}
		if b, ok := LookupTargetBlock(name); ok && b.Check != nil && !c.src.Failed(path) {
			for _, p := range b.Check(cfg) {
				fp := path
				if p.Field != "" {
					fp = path + "." + p.Field
				}
				c.errorAt(fp, p.Code, p.Fix, "%s: %s", displayPath(path), p.Summary)
			}
		}
		c.g.Targets = append(c.g.Targets, t)
	}
	if len(c.g.Targets) == 0 {
		t := ir.Target{Name: DefaultTarget}
		if b, ok := LookupTargetBlock(DefaultTarget); ok {
			t.Config = b.New()
		}
		c.g.Targets = ir.Targets{t}
	}
}
