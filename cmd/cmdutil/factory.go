package cmdutil

import (
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// Output formats.
const (
	FormatHuman  = "human"
	FormatJSON   = "json"
	FormatGitHub = "github"
)

// IOStreams are the process's streams. Data goes to Out; progress and human messages to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY and ErrTTY say whether the streams are terminals (colour, progress, prompts).
	OutTTY, ErrTTY, InTTY bool
}

// Factory carries the dependencies every command needs, injected so tests can replace them.
type Factory struct {
	IO *IOStreams
	// ManifestPath is the value of -f/--manifest.
	ManifestPath string
	// Format is human, json or github (github is chosen when GITHUB_ACTIONS=true and --format is not set).
	Format string
	// NoColor is --no-color (or NO_COLOR set).
	NoColor bool
	Getenv  func(string) string
	Now     func() time.Time
	// Version is the build's version string.
	Version string

	json *JSONStream // started by JSONStream, for --format json
}

// Color reports whether human output to stderr may use colour.
func (f *Factory) Color() bool { return !f.NoColor && f.IO.ErrTTY && f.Getenv("NO_COLOR") == "" }

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// TestIO returns streams backed by the given writers, none a terminal.
func TestIO(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut}
}
