package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1000": 1000, "64KiB": 64 << 10, "256MiB": 256 << 20, "1GiB": 1 << 30, "1gib": 1 << 30,
		"10KB": 10_000, "5MB": 5_000_000, "2G": 2 << 30, "0.5MiB": 512 << 10, "12B": 12,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1KiB", "ten", "1XB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): want an error", in)
		}
	}
}

func TestRunGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log.gz")
	var stderr bytes.Buffer
	if err := run([]string{"-size", "256KiB", "-shape", "audit", "-every", "100", "-gzip", "-o", path}, nil, &stderr); err != nil {
		t.Fatal(err)
	}
	if msg := stderr.String(); !strings.HasPrefix(msg, "wrote "+path+": ") || !strings.Contains(msg, " true findings (") {
		t.Errorf("stderr = %q", msg)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := plain.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	if plain.Len() < 256<<10 || !bytes.HasPrefix(plain.Bytes(), []byte(`{"kind":"Event"`)) {
		t.Errorf("decompressed %d bytes starting %.40q", plain.Len(), plain.Bytes())
	}
	if err := run([]string{"-size", "1KiB", "-shape", "syslog", "-o", filepath.Join(t.TempDir(), "x")}, nil, &stderr); err == nil {
		t.Error("unknown shape: want an error")
	}
}
