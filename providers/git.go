package providers

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/edgegw/edgegw/internal/boundedio"
	"github.com/edgegw/edgegw/manifest"
)

// ManifestCommit returns the HEAD commit of the git repository holding the manifest, and whether the
// manifest differs from that commit. A manifest outside any repository gives commit "" and no error: the
// deploy record says so rather than failing the deploy.
func ManifestCommit(manifestPath string) (commit string, dirty bool, err error) {
	repo, rel, err := openRepo(manifestPath)
	if repo == nil || err != nil {
		return "", false, err
	}
	head, err := repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", false, nil // a repository without commits yet
	}
	if err != nil {
		return "", false, fmt.Errorf("providers: git HEAD of %s: %w", manifestPath, err)
	}
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		return "", false, fmt.Errorf("providers: git commit %s: %w", head.Hash(), err)
	}
	committed, err := fileAt(c, rel, manifest.MaxFileBytes)
	if err != nil {
		return head.Hash().String(), true, nil // not committed yet
	}
	onDisk, err := boundedio.ReadInput(manifestPath, manifest.MaxFileBytes)
	if err != nil {
		return "", false, fmt.Errorf("providers: read %s: %w", manifestPath, err)
	}
	return head.Hash().String(), !bytes.Equal(committed, onDisk), nil
}

// ManifestAtRef reads the manifest as it was at a git ref (a commit, branch or tag, `HEAD~1`), and returns
// a ReadFile for the files it names (key files), read from the same tree.
func ManifestAtRef(manifestPath, ref string) (data []byte, readFile func(rel string) ([]byte, error), commit string, err error) {
	repo, rel, err := openRepo(manifestPath)
	if err != nil {
		return nil, nil, "", err
	}
	if repo == nil {
		return nil, nil, "", fmt.Errorf("providers: rollback --to %s: %s is not in a git repository: commit the manifest, or use `edgegw rollback` without --to", ref, manifestPath)
	}
	h, err := repo.ResolveRevision(plumbing.Revision(ref))
	if err != nil {
		return nil, nil, "", fmt.Errorf("providers: rollback --to %s: %w (use a commit, branch or tag that exists locally; in CI fetch with enough depth)", ref, err)
	}
	c, err := repo.CommitObject(*h)
	if err != nil {
		return nil, nil, "", fmt.Errorf("providers: rollback --to %s: commit %s: %w", ref, h, err)
	}
	data, err = fileAt(c, rel, manifest.MaxFileBytes)
	if boundedio.IsTooLarge(err) {
		return nil, nil, "", fmt.Errorf("providers: rollback --to %s: %s in commit %s is larger than %d bytes, the manifest limit: roll back to another ref", ref, rel, h.String()[:12], manifest.MaxFileBytes)
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("providers: rollback --to %s: %s is not in commit %s: %w", ref, rel, h.String()[:12], err)
	}
	dir := path.Dir(rel)
	readFile = func(name string) ([]byte, error) {
		return fileAt(c, path.Join(dir, filepath.ToSlash(name)), manifest.MaxKeyFileBytes)
	}
	return data, readFile, h.String(), nil
}

// fileAt reads the blob at rel in c, no further than limit bytes: the blob's size is checked before it is
// read, and the read itself is bounded, as for a file on disk.
func fileAt(c *object.Commit, rel string, limit int64) ([]byte, error) {
	f, err := c.File(rel)
	if err != nil {
		return nil, err
	}
	name := "git:" + c.Hash.String()[:12] + ":" + rel
	if f.Size > limit {
		return nil, &boundedio.TooLargeError{Name: name, Limit: limit}
	}
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return boundedio.ReadAll(r, name, limit)
}

// openRepo finds the repository holding path and path's slash-separated name inside it; nil when none.
func openRepo(p string) (*git.Repository, string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, "", fmt.Errorf("providers: %s: %w", p, err)
	}
	repo, err := git.PlainOpenWithOptions(filepath.Dir(abs), &git.PlainOpenOptions{DetectDotGit: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("providers: open git repository of %s: %w", p, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, "", fmt.Errorf("providers: git worktree of %s: %w", p, err)
	}
	root := wt.Filesystem.Root()
	// Resolve symlinks on both sides so /tmp vs /private/tmp style aliases still give a relative path.
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if a, err := filepath.EvalSymlinks(abs); err == nil {
		abs = a
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, "", fmt.Errorf("providers: %s is outside its git worktree %s: %w", p, root, err)
	}
	return repo, filepath.ToSlash(rel), nil
}

// gitIdentity is "Name <email>" from git's configuration for the repository holding dir (its own config
// over the user's global one), or the global one outside a repository; "" when neither names anyone.
func gitIdentity(dir string) string {
	var cfg *config.Config
	if repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true}); err == nil {
		cfg, _ = repo.ConfigScoped(config.GlobalScope)
	}
	if cfg == nil {
		cfg, _ = config.LoadConfig(config.GlobalScope)
	}
	if cfg == nil {
		return ""
	}
	name, email := strings.TrimSpace(cfg.User.Name), strings.TrimSpace(cfg.User.Email)
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case email != "":
		return email
	}
	return name
}
