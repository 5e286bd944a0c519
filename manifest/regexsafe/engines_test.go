package regexsafe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgegw/edgegw/internal/testenv"
)

// portableCorners are accepted patterns that exercise the edges of the subset rather than typical routes.
var portableCorners = []string{
	`^/a\b`, `\Bb\B`, `^/[\]\[]+$`, `^/[\^a]$`, `^/[a^]$`, `^/\-\/\.\*\+\?\(\)\{\}\|\$\^$`, `^/[\-]$`,
	`^/[!-~]+$`, `^/[^a-z]+$`, `^/\S+\s*$`, `^/\W\w\D\d$`, `[\t\n\r\f]`, `^/a*?b+?c??d{1,2}?$`, `^/x{0}y$`,
	`^/(|a)(b|)$`, `^/a|^/b$|c`, `$^`, `^/[--/]+$`, `^/[%:@!$&'()*+,;=]+$`, `^/~user$`, `^/a]b}c$`,
	"^/\\!\\\"\\#\\%\\&\\'\\,\\:\\;\\<\\=\\>\\@\\_\\`\\~\\ $", `^/[a[]+$`, `^/[\.\/\^\-\]\\]+$`, `^/x{0,0}y$`,
	`^/[a&&b]+$`, `^/a(?:b(?:c(?:d)?)?)?$`,
}

// TestEnginesAgree runs every accepted pattern of the tests in JavaScript (node, the engine behind Workers)
// and in Perl (whose regex dialect PCRE copies, and which is installed nearly everywhere), on paths generated
// from each pattern and near misses, and requires the decision Go makes. It also times JavaScript on long
// paths built to make backtracking engines struggle: an accepted pattern must stay fast there.
func TestEnginesAgree(t *testing.T) {
	type testCase struct {
		Pattern  string   `json:"pattern"`
		Subjects []string `json:"subjects"`
	}
	attacks := []string{}
	for _, unit := range []string{"a", "a/", "0", "a-", "a.", "/", "%41", "ab", "-a"} {
		body := strings.Repeat(unit, 2000/len(unit))
		attacks = append(attacks, "/"+body, "/"+body+"!", "/"+body+"\x01")
	}
	var cases []testCase
	var want [][]bool
	for _, p := range append(append([]string{}, safePatterns...), portableCorners...) {
		if prob := Check(p); prob != nil {
			t.Fatalf("Check(%q) = %v; every pattern here must be accepted", p, prob)
		}
		re := regexp.MustCompile(p)
		subjects := samplePaths(p, 80)
		var w []bool
		for _, s := range subjects {
			w = append(w, re.MatchString(s))
		}
		cases = append(cases, testCase{Pattern: p, Subjects: subjects})
		want = append(want, w)
	}
	input, err := json.Marshal(map[string]any{"cases": cases, "attacks": attacks})
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		Matches [][]bool  `json:"matches"`
		Millis  []float64 `json:"millis"`
	}
	run := func(t *testing.T, name string, args ...string) result {
		out := runEngine(t, "to check the patterns against its regex engine", input, name, args...)
		var r result
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%s: bad output: %v", name, err)
		}
		if len(r.Matches) != len(cases) {
			t.Fatalf("%s: %d results for %d patterns", name, len(r.Matches), len(cases))
		}
		return r
	}
	compare := func(t *testing.T, engine string, r result) {
		for i, c := range cases {
			for j, s := range c.Subjects {
				if r.Matches[i][j] != want[i][j] {
					t.Errorf("%s decides %q on %q as %v, Go as %v", engine, c.Pattern, s, r.Matches[i][j], want[i][j])
				}
			}
		}
	}

	t.Run("javascript", func(t *testing.T) {
		r := run(t, "node", "-e", `
const {cases, attacks} = JSON.parse(require("fs").readFileSync(0, "utf8"));
const matches = [], millis = [];
for (const c of cases) {
  const re = new RegExp(c.pattern);
  matches.push(c.subjects.map(s => re.test(s)));
  const start = process.hrtime.bigint();
  for (const s of attacks) re.test(s);
  millis.push(Number(process.hrtime.bigint() - start) / 1e6);
}
process.stdout.write(JSON.stringify({matches, millis}));
`)
		compare(t, "JavaScript", r)
		for i, ms := range r.Millis {
			// Linear or mildly polynomial patterns take well under 100 ms on these paths; the exponential
			// shapes Check rejects take hours.
			if ms > 2000 {
				t.Errorf("JavaScript took %.0f ms on long paths for accepted pattern %q", ms, cases[i].Pattern)
			}
		}
	})
	t.Run("perl", func(t *testing.T) {
		r := run(t, "perl", "-MJSON::PP", "-e", `
local $/;
my $cases = decode_json(<STDIN>)->{cases};
my @matches;
for my $c (@$cases) {
  my $re = qr/$c->{pattern}/;
  push @matches, [map { $_ =~ $re ? JSON::PP::true : JSON::PP::false } @{$c->{subjects}}];
}
print encode_json({matches => \@matches});
`)
		compare(t, "Perl", r)
	})
}

