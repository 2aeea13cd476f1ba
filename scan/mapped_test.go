package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withoutMapping runs fn with every input read through buffers.
func withoutMapping(t *testing.T, fn func()) {
	t.Helper()
	defer func(old bool) { mapFiles = old }(mapFiles)
	mapFiles = false
	fn()
}

// TestMappedMatchesRead: reading a file by mapping it finds, counts and
// places exactly what reading it into buffers does, for chunk and line
// limits that cut lines everywhere (overlong lines, a last line without a
// newline, blank and broken lines, CRLF, NUL bytes).
func TestMappedMatchesRead(t *testing.T) {
	if !mapSupported {
		t.Skip("files are not mapped on this system")
	}
	rs := builtinRules(t)
	var inputs []Input
	for _, dir := range []string{"../testdata/demo", "../testdata/broken", "../testdata/sessions", "../testdata/audit"} {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			inputs = append(inputs, Input{Name: f})
		}
	}
	long := filepath.Join(t.TempDir(), "long.log")
	exec := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"create","objectRef":{"resource":"pods","subresource":"exec","namespace":"default","name":"web"},"annotations":{"authorization.k8s.io/decision":"allow"}}`
	writeFile(t, long, []byte(exec+"\n"+`{"pad":"`+strings.Repeat("x", 9000)+`"}`+"\n\n"+exec+"\r\n"+exec))
	inputs = append(inputs, Input{Name: long})
	for _, size := range []int{64, 1000, 4096, 1 << 20} {
		for _, maxLine := range []int{0, 300, 5000} {
			opts := Options{Rules: rs, ChunkSize: size, MaxLineSize: maxLine, Workers: 3}
			mapped := canon(mustScan(t, inputs, opts))
			var read string
			withoutMapping(t, func() { read = canon(mustScan(t, inputs, opts)) })
			if mapped != read {
				t.Fatalf("chunk %d, max line %d: mapped and read scans differ: %s", size, maxLine, firstDiff(mapped, read))
			}
		}
	}
}

// TestMappedWindowsReleased: every window of a file mapped for a scan is
// unmapped by the time Scan returns, whether the scan completes or is
// cancelled part way (TestMappedFileShrinks checks it for a file cut
// short), and no window is unmapped while a chunk cut from it is still
// read (every exec is found on its line). The file spans three windows.
func TestMappedWindowsReleased(t *testing.T) {
	if !mapSupported {
		t.Skip("files are not mapped on this system")
	}
	rs := builtinRules(t)
	var b strings.Builder
	for i := 0; b.Len() < 3*mapWindowMax; i++ {
		if i%10 == 9 {
			b.WriteString(execLine + "\n")
		} else {
			fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"%d","verb":"get","objectRef":{"resource":"pods","namespace":"default","name":"web"}}`+"\n", i)
		}
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "audit.log"), []byte(b.String()))
	check := func(name string, res *Result) {
		t.Helper()
		if n := mappedWindows.Load(); n != 0 {
			t.Errorf("%s: %d windows still mapped after the scan", name, n)
		}
		st := res.Inputs[0]
		if want := st.Lines / 10; int64(len(res.Events)) != want {
			t.Errorf("%s: %d matches in %d lines, want %d", name, len(res.Events), st.Lines, want)
		}
		for i, ev := range res.Events {
			if ev.Line != int64(10*(i+1)) {
				t.Errorf("%s: match %d on line %d, want %d", name, i, ev.Line, 10*(i+1))
				break
			}
		}
		checkInvariants(t, res)
	}
	for _, workers := range []int{1, 4} {
		for _, chunk := range []int{0, 4096} {
			name := fmt.Sprintf("workers %d, chunk %d", workers, chunk)
			res := mustScan(t, []Input{{Name: path}}, Options{Rules: rs, Workers: workers, ChunkSize: chunk})
			if res.Inputs[0].Bytes != int64(b.Len()) {
				t.Errorf("%s: %d bytes scanned, want %d", name, res.Inputs[0].Bytes, b.Len())
			}
			check(name, res)

			ctx, cancel := context.WithCancel(context.Background())
			opts := Options{Rules: rs, Workers: workers, ChunkSize: chunk, ParseFirst: -1, Progress: func(p Progress) {
				if p.Bytes > int64(mapWindowMax) {
					cancel()
				}
			}}
			res = scanAsync(t, ctx, []Input{{Name: path}}, opts, 10*time.Second)
			cancel()
			if !res.Interrupted {
				t.Errorf("%s: cancelled scan not interrupted", name)
			}
			check(name+", cancelled", res)
		}
	}
}

