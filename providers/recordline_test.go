package providers

import (
	"strings"
	"testing"
)

// The shared fields of a vendor's record line read back into the record they were written from; a line
// edgegw did not write is not a record.
func TestRecordLineRoundTrip(t *testing.T) {
	rec := DeployRecord{Kind: KindApply, Commit: "0123abcd", Dirty: true, Gateway: &GatewaySummary{Digest: "sha256:ff"},
		Previous: RestorePoint{Version: "7"}, Who: "ci job\nsecond line"}
	line := "edgegw " + strings.Join([]string{rec.Kind, rec.GitField(), "ver:8", rec.IRField(), rec.PrevField(), rec.WhoField()}, " ")
	if want := "edgegw apply git:0123abcd+dirty ver:8 ir:sha256:ff prev:7 by:ci job second line"; line != want {
		t.Fatalf("line %q, want %q", line, want)
	}
	kind, fields, who, ok := SplitRecordLine(line, "edgegw ")
	if !ok || kind != KindApply || who != "ci job second line" {
		t.Fatalf("split: %q %q %q %v", kind, fields, who, ok)
	}
	var got DeployRecord
	var other []string
	for _, f := range fields {
		if !got.ReadRecordField(f) {
			other = append(other, f)
		}
	}
	if got.Commit != rec.Commit || !got.Dirty || got.Gateway == nil || got.Gateway.Digest != "sha256:ff" || got.Previous.Version != "7" ||
		len(other) != 1 || other[0] != "ver:8" {
		t.Fatalf("read back %+v, other fields %q", got, other)
	}
	var none DeployRecord
	if f := none.GitField() + " " + none.IRField() + " " + none.PrevField(); f != "git:none ir:none prev:none" {
		t.Fatalf("empty record fields %q", f)
	}
	if _, _, _, ok := SplitRecordLine("deployed by hand", "edgegw "); ok {
		t.Fatal("a line edgegw did not write read as a record")
	}
}
