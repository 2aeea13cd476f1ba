package scan

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// waitGoroutines waits for the goroutine count to come back to at most
// want, and fails with a dump of the stacks if it does not.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still running, want at most %d:\n%s", n, want, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// scanAsync runs Scan and fails the test if it does not return within
// the timeout.
func scanAsync(t *testing.T, ctx context.Context, inputs []Input, opts Options, timeout time.Duration) *Result {
	t.Helper()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Scan(ctx, inputs, opts)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("Scan: %v", o.err)
		}
		return o.res
	case <-time.After(timeout):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("Scan did not return within %v of the cancellation:\n%s", timeout, buf)
		return nil
	}
}

// TestCancel cancels a scan of an endless input part way: Scan returns
// promptly with Interrupted set, leaves no goroutine behind, and what it
// returns is consistent: every line counted is accounted for and every
// exec among them (each 10th line) is reported on its line.
func TestCancel(t *testing.T) {
	rs := builtinRules(t)
	for _, tc := range []struct {
		name    string
		workers int
		chunk   int
		after   int64 // cancel once this many bytes were scanned
	}{
		{"one worker", 1, 4096, 1 << 20},
		{"many workers", 8, 4096, 1 << 20},
		{"tiny chunks", 4, 64, 256 << 10},
		{"default chunks", 0, 0, 16 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var progressed int64
			opts := Options{
				Rules: rs, Workers: tc.workers, ChunkSize: tc.chunk,
				Stdin: &endless{every: 10},
				Progress: func(p Progress) {
					if p.Bytes < progressed {
						t.Errorf("progress went back from %d to %d bytes", progressed, p.Bytes)
					}
					progressed = p.Bytes
					if p.Bytes >= tc.after {
						cancel()
					}
				},
			}
			res := scanAsync(t, ctx, []Input{{Name: Stdin}, {Name: Stdin}}, opts, 10*time.Second)
			if !res.Interrupted {
				t.Error("Interrupted not set")
			}
			checkInvariants(t, res)
			st := res.Inputs[0]
			if st.Lines == 0 || st.Bytes < tc.after {
				t.Errorf("scanned %d lines, %d bytes before the cancellation, want at least %d bytes", st.Lines, st.Bytes, tc.after)
			}
			if st.Malformed != 0 || st.Blank != 0 || st.Events != st.Lines {
				t.Errorf("stats %+v: every line counted must be a whole event", st)
			}
			if want := st.Lines / 10; int64(len(res.Events)) != want {
				t.Errorf("%d matches in %d lines, want %d", len(res.Events), st.Lines, want)
			}
			for i, ev := range res.Events {
				if ev.Input != 0 || ev.Line != int64(10*(i+1)) {
					t.Errorf("match %d on %d:%d, want 0:%d", i, ev.Input, ev.Line, 10*(i+1))
					break
				}
			}
			if res.Inputs[1].Lines != 0 {
				t.Errorf("the input after the interrupted one was scanned: %+v", res.Inputs[1])
			}
			waitGoroutines(t, before)
		})
	}
}

// TestCancelBetweenFiles cancels while a folder of files is scanned.
func TestCancelBetweenFiles(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	data := []byte(strings.Repeat(noiseLine+"\n", 999) + execLine + "\n")
	var inputs []Input
	for i := range 50 {
		p := filepath.Join(dir, "f"+string(rune('a'+i/26))+string(rune('a'+i%26))+".log")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{Name: p})
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := scanAsync(t, ctx, inputs, Options{Rules: rs, Workers: 4, ChunkSize: 8192, Progress: func(p Progress) {
		if p.InputIndex >= 5 {
			cancel()
		}
	}}, 10*time.Second)
	if !res.Interrupted {
		t.Error("Interrupted not set")
	}
	checkInvariants(t, res)
	// Files read to the end before the scan stopped are complete; the
	// ones being read (a reader per worker) were scanned as far as they
	// were read, in whole lines, without an error; the rest not at all.
	last := -1
	for i, st := range res.Inputs {
		if st.Lines > 0 {
			last = i
		}
	}
	if last < 5 || last == len(inputs)-1 {
		t.Fatalf("last input scanned %d", last)
	}
	for i := range last + 1 {
		st, h := res.Inputs[i], hits(res, rs, i)
		switch {
		case st.Err != nil || st.Bytes != int64(st.Lines)*int64(len(noiseLine)+1) && st.Lines < 1000:
			t.Errorf("input %d: %+v", i, st)
		case st.Lines == 1000 && (st.RawBytes != int64(len(data)) || len(h) != 1 || h[0] != "1000:R1"):
			t.Errorf("input %d: %+v, matches %v", i, st, h)
		case st.Lines < 1000 && len(h) != 0:
			t.Errorf("input %d, read in part: matches %v", i, h)
		}
		if i < 5 && st.Lines != 1000 {
			t.Errorf("input %d, read before the cancellation, has %d lines", i, st.Lines)
		}
	}
	for i := last + 1; i < len(inputs); i++ {
		if res.Inputs[i].Lines != 0 {
			t.Errorf("input %d scanned after the cancellation", i)
		}
	}
	waitGoroutines(t, before)
}

