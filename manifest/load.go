package manifest

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/edgegw/edgegw/internal/boundedio"

	"github.com/edgegw/edgegw/manifest/ir"
)

// LoadOptions change how a manifest is read.
type LoadOptions struct {
	// ReadFile reads a file named relative to the manifest's directory (key files). Default: the OS file
	// system. `rollback --to REF` passes one that reads from a git tree.
	ReadFile func(rel string) ([]byte, error)
}

// Load reads, validates and compiles the manifest at path ("-" or /dev/stdin: the standard input). The IR
// is nil when any error diagnostic exists.
func Load(path string) (*ir.Gateway, Diagnostics) {
	data, err := ReadManifest(path)
	if err != nil {
		return nil, Diagnostics{readDiagnostic(path, err)}
	}
	return LoadBytes(path, data, LoadOptions{ReadFile: DirReader(manifestDir(path))})
}

// ReadManifest reads the manifest at path, or the standard input for "-" and /dev/stdin, refusing it after
// MaxFileBytes+1 bytes, and refusing a path that is not a regular file (a device or FIFO never ends).
func ReadManifest(path string) ([]byte, error) { return boundedio.ReadInput(path, MaxFileBytes) }

// DirReader is the LoadOptions.ReadFile of a manifest in dir: a key file is named relative to dir (or
// absolute), must be a regular file and is read no further than MaxKeyFileBytes+1 bytes.
func DirReader(dir string) func(rel string) ([]byte, error) {
	return func(rel string) ([]byte, error) {
		if !filepath.IsAbs(rel) {
			rel = filepath.Join(dir, rel)
		}
		return boundedio.ReadFile(rel, MaxKeyFileBytes)
	}
}

// manifestDir is where the files a manifest names are looked for: beside it, or the current directory for
// a manifest read from the standard input.
func manifestDir(path string) string {
	if boundedio.IsStdin(path) {
		return "."
	}
	return filepath.Dir(path)
}

func readDiagnostic(path string, err error) Diagnostic {
	var tooLarge *boundedio.TooLargeError
	var notRegular *boundedio.NotRegularError
	switch {
	case errors.As(err, &tooLarge):
		return Diagnostic{Severity: SeverityError, Code: CodeLimit, Range: Range{File: path},
			Summary: fmt.Sprintf("the manifest is larger than %d bytes, the limit", MaxFileBytes),
			Detail:  sizeFix}
	case errors.As(err, &notRegular):
		return Diagnostic{Severity: SeverityError, Code: CodeReadFile, Range: Range{File: path},
			Summary: fmt.Sprintf("cannot read the manifest: %s is %s, not a file", path, notRegular.Kind()),
			Detail:  "pass a manifest file with -f/--manifest, or -f - to read it from the standard input"}
	}
	return Diagnostic{Severity: SeverityError, Code: CodeReadFile,
		Summary: fmt.Sprintf("cannot read the manifest: %v", err),
		Detail:  "pass the manifest with -f/--manifest (default edgegw.yaml in the current directory)",
		Range:   Range{File: path}}
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