// familyCase is a generated pattern with the string to pump it with.
type familyCase struct {
	Pattern string `json:"pattern"`
	Unit    string `json:"unit"` // repeated, then followed by a character nothing in the pattern matches
	Pumps   int    `json:"pumps"`
	bad     bool   // known to backtrack exponentially: Check must reject it
}

// countedFamily generates counted repeats of nullable or variable-length bodies, and the same written out,
// followed by text they overlap with, for n from 5 to 30; and near misses that divide text one way only.
func countedFamily() []familyCase {
	type shape struct {
		body, after, unit string // after takes %d: n
		ambiguous         bool   // n copies of body divide text in about 2^n ways
	}
	shapes := []shape{
		{`(a?)`, `a{%d}`, "a", true},
		{`(?:a?)`, `a+`, "a", true},
		{`([a-z]?)`, `[a-z]{%d}`, "a", true},
		{`(\d?)`, `\d{%d}`, "1", true},
		{`((?:ab)?)`, `(?:ab){%d}`, "ab", true},
		{`(a|)`, `a{%d}`, "a", true},
		{`(a?b?)`, `a{%d}`, "a", true},
		{`([ab]?)`, `b{%d}`, "b", true},
		{`(a?)`, `a*`, "a", true},
		{`(a{0,2})`, `a{%d}`, "a", true},
		{`(a|aa)`, `a{%d}`, "a", true},
		{`(a{1,2})`, `a{%d}`, "a", true},
		{`(a?a)`, `a{%d}`, "a", true},
		// Near misses: each copy needs a character the others cannot take, or has one length.
		{`(a?b)`, `a{%d}`, "ab", false},
		{`(ab?)`, `a{%d}`, "ab", false},
		{`(a{2})`, `a{%d}`, "a", false},
		{`(\.[0-9]{1,3})`, `\.[0-9]{%d}`, ".1", false},
		{`(-[a-z]{0,3})`, `-a{%d}`, "-a", false},
		{`([0-9]{1,3}\.)`, `[0-9]{%d}`, "1.", false},
	}
	var out []familyCase
	for _, n := range []int{5, 6, 8, 9, 10, 12, 16, 20, 25, 26, 30} {
		for _, s := range shapes {
			after := s.after
			if strings.Contains(after, "%d") {
				after = fmt.Sprintf(after, n)
			}
			pumps := 2*n + 2
			bad := s.ambiguous && n >= 10
			counted := fmt.Sprintf("%s{%d}%s", s.body, n, after)
			out = append(out,
				familyCase{Pattern: "^" + counted + "$", Unit: s.unit, Pumps: pumps, bad: bad},
				familyCase{Pattern: counted, Unit: s.unit, Pumps: pumps, bad: bad})
			if q := strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(s.body, "("), ")"), "?:"); s.ambiguous && strings.HasSuffix(q, "?") {
				// The same copies written out: a?a?a?...a{n}.
				out = append(out, familyCase{Pattern: "^" + strings.Repeat(q, n) + after + "$", Unit: s.unit, Pumps: pumps, bad: bad})
			}
		}
	}
	return out
}

