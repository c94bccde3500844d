package testnet

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var builds struct {
	sync.Mutex
	dir  string
	bins map[string]*built
}

type built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// Build builds the main package pkg (as `go build` names it, "." for the package under test) once per
// test binary and returns the binary's path. Main removes the binaries when the tests end.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	builds.Lock()
	if builds.bins == nil {
		builds.bins = map[string]*built{}
	}
	b, ok := builds.bins[pkg]
	if !ok {
		b = &built{}
		builds.bins[pkg] = b
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "testnet-bin-")
		if err != nil {
			builds.Unlock()
			tb.Fatal(err)
		}
		builds.dir = dir
	}
	dir := builds.dir
	builds.Unlock()
	b.once.Do(func() {
		name := filepath.Base(strings.TrimSuffix(pkg, "/v2"))
		if pkg == "." {
			wd, _ := os.Getwd()
			name = filepath.Base(wd)
		}
		b.path = filepath.Join(dir, name)
		b.out, b.err = exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput()
	})
	if b.err != nil {
		tb.Fatalf("build %s: %v\n%s", pkg, b.err, b.out)
	}
	return b.path
}

func removeBuilds() {
	builds.Lock()
	defer builds.Unlock()
	if builds.dir != "" {
		_ = os.RemoveAll(builds.dir)
	}
}
