package providers_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgegw/edgegw/providers"
)

// Without $USER (a container, a CI runner) the deployer is git's user.name and user.email, as a commit
// names its author, not "unknown@host".
func TestWhoFallsBackToGitIdentity(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = Alice Example\n\temail = alice@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // outside any repository: the global configuration names the user
	noUser := func(string) string { return "" }
	if got := providers.Who(noUser); got != "Alice Example <alice@example.com>" {
		t.Errorf("Who without $USER = %q, want git's identity", got)
	}
	withUser := func(k string) string { return map[string]string{"USER": "bob"}[k] }
	if got := providers.Who(withUser); !strings.HasPrefix(got, "bob@") {
		t.Errorf("Who with $USER = %q, want bob@host", got)
	}
	if err := os.Remove(filepath.Join(home, ".gitconfig")); err != nil {
		t.Fatal(err)
	}
	if got := providers.Who(noUser); !strings.HasPrefix(got, "unknown") {
		t.Errorf("Who with neither = %q", got)
	}
}
