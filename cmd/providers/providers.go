// Package providers implements `edgegw providers`: the capability matrix of every provider built into
// this edgegw (what each target enforces natively, and how, or why not), generated from the registry. With
// --format markdown it prints the README's table. `edgegw validate --target` runs the same check itself.
package providers

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/edgegw/edgegw/cmd/cmdutil"
	"github.com/edgegw/edgegw/cmd/root"
	"github.com/edgegw/edgegw/gateway/testrun"
	"github.com/edgegw/edgegw/providers"
)

// FormatMarkdown is the extra format this command knows.
const FormatMarkdown = "markdown"

// Options are the inputs of `edgegw providers`.
type Options struct {
	IO     *cmdutil.IOStreams
	Format string
	JSON   *cmdutil.JSONStream // --format json: one provider line each, the features in the summary
}

func init() {
	root.AddCommand(func(f *cmdutil.Factory) *cobra.Command { return NewCmdProviders(f, nil) })
}

// NewCmdProviders builds the command; runF replaces the behaviour in tests.
func NewCmdProviders(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IO}
	return &cobra.Command{
		Use:   "providers",
		Short: "Print the capability matrix: what each target can enforce, and how",
		Long: `Print, for every provider built into this edgegw, whether it enforces each gateway feature natively,
with the reason, and the companion a manifest can opt into where it cannot. --format markdown prints the
table the README embeds; --format json one line per provider, in the NDJSON stream every command writes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Format, opts.JSON = f.Format, f.JSONStream(cmd.Name())
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
}

// Run prints the matrix.
func Run(o *Options) error {
	regs := providers.Registrations()
	switch o.Format {
	case FormatMarkdown:
		_, err := io.WriteString(o.IO.Out, Markdown(regs))
		return err
	case cmdutil.FormatJSON:
		type entry struct {
			Type         string                                  `json:"type"`
			Name         string                                  `json:"name"`
			Renderer     string                                  `json:"renderer"`
			Credentials  string                                  `json:"credentials"`
			Capabilities map[providers.Feature]providers.Support `json:"capabilities"`
			NotReverted  []string                                `json:"not_reverted,omitempty"`
			NotBuilt     []string                                `json:"not_built,omitempty"`
		}
		enc := json.NewEncoder(o.IO.Out)
		for _, r := range regs {
			var caps map[providers.Feature]providers.Support
			if r.Capabilities != nil {
				caps = map[providers.Feature]providers.Support{}
				for _, f := range providers.AllFeatures {
					caps[f] = r.Capabilities.Get(f)
				}
			}
			e := entry{"provider", r.Name, r.Renderer, r.Credentials, caps, r.NotReverted, notBuilt(r)}
			if o.JSON != nil {
				o.JSON.Emit(e)
			} else if err := enc.Encode(e); err != nil {
				return err
			}
		}
		o.JSON.Set("features", providers.AllFeatures)
		return nil
	default:
		tw := tabwriter.NewWriter(o.IO.Out, 2, 4, 2, ' ', 0)
		fmt.Fprint(tw, "FEATURE")
		for _, r := range regs {
			fmt.Fprint(tw, "\t"+strings.ToUpper(r.Name))
		}
		fmt.Fprintln(tw)
		fmt.Fprint(tw, "built")
		for _, r := range regs {
			fmt.Fprint(tw, "\t"+built(r, false))
		}
		fmt.Fprintln(tw)
		for _, f := range providers.AllFeatures {
			fmt.Fprint(tw, f)
			for _, r := range regs {
				fmt.Fprint(tw, "\t"+capCell(r, f, false))
			}
			fmt.Fprintln(tw)
		}
		return tw.Flush()
	}
}

// built says whether this edgegw can check, render and deploy the target.
// notBuilt lists what this edgegw lacks of a target, its test engine (the real runtime the conformance
// suite runs its artifact in) included.
func notBuilt(r providers.Registration) []string {
	missing := r.NotBuilt()
	if _, ok := testrun.LookupEngine(r.Name); !ok {
		missing = append(missing, "test engine")
	}
	return missing
}

func built(r providers.Registration, md bool) string {
	missing := notBuilt(r)
	switch {
	case len(missing) == 0 && md:
		return "✅"
	case len(missing) == 0:
		return "yes"
	case md:
		return "🚧 not yet: " + strings.Join(missing, ", ")
	}
	return "not yet: " + strings.Join(missing, ", ")
}

// capCell is one target's support of a feature; a target without a capability table shows a dash.
func capCell(r providers.Registration, f providers.Feature, md bool) string {
	if r.Capabilities == nil {
		return "—"
	}
	return cell(r.Capabilities.Get(f), md)
}

func cell(s providers.Support, md bool) string {
	mark := "no"
	switch {
	case s.Supported && len(s.Constraints) > 0:
		mark = "limited"
		if md {
			mark = "⚠️"
		}
	case s.Supported:
		mark = "yes"
		if md {
			mark = "✅"
		}
	case md:
		mark = "❌"
	}
	c := mark + " " + s.Reason
	for _, k := range s.Constraints {
		c += "; " + k.Limit
	}
	if s.Companion != "" {
		if md {
			c += fmt.Sprintf(" — companion `%s`: %s", s.Companion, s.CompanionReason)
		} else {
			c += fmt.Sprintf(" (companion %s: %s)", s.Companion, s.CompanionReason)
		}
		for _, k := range s.CompanionConstraints {
			c += "; " + k.Limit
		}
	}
	if md {
		c = strings.ReplaceAll(c, "|", "\\|")
	}
	return c
}

// Markdown is the matrix as the README's table, generated from the registry.
func Markdown(regs []providers.Registration) string {
	var b strings.Builder
	b.WriteString("| feature |")
	for _, r := range regs {
		fmt.Fprintf(&b, " %s |", r.Name)
	}
	b.WriteString("\n|---|")
	for range regs {
		b.WriteString("---|")
	}
	b.WriteString("\n| built |")
	for _, r := range regs {
		fmt.Fprintf(&b, " %s |", built(r, true))
	}
	b.WriteString("\n")
	for _, f := range providers.AllFeatures {
		fmt.Fprintf(&b, "| `%s` |", f)
		for _, r := range regs {
			fmt.Fprintf(&b, " %s |", capCell(r, f, true))
		}
		b.WriteString("\n")
	}
	b.WriteString("| credentials |")
	for _, r := range regs {
		fmt.Fprintf(&b, " %s |", r.Credentials)
	}
	b.WriteString("\n")
	return b.String()
}
