package dnscheck

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the outcome of a Run.
type Report struct {
	Findings []Finding     `json:"findings"`
	Hosts    []HostResult  `json:"hosts"`
	Zones    []ZoneResult  `json:"zones"`
	Queries  int64         `json:"queries"` // DNS messages sent, retransmissions not counted
	Started  time.Time     `json:"started"`
	Elapsed  time.Duration `json:"elapsed"`
}

// Finding is one problem, with the records that show it and what to do.
type Finding struct {
	ID             string   `json:"id"`
	Severity       Severity `json:"severity"`
	Host           string   `json:"host"` // the host, or the zone for zone-wide findings
	Summary        string   `json:"summary"`
	Evidence       []string `json:"evidence,omitempty"` // dig-style lines; ";" lines are comments
	Fix            string   `json:"fix"`
	Suppressed     bool     `json:"suppressed,omitempty"`
	SuppressReason string   `json:"suppress_reason,omitempty"`
}

// HostResult is what the authoritative servers answer for one host.
type HostResult struct {
	Name       string   `json:"name"`
	Zone       string   `json:"zone"`
	Servers    []string `json:"servers"`               // authoritative servers asked
	Records    []string `json:"records"`               // dig-style answer lines from the first server
	Status     Severity `json:"status,omitempty"`      // worst unsuppressed finding; "" = clean
	HTTPStatus int      `json:"http_status,omitempty"` // with Options.HTTP
	Notes      []string `json:"notes,omitempty"`       // checks that could not run, and why
}

// ZoneResult is the state of one configured zone's nameservers.
type ZoneResult struct {
	Name    string         `json:"name"`
	Servers []ServerResult `json:"servers"`
	Error   string         `json:"error,omitempty"`
}

