package manifest

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgegw/edgegw/manifest/ir"
)

// LoadOptions change how a manifest is read.
type LoadOptions struct {
	// ReadFile reads a file named relative to the manifest's directory (key files). Default: the OS file
	// system. `rollback --to REF` passes one that reads from a git tree.
	ReadFile func(rel string) ([]byte, error)
}

// Load reads, validates and compiles the manifest at path. The IR is nil when any error diagnostic exists.
func Load(path string) (*ir.Gateway, Diagnostics) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Diagnostics{{Severity: SeverityError, Code: CodeReadFile,
			Summary: fmt.Sprintf("cannot read the manifest: %v", err),
			Detail:  "pass the manifest with -f/--manifest (default edgegw.yaml in the current directory)",
			Range:   Range{File: path}}}
	}
	dir := filepath.Dir(path)
	return LoadBytes(path, data, LoadOptions{ReadFile: func(rel string) ([]byte, error) {
		if filepath.IsAbs(rel) {
			return os.ReadFile(rel)
		}
		return os.ReadFile(filepath.Join(dir, rel))
	}})
}

// LoadBytes is Load for a manifest already in memory; name is used in diagnostics.
func LoadBytes(name string, data []byte, opts LoadOptions) (*ir.Gateway, Diagnostics) {
	m, diags := Parse(name, data)
	if m == nil {
		diags.Sort()
		return nil, diags
	}
	// Validate even when decoding found problems, so the user sees every problem in one run; values that
	// failed to decode are skipped by validation.
	g, more := Compile(m, opts)
	diags = append(diags, more...)
	diags.Sort()
	if diags.HasErrors() {
		return nil, diags
	}
	return g, diags
}
