package cloudfront

import "testing"

// TestNameKeyedTablesQuoted: a table keyed by the manifest's names writes every key quoted, so that a pool
// or policy spelt like an internal property name ("route") is not shortened by the mangler, while the
// table's own fields stay bare (shortened with the code that reads them).
func TestNameKeyedTablesQuoted(t *testing.T) {
	got, err := jsLiteral(struct {
		Pools names[poolT] `json:"pools"`
	}{names[poolT]{"route": {Origins: []string{"a"}}, "app": {Origins: []string{"b"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{pools: {"app": {origins: ["b"]}, "route": {origins: ["a"]}}}`
	if got != want {
		t.Errorf("jsLiteral = %s\nwant        %s", got, want)
	}
}