// ServerResult is one nameserver address and its SOA serial, or why it is
// not usable.
type ServerResult struct {
	Server  string `json:"server"`
	Serial  uint32 `json:"serial,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// Blocking reports whether the cutover should stop: an unsuppressed error.
func (r *Report) Blocking() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError && !f.Suppressed {
			return true
		}
	}
	return false
}

// finish applies suppressions, orders findings by host then id (so output
// is stable across runs whatever order queries finished in) and sets each
// host's status.
func (r *Report) finish(cfg Config) {
	for i := range r.Findings {
		f := &r.Findings[i]
		for _, s := range cfg.Suppress {
			if strings.EqualFold(s.ID, f.ID) && (s.Host == "" || strings.EqualFold(display(s.Host), f.Host)) {
				f.Suppressed, f.SuppressReason = true, s.Reason
				break
			}
		}
	}
	order := map[string]int{}
	for i, h := range cfg.Hosts {
		z := strings.ToLower(display(h.Zone))
		if _, ok := order[z]; !ok {
			order[z] = 2 * i
		}
		if _, ok := order[strings.ToLower(display(h.Name))]; !ok {
			order[strings.ToLower(display(h.Name))] = 2*i + 1
		}
	}
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if d := order[strings.ToLower(a.Host)] - order[strings.ToLower(b.Host)]; d != 0 {
			return d
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Summary, b.Summary)
	})
	for i := range r.Hosts {
		h := &r.Hosts[i]
		for _, f := range r.Findings {
			// Zone-wide findings (lame servers, serials) affect every host in the zone.
			if f.Suppressed || !(strings.EqualFold(f.Host, h.Name) || strings.EqualFold(f.Host, h.Zone)) {
				continue
			}
			if h.Status == "" || f.Severity == SeverityError || (f.Severity == SeverityWarning && h.Status == SeverityInfo) {
				h.Status = f.Severity
			}
		}
	}
}

type counts struct{ errors, warnings, infos, suppressed int }

func (r *Report) count() counts {
	var c counts
	for _, f := range r.Findings {
		switch {
		case f.Suppressed:
			c.suppressed++
		case f.Severity == SeverityError:
			c.errors++
		case f.Severity == SeverityWarning:
			c.warnings++
		default:
			c.infos++
		}
	}
	return c
}

// WriteHuman writes a table per host, then every finding with its evidence
// and fix.
func WriteHuman(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	for _, h := range r.Hosts {
		status := string(h.Status)
		if status == "" {
			status = "ok"
		}
		if len(h.Servers) == 0 {
			status = "not checked"
		}
		fmt.Fprintf(ew, "%s  (zone %s)  %s\n", h.Name, h.Zone, status)
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  servers\t%s\n", strings.Join(h.Servers, ", "))
		for i, rec := range h.Records {
			label := ""
			if i == 0 {
				label = "records"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", label, rec)
		}
		if len(h.Records) == 0 && len(h.Servers) > 0 {
			fmt.Fprintf(tw, "  records\t(none)\n")
		}
		if h.HTTPStatus != 0 {
			fmt.Fprintf(tw, "  https\t%d\n", h.HTTPStatus)
		}
		for _, f := range r.Findings {
			if strings.EqualFold(f.Host, h.Name) || strings.EqualFold(f.Host, h.Zone) {
				fmt.Fprintf(tw, "  %s\t%s %s\n", f.ID, label(f), f.Summary)
			}
		}
		for _, n := range h.Notes {
			fmt.Fprintf(tw, "  note\t%s\n", n)
		}
		tw.Flush()
		fmt.Fprintln(ew)
	}
	c := r.count()
	if len(r.Findings) > 0 {
		fmt.Fprintln(ew, "Findings:")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(ew, "\n%s %s %s: %s\n", label(f), f.ID, f.Host, f.Summary)
		for _, e := range f.Evidence {
			fmt.Fprintf(ew, "    %s\n", e)
		}
		fmt.Fprintf(ew, "  fix: %s\n", f.Fix)
		if f.Suppressed {
			fmt.Fprintf(ew, "  suppressed: %s\n", f.SuppressReason)
		}
	}
	fmt.Fprintf(ew, "\n%d host(s), %d error(s), %d warning(s), %d suppressed; %d queries in %s\n",
		len(r.Hosts), c.errors, c.warnings, c.suppressed, r.Queries, r.Elapsed.Round(time.Millisecond))
	return ew.err
}

func label(f Finding) string {
	if f.Suppressed {
		return string(f.Severity) + " (suppressed)"
	}
	return string(f.Severity)
}

// jsonVersion is the version of the NDJSON stream; bump it when a field
// changes meaning or disappears.
const jsonVersion = 1

// WriteJSON writes NDJSON: one {"type":"finding"} line per finding, then one
// {"type":"summary"} line with SummaryFields.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	for _, f := range r.FindingMessages() {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	m := r.SummaryFields()
	m["type"], m["version"] = "summary", jsonVersion
	return enc.Encode(m)
}

// FindingMessages are the report's {"type":"finding"} messages, in order.
func (r *Report) FindingMessages() []any {
	out := make([]any, 0, len(r.Findings))
	for _, f := range r.Findings {
		out = append(out, struct {
			Type string `json:"type"`
			Finding
		}{"finding", f})
	}
	return out
}

// SummaryFields are the counts and per-host results a JSON summary carries.
func (r *Report) SummaryFields() map[string]any {
	c := r.count()
	return map[string]any{"blocking": r.Blocking(), "errors": c.errors, "warnings": c.warnings,
		"infos": c.infos, "suppressed": c.suppressed, "queries": r.Queries, "elapsed_ms": r.Elapsed.Milliseconds(),
		"hosts": r.Hosts, "zones": r.Zones}
}

// WriteGitHub writes GitHub Actions workflow commands, one annotation per
// unsuppressed finding.
func WriteGitHub(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	for _, f := range r.Findings {
		if f.Suppressed {
			continue
		}
		level := map[Severity]string{SeverityError: "error", SeverityWarning: "warning"}[f.Severity]
		if level == "" {
			level = "notice"
		}
		msg := f.Summary
		if len(f.Evidence) > 0 {
			msg += "\n" + strings.Join(f.Evidence, "\n")
		}
		msg += "\nfix: " + f.Fix
		fmt.Fprintf(ew, "::%s title=%s::%s\n", level, ghProperty(f.ID), ghData(msg))
	}
	return ew.err
}

// ghData and ghProperty escape as the Actions runner expects, or a newline
// or "::" in a summary would end the command early.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
