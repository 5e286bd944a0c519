// Package root assembles the edgegw command tree: global flags, sub-commands, and the one place where an
// error becomes an exit code.
package root

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	versioncmd "github.com/edgegw/edgegw/cmd/version"
)

// Version is set at build time with -ldflags "-X github.com/edgegw/edgegw/cmd/root.Version=v1.2.3".
var Version = "dev"

// extraCommands are added by command packages that register themselves (see AddCommand).
var extraCommands []func(*cmdutil.Factory) *cobra.Command

// AddCommand registers a sub-command constructor; command packages call it from init.
func AddCommand(newCmd func(*cmdutil.Factory) *cobra.Command) {
	extraCommands = append(extraCommands, newCmd)
}

// NewCmdRoot builds the command tree around f.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "edgegw",
		Short: "One API-gateway manifest, compiled and deployed to every edge",
		Long: `edgegw compiles one provider-neutral API-gateway manifest into edge configuration,
plans and applies it through each vendor's API, checks DNS before a cutover, and rolls back from git.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case format != "":
			case f.Getenv("GITHUB_ACTIONS") == "true":
				format = cmdutil.FormatGitHub
			default:
				format = cmdutil.FormatHuman
			}
			switch format {
			case cmdutil.FormatHuman, cmdutil.FormatJSON, cmdutil.FormatGitHub:
			case "markdown":
				// only `providers` knows markdown; it checks for itself
			default:
				return fmt.Errorf("--format %q: use human, json or github", format)
			}
			f.Format = format
			if jsonStreamed(cmd) {
				f.JSONStream(cmd.Name()) // the version line, before anything the command prints
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVarP(&f.ManifestPath, "manifest", "f", "edgegw.yaml", "the manifest file")
	cmd.PersistentFlags().StringVar(&format, "format", "", "output format: human, json or github (default human; github when GITHUB_ACTIONS=true)")
	cmd.PersistentFlags().BoolVar(&f.NoColor, "no-color", false, "never colour the output")
	cmd.SetOut(f.IO.Out)
	cmd.SetErr(f.IO.ErrOut)
	cmd.SetIn(f.IO.In)

	cmd.AddCommand(versioncmd.NewCmdVersion(f, nil))
	for _, c := range extraCommands {
		cmd.AddCommand(c(f))
	}
	return cmd
}

// Main runs edgegw with the process's arguments and returns the exit code.
func Main() int {
	f := &cmdutil.Factory{IO: cmdutil.SystemIO(), Getenv: os.Getenv, Now: time.Now, Version: Version}
	return Run(f, os.Args[1:])
}

// Run executes the command tree with args and returns the exit code. Signals are handled as
// signals.go says: most commands exit at once, apply and rollback finish the calls in flight first.
func Run(f *cmdutil.Factory, args []string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := NewCmdRoot(f)
	cmd.SetArgs(args)
	defer watchSignals(f, cmd, args, cancel)()
	err := cmd.ExecuteContext(ctx)
	if err != nil && f.Format == "" && jsonRequested(args) {
		// The command failed before its flags were read (an unknown flag or command): the stream still
		// starts with its version line and ends with the summary.
		if c, _, ferr := cmd.Find(args); ferr == nil && jsonStreamed(c) {
			f.Format = cmdutil.FormatJSON
			f.JSONStream(c.Name())
		}
	}
	f.FinishJSON(err)
	code := cmdutil.ExitCode(err)
	if err != nil {
		var silent *cmdutil.SilentError
		if !errors.As(err, &silent) {
			msg := cmdutil.UserMessage(err)
			if !strings.HasPrefix(msg, "edgegw") {
				msg = "edgegw: " + msg
			}
			fmt.Fprintln(f.IO.ErrOut, msg)
		}
	}
	return code
}

// jsonStreamed says whether cmd's --format json output is the NDJSON stream: every command's is, except
// those whose output is a document of its own (cmdutil.AnnotationNoJSONStream) and cobra's help and
// completion commands.
func jsonStreamed(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		switch c.Name() {
		case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
			return false
		}
		if c.Annotations[cmdutil.AnnotationNoJSONStream] != "" {
			return false
		}
	}
	return true
}

// jsonRequested says whether args ask for --format json, for a command line cobra could not parse.
func jsonRequested(args []string) bool {
	for i, a := range args {
		if a == "--format=json" || (a == "--format" && i+1 < len(args) && args[i+1] == "json") {
			return true
		}
	}
	return false
}