// TestCancelledBeforeStart: a context cancelled before the scan starts
// reads little or nothing and reports the interruption.
func TestCancelledBeforeStart(t *testing.T) {
	rs := builtinRules(t)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := scanAsync(t, ctx, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: &endless{every: 3}, ChunkSize: 4096}, 10*time.Second)
	if !res.Interrupted {
		t.Error("Interrupted not set")
	}
	checkInvariants(t, res)
	waitGoroutines(t, before)
}

// TestNoGoroutineLeak: a complete scan, including inputs that fail to
// open or decompress, leaves no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	zs := writeFile(t, filepath.Join(dir, "a.zst"), zstdBytes(t, []byte(lines(execLine, procLine))))
	bad := writeFile(t, filepath.Join(dir, "bad.zst"), zstdBytes(t, []byte(strings.Repeat(execLine+"\n", 100)))[:40])
	before := runtime.NumGoroutine()
	for range 3 {
		res := mustScan(t, []Input{{Name: zs}, {Name: bad}, {Name: filepath.Join(fixtureRoot, "broken/truncated.log.gz")},
			{Name: filepath.Join(fixtureRoot, "broken/corrupt_header.gz")}, {Name: filepath.Join(dir, "missing")}},
			Options{Rules: rs, Workers: 8})
		if res.Interrupted {
			t.Error("Interrupted set on a complete scan")
		}
		if res.Inputs[0].Err != nil || res.Inputs[1].Err == nil {
			t.Errorf("errors: %v, %v", res.Inputs[0].Err, res.Inputs[1].Err)
		}
	}
	waitGoroutines(t, before)
}

// TestCancelWhileReadBlocks: a pipe whose writer keeps it open but writes
// nothing more (a stalled `ssh node cat`) holds a read that no close
// ends. A cancelled scan returns anyway, with the lines read before, and
// without calling the input damaged: for a pipe the runtime polls (a
// FIFO opened by path) and for a reader that is no file (read by a
// goroutine, which ends once its read returns).
func TestCancelWhileReadBlocks(t *testing.T) {
	t.Run("polled pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		scanCancelledWhileReading(t, r, w)
	})
	t.Run("reader", func(t *testing.T) {
		r, w := io.Pipe()
		scanCancelledWhileReading(t, r, w)
	})
	// Cancelled before the first byte came: nothing read, nothing wrong.
	for name, stdin := range map[string]func() (io.Reader, io.Closer){
		"polled pipe, no data": func() (io.Reader, io.Closer) { r, w, _ := os.Pipe(); return r, w },
		"reader, no data":      func() (io.Reader, io.Closer) { r, w := io.Pipe(); return r, w },
	} {
		t.Run(name, func(t *testing.T) {
			r, w := stdin()
			defer w.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(100*time.Millisecond, cancel)
			res := scanAsync(t, ctx, []Input{{Name: Stdin}}, Options{Rules: builtinRules(t), Stdin: r}, 5*time.Second)
			if st := res.Inputs[0]; !res.Interrupted || st.Err != nil || st.Lines != 0 {
				t.Errorf("interrupted %v, %+v", res.Interrupted, st)
			}
		})
	}
}

// scanCancelledWhileReading writes two lines to w, scans r as standard
// input, cancels the scan while its read waits for more, and checks what
// it returned; it closes w, which ends the read, and checks that no
// goroutine is left.
func scanCancelledWhileReading(t *testing.T, r io.Reader, w io.WriteCloser) {
	t.Helper()
	rs := builtinRules(t)
	before := runtime.NumGoroutine()
	go w.Write([]byte(lines(noiseLine, execLine))) // an io.Pipe write waits for the read
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	res := scanAsync(t, ctx, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: r}, 5*time.Second)
	if !res.Interrupted {
		t.Error("Interrupted not set")
	}
	if st := res.Inputs[0]; st.Err != nil || st.Lines != 2 || len(res.Events) != 1 {
		t.Errorf("want the two lines read before the cancellation scanned, the exec found, no error: %+v, %d events", st, len(res.Events))
	}
	checkInvariants(t, res)
	w.Close()
	waitGoroutines(t, before)
}
