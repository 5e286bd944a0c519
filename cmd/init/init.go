// Package initcmd implements `edgegw init`: start a project in the current folder with a starter manifest,
// the JSON Schema its first line points editors at, and a .gitignore that keeps the local target's
// versions out of git. It never overwrites a file.
package initcmd

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/manifest"
)

// Starter is the manifest init writes: testdata/examples/quickstart.yaml with a $schema line that points at
// the schema file written beside it (a test keeps the two in step).
//
//go:embed starter.yaml
var Starter []byte

// SchemaFile is the name of the schema written next to the manifest; Starter's first line refers to it.
const SchemaFile = "edgegw.schema.json"

// Options are the inputs of `edgegw init`.
type Options struct {
	IO           *cmdutil.IOStreams
	ManifestPath string
}

func init() { root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdInit(f, nil) }) }

// NewCmdInit builds the command; runF replaces the behaviour in tests.
func NewCmdInit(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:   "init",
		Short: "Start a project: a starter manifest, its JSON Schema and a .gitignore",
		Long: `Write a starter manifest (edgegw.yaml, or the file -f names), the manifest's JSON Schema beside it
(edgegw.schema.json, which the manifest's first line points editors at) and a .gitignore holding .edgegw/,
where the local target keeps its versions. Existing files are never overwritten: init stops before writing
anything when the manifest or the schema exists, and adds .edgegw/ to an existing .gitignore.`,
		Example: `  mkdir demo && cd demo && git init
  edgegw init
  edgegw validate && edgegw test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ManifestPath = f.ManifestPath
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
}

// Run writes the files.
func Run(o *Options) error {
	dir := filepath.Dir(o.ManifestPath)
	schemaPath := filepath.Join(dir, SchemaFile)
	for _, p := range []string{o.ManifestPath, schemaPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("init: %s already exists; nothing was written: edit it, or run init in an empty folder (or with -f new.yaml)", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("init: %w", err)
		}
	}
	schema, err := manifest.JSONSchema()
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	for _, w := range []struct {
		path string
		data []byte
	}{{o.ManifestPath, Starter}, {schemaPath, schema}} {
		if err := createNew(w.path, w.data); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "wrote %s\n", w.path)
	}
	if err := ignoreLocalTarget(o, filepath.Join(dir, ".gitignore")); err != nil {
		return err
	}
	manifestFlag := ""
	if filepath.Clean(o.ManifestPath) != "edgegw.yaml" {
		manifestFlag = " -f " + o.ManifestPath
	}
	fmt.Fprintf(o.IO.ErrOut, "next: edgegw validate%s && edgegw test%s && edgegw apply%s --auto-approve\n", manifestFlag, manifestFlag, manifestFlag)
	return nil
}

// createNew writes a file that must not exist yet (O_EXCL: a file created since the check is not clobbered).
func createNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("init: %s already exists; remove it or run init in an empty folder", path)
		}
		return fmt.Errorf("init: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("init: write %s: %w", path, err)
	}
	return f.Close()
}

// ignoreLocalTarget makes sure .gitignore holds .edgegw/: created when missing, appended to otherwise.
func ignoreLocalTarget(o *Options, path string) error {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := createNew(path, []byte(".edgegw/\n")); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "wrote %s\n", path)
		return nil
	case err != nil:
		return fmt.Errorf("init: %w", err)
	}
	for _, l := range strings.Split(string(old), "\n") {
		if l = strings.TrimSpace(l); l == ".edgegw/" || l == ".edgegw" || l == "/.edgegw/" || l == "/.edgegw" {
			return nil
		}
	}
	add := ".edgegw/\n"
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		add = "\n" + add
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if _, err := f.WriteString(add); err != nil {
		f.Close()
		return fmt.Errorf("init: write %s: %w", path, err)
	}
	fmt.Fprintf(o.IO.ErrOut, "added .edgegw/ to %s\n", path)
	return f.Close()
}