// TestCountedRepeatsStayFast times, in JavaScript and Perl, every pattern of countedFamily that Check accepts,
// on its unit pumped 1, 2, ... times and followed by a character that makes the match fail; it stops pumping
// a pattern once it is over the budget. An accepted pattern must stay within it, and the known exponential
// ones must be rejected.
func TestCountedRepeatsStayFast(t *testing.T) {
	const budgetMillis = 2000
	var accepted []familyCase
	for _, c := range countedFamily() {
		prob := Check(c.Pattern)
		if c.bad && prob == nil {
			t.Errorf("Check(%q) = nil; it backtracks exponentially and must be rejected", c.Pattern)
		}
		if prob == nil {
			accepted = append(accepted, c)
		}
	}
	if len(accepted) == 0 {
		t.Fatal("no generated pattern is accepted; the family tests nothing")
	}
	input, err := json.Marshal(map[string]any{"cases": accepted, "budget": budgetMillis})
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, name string, args ...string) {
		out := runEngine(t, "to time the patterns in its regex engine", input, name, args...)
		var millis []float64
		if err := json.Unmarshal(out, &millis); err != nil || len(millis) != len(accepted) {
			t.Fatalf("%s: bad output (%v): %.200s", name, err, out)
		}
		worst, untimed := 0, 0
		for i, ms := range millis {
			if ms < 0 {
				untimed++
				continue
			}
			if ms > budgetMillis {
				t.Errorf("%s took over %.0f ms on %q pumped up to %d times, accepted pattern %q", name, ms, accepted[i].Unit, accepted[i].Pumps, accepted[i].Pattern)
			}
			if ms > millis[worst] {
				worst = i
			}
		}
		if untimed > 0 {
			t.Errorf("%s: %d accepted patterns not timed: the slow ones before them used up %d s", name, untimed, 30*budgetMillis/1000)
		}
		t.Logf("%s: %d accepted patterns, slowest %q at %.2f ms", name, len(accepted), accepted[worst].Pattern, millis[worst])
	}
	t.Run("javascript", func(t *testing.T) {
		run(t, "node", "-e", `
const {cases, budget} = JSON.parse(require("fs").readFileSync(0, "utf8"));
const begin = process.hrtime.bigint();
const millis = cases.map(c => {
  if (Number(process.hrtime.bigint() - begin) / 1e6 > 30 * budget) return -1;
  const re = new RegExp(c.pattern);
  let total = 0;
  for (let k = 1; k <= c.pumps && total <= budget; k++) {
    const s = c.unit.repeat(k) + "!";
    const start = process.hrtime.bigint();
    re.test(s);
    total += Number(process.hrtime.bigint() - start) / 1e6;
  }
  return total;
});
process.stdout.write(JSON.stringify(millis));
`)
	})
	t.Run("perl", func(t *testing.T) {
		run(t, "perl", "-MJSON::PP", "-MTime::HiRes=time", "-e", `
local $/;
my $in = decode_json(<STDIN>);
my @millis;
my $begin = time;
for my $c (@{$in->{cases}}) {
  if ((time - $begin) * 1000 > 30 * $in->{budget}) { push @millis, -1; next }
  my $re = qr/$c->{pattern}/;
  my $total = 0;
  for (my $k = 1; $k <= $c->{pumps} && $total <= $in->{budget}; $k++) {
    my $s = ($c->{unit} x $k) . "!";
    my $start = time;
    my $m = $s =~ $re;
    $total += (time - $start) * 1000;
  }
  push @millis, $total;
}
print encode_json(\@millis);
`)
	})
}

// runEngine runs an engine's script on input and returns its standard output; a missing engine skips
// locally and fails under CI (internal/testenv).
func runEngine(t *testing.T, why string, input []byte, name string, args ...string) []byte {
	t.Helper()
	_, err := exec.LookPath(name)
	testenv.Require(t, name+" ("+why+")", err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, stderr.String())
	}
	return out
}