// TestMappedFileShrinks: a file cut short while it is mapped (copytruncate
// rotation) is reported as an input error at the damage; the scan neither
// crashes nor reports lines from after it, and goes on with the next input.
func TestMappedFileShrinks(t *testing.T) {
	if !mapSupported {
		t.Skip("files are not mapped on this system")
	}
	rs := builtinRules(t)
	dir := t.TempDir()
	var b strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"%d","verb":"create","objectRef":{"resource":"pods","subresource":"exec","namespace":"default","name":"web"},"annotations":{"authorization.k8s.io/decision":"allow"}}`+"\n", i)
	}
	path := writeFile(t, filepath.Join(dir, "audit.log"), []byte(b.String()))
	next := writeFile(t, filepath.Join(dir, "next.log"), []byte(strings.SplitAfter(b.String(), "\n")[0]))
	size := int64(b.Len())
	defer func() { mappedHook = nil }()
	mappedHook = func(f *os.File, end int64) {
		if f.Name() == path && end > size/4 && end < size/2 {
			if err := os.Truncate(path, 100); err != nil {
				t.Error(err)
			}
		}
	}
	for _, workers := range []int{1, 4} {
		writeFile(t, path, []byte(b.String()))
		res := mustScan(t, []Input{{Name: path}, {Name: next}}, Options{Rules: rs, ChunkSize: 4096, Workers: workers})
		st := res.Inputs[0]
		if !errors.Is(st.Err, errFileShrank) {
			t.Fatalf("workers %d: input error %v, want %v", workers, st.Err, errFileShrank)
		}
		t.Logf("workers %d: %v", workers, st.Err)
		var re *ReadError
		if !errors.As(st.Err, &re) || re.Line != st.Lines || re.Offset >= size/2 {
			t.Errorf("workers %d: %v does not say where the damage starts (%d lines read)", workers, st.Err, st.Lines)
		}
		for _, ev := range res.Events {
			if ev.Input == 0 && ev.Line > st.Lines {
				t.Errorf("workers %d: event on line %d, after the %d lines read", workers, ev.Line, st.Lines)
			}
		}
		if res.Inputs[1].Err != nil || res.Inputs[1].Events != 1 {
			t.Errorf("workers %d: the next input was not read: %+v", workers, res.Inputs[1])
		}
		checkInvariants(t, res)
		if n := mappedWindows.Load(); n != 0 {
			t.Errorf("workers %d: %d windows still mapped after the scan", workers, n)
		}
	}
}

// TestFaultErrorChangedFile: a panic that is no memory fault is the
// input's error when the file changed under it (the bytes after a
// truncated file's new end read as zeros instead of faulting, under a
// worker walking a line it validated), and a crash when it did not; a
// file rotated away by renaming has not changed.
func TestFaultErrorChangedFile(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "audit.log"), []byte(strings.Repeat("x", 5000)))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	changed := changeCheck(f, path, fi)
	outOfRange := func() (v any) {
		defer func() { v = recover() }()
		var b []byte
		_ = b[len(path)]
		return nil
	}()
	mustPanic := func(what string) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: the panic was swallowed", what)
			}
		}()
		faultError(outOfRange, changed)
	}
	mustPanic("file unchanged")
	if err := faultError(nil, changed); err != nil {
		t.Errorf("no panic: %v", err)
	}
	later := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if err := faultError(outOfRange, changed); !errors.Is(err, errFileChanged) {
		t.Errorf("file rewritten: %v, want %v", err, errFileChanged)
	}
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}
	if err := faultError(outOfRange, changed); !errors.Is(err, errFileShrank) {
		t.Errorf("file truncated: %v, want %v", err, errFileShrank)
	}
	// Closed, then renamed away: another file at the path says nothing
	// about ours, whose bytes renaming did not change.
	f.Close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, []byte("{}\n"))
	if yes, shrank := changed(); yes || shrank {
		t.Errorf("a new file at the path counts as a change of ours (%v, %v)", yes, shrank)
	}
	mustPanic("file renamed away")
}
