package local

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/edgegw/edgegw/internal/boundedio"
)

// MaxStateFileBytes bounds each file of the local deploy state read back (deploy records, locks, the IR of
// a version): the IR of the largest manifest is a few times its 16 MiB; anything larger is not ours.
const MaxStateFileBytes = 256 << 20

// FS is the file-system layer the local provider uses. It exists so benchmarks can count operations
// (CountingFS) and tests can inject faults; OSFS is the real one.
type FS interface {
	MkdirAll(path string, perm fs.FileMode) error
	WriteFile(name string, data []byte, perm fs.FileMode) error
	// CreateExclusive writes a new file and fails with fs.ErrExist when it already exists (locks).
	CreateExclusive(name string, data []byte) error
	ReadFile(name string) ([]byte, error)
	ReadDir(name string) ([]fs.DirEntry, error)
	Rename(oldpath, newpath string) error
	Symlink(oldname, newname string) error
	Readlink(name string) (string, error)
	Remove(name string) error
	RemoveAll(name string) error
	Stat(name string) (fs.FileInfo, error)
}

// OSFS is the operating system's file system.
type OSFS struct{}

func (OSFS) MkdirAll(p string, perm fs.FileMode) error            { return os.MkdirAll(p, perm) }
func (OSFS) WriteFile(n string, d []byte, perm fs.FileMode) error { return os.WriteFile(n, d, perm) }
func (OSFS) ReadFile(n string) ([]byte, error)                    { return boundedio.ReadFile(n, MaxStateFileBytes) }
func (OSFS) ReadDir(n string) ([]fs.DirEntry, error)              { return os.ReadDir(n) }
func (OSFS) Rename(o, n string) error                             { return os.Rename(o, n) }
func (OSFS) Symlink(o, n string) error                            { return os.Symlink(o, n) }
func (OSFS) Readlink(n string) (string, error)                    { return os.Readlink(n) }
func (OSFS) Remove(n string) error                                { return os.Remove(n) }
func (OSFS) RemoveAll(n string) error                             { return os.RemoveAll(n) }
func (OSFS) Stat(n string) (fs.FileInfo, error)                   { return os.Stat(n) }

// CreateExclusive implements FS. The content is written to a temporary file first and then linked into
// place, which fails when name exists: a reader never sees a lock file that is created but not yet
// written.
func (OSFS) CreateExclusive(n string, d []byte) error {
	f, err := os.CreateTemp(filepath.Dir(n), "."+filepath.Base(n)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(d); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(tmp, n)
}

// CountingFS counts the operations made through it, by name.
type CountingFS struct {
	FS FS
	mu sync.Mutex
	n  map[string]int
}

func (c *CountingFS) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
}

// Total returns the number of operations so far.
func (c *CountingFS) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

// Reset forgets the counts.
func (c *CountingFS) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
}

// String lists the counts, e.g. "readdir=1 rename=2".
func (c *CountingFS) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for k, v := range c.n {
		parts = append(parts, k+"="+strconv.Itoa(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func (c *CountingFS) MkdirAll(p string, perm fs.FileMode) error {
	c.count("mkdir")
	return c.FS.MkdirAll(p, perm)
}
func (c *CountingFS) WriteFile(n string, d []byte, perm fs.FileMode) error {
	c.count("write")
	return c.FS.WriteFile(n, d, perm)
}
func (c *CountingFS) CreateExclusive(n string, d []byte) error {
	c.count("create_excl")
	return c.FS.CreateExclusive(n, d)
}
func (c *CountingFS) ReadFile(n string) ([]byte, error) {
	c.count("read")
	return c.FS.ReadFile(n)
}
func (c *CountingFS) ReadDir(n string) ([]fs.DirEntry, error) {
	c.count("readdir")
	return c.FS.ReadDir(n)
}
func (c *CountingFS) Rename(o, n string) error {
	c.count("rename")
	return c.FS.Rename(o, n)
}
func (c *CountingFS) Symlink(o, n string) error {
	c.count("symlink")
	return c.FS.Symlink(o, n)
}
func (c *CountingFS) Readlink(n string) (string, error) {
	c.count("readlink")
	return c.FS.Readlink(n)
}
func (c *CountingFS) Remove(n string) error {
	c.count("remove")
	return c.FS.Remove(n)
}

// RemoveAll implements FS.
func (c *CountingFS) RemoveAll(n string) error {
	c.count("removeall")
	return c.FS.RemoveAll(n)
}
func (c *CountingFS) Stat(n string) (fs.FileInfo, error) {
	c.count("stat")
	return c.FS.Stat(n)
}
