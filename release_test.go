package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goreleaserConfig is the part of .goreleaser.yaml the release depends on.
// `goreleaser check` (v2.15) accepts the file too; this test keeps the
// promises the README and STYLE.md make about release binaries without
// needing goreleaser on the machine.
type goreleaserConfig struct {
	Version int `yaml:"version"`
	Builds  []struct {
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		Formats []string `yaml:"formats"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	Release struct {
		GitHub struct{ Owner, Name string } `yaml:"github"`
	} `yaml:"release"`
}

func TestGoReleaserConfig(t *testing.T) {
	data, err := os.ReadFile(".goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if c.Version != 2 || len(c.Builds) != 1 {
		t.Fatalf("version %d, %d builds: want GoReleaser v2 and one build", c.Version, len(c.Builds))
	}
	b := c.Builds[0]
	if b.Main != "." || b.Binary != "k8sexec" || !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build %+v: want a static, trimmed k8sexec from the module root", b)
	}
	ld := strings.Join(b.Ldflags, " ")
	for _, want := range []string{"-s -w", "-X main.version={{.Version}}", "-X main.commit={{.Commit}}", "-X main.date="} {
		if !strings.Contains(ld, want) {
			t.Errorf("ldflags %q lack %q", ld, want)
		}
	}
	for _, v := range []string{"version", "commit", "date"} {
		if !mainDeclares(t, v) {
			t.Errorf("ldflags set main.%s, which main.go does not declare", v)
		}
	}
	slices.Sort(b.Goos)
	slices.Sort(b.Goarch)
	if !slices.Equal(b.Goos, []string{"darwin", "linux", "windows"}) || !slices.Equal(b.Goarch, []string{"amd64", "arm64"}) {
		t.Errorf("targets %v x %v", b.Goos, b.Goarch)
	}
	if len(c.Archives) == 0 || c.Checksum.NameTemplate == "" || c.Checksum.Algorithm != "sha256" {
		t.Errorf("archives %+v checksum %+v", c.Archives, c.Checksum)
	}
	if c.Release.GitHub.Owner == "" || c.Release.GitHub.Name == "" {
		t.Error("release.github must name the repository (goreleaser check needs it without a git remote)")
	}
}

// mainDeclares reports whether main.go declares a package-level string
// variable of that name.
func mainDeclares(t *testing.T, name string) bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			for _, n := range spec.(*ast.ValueSpec).Names {
				if n.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// TestVersionFromLdflags builds the binary the way the release does and
// checks that `k8sexec version` shows what -ldflags injected.
func TestVersionFromLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "k8sexec")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=9.8.7 -X main.commit=abc1234 -X main.date=2026-12-01T00:00:00Z", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("k8sexec version: %v\n%s", err, out)
	}
	for _, want := range []string{"9.8.7", "abc1234", "2026-12-01T00:00:00Z"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("version output lacks %s:\n%s", want, out)
		}
	}
}
