package regexsafe

import (
	"bytes"
	"context"
	"encoding/json"
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
		_, err := exec.LookPath(name)
		testenv.Require(t, name+" (to check the patterns against its regex engine)", err)
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
