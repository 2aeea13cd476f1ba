package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstdBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func inputNames(ins []Input) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Name)
	}
	return out
}

func TestExpandFolder(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "logs")
	outside := filepath.Join(dir, "outside")
	writeFile(t, filepath.Join(root, "b.log"), []byte("{}\n"))
	writeFile(t, filepath.Join(root, "a", "z.log.gz"), gzipBytes(t, []byte("{}\n")))
	writeFile(t, filepath.Join(root, "a", "sub", "deep.ndjson"), []byte("{}\n"))
	writeFile(t, filepath.Join(root, "A.log"), []byte("{}\n"))
	writeFile(t, filepath.Join(root, "c", ".hidden"), []byte("{}\n"))
	writeFile(t, filepath.Join(outside, "linked.log"), []byte("{}\n"))
	writeFile(t, filepath.Join(outside, "dir", "in-linked-dir.log"), []byte("{}\n"))
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "linked.log"), filepath.Join(root, "link-to-file.log")); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	if err := os.Symlink(filepath.Join(outside, "dir"), filepath.Join(root, "link-to-dir")); err != nil {
		t.Fatal(err)
	}
	// A folder symlink pointing back up would loop if it were followed.
	if err := os.Symlink(root, filepath.Join(root, "a", "loop")); err != nil {
		t.Fatal(err)
	}

	x := Expand([]string{root}, Filter{})
	inputs, errs := x.Inputs, x.Errors
	if len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
	// The loop back to root is reported, not followed; the folder symlink
	// leading out of the tree is followed.
	if w := x.Warnings; len(w) != 1 || !errors.Is(w[0], ErrSymlinkLoop) || !strings.Contains(w[0].Error(), filepath.Join(root, "a", "loop")) {
		t.Errorf("warnings: %v, want the loop at a/loop", w)
	}
	want := []string{
		filepath.Join(root, "A.log"),
		filepath.Join(root, "a", "sub", "deep.ndjson"),
		filepath.Join(root, "a", "z.log.gz"),
		filepath.Join(root, "b.log"),
		filepath.Join(root, "c", ".hidden"),
		filepath.Join(root, "link-to-dir", "in-linked-dir.log"),
		filepath.Join(root, "link-to-file.log"),
	}
	if got := inputNames(inputs); !slices.Equal(got, want) {
		t.Errorf("Expand = %q\nwant   %q", got, want)
	}

	// Files and "-" are kept as given, in the order given, around folders;
	// an input reached again (the file named twice, the symlink in the
	// folder to it, "-" twice) is read where it first came, and said.
	single := filepath.Join(outside, "linked.log")
	x = Expand([]string{single, Stdin, root, single, Stdin}, Filter{})
	inputs, errs = x.Inputs, x.Errors
	if len(errs) != 0 {
		t.Errorf("errors: %v", errs)
	}
	got := inputNames(inputs)
	if want := append([]string{single, Stdin}, want[:len(want)-1]...); !slices.Equal(got, want) {
		t.Errorf("Expand = %q\nwant   %q", got, want)
	}
	var again []string
	for _, w := range x.Warnings {
		var pe *fs.PathError
		if errors.Is(w, ErrListedTwice) && errors.As(w, &pe) {
			again = append(again, pe.Path)
		}
	}
	if want := []string{filepath.Join(root, "link-to-file.log"), single, Stdin}; !slices.Equal(again, want) {
		t.Errorf("inputs listed twice: %q, want %q (warnings %v)", again, want, x.Warnings)
	}
	// A hard link is the same file by another name.
	hard := filepath.Join(dir, "hard.log")
	if err := os.Link(single, hard); err == nil {
		if _, ok := fileID(mustStat(t, hard)); ok {
			if got := inputNames(Expand([]string{single, hard}, Filter{}).Inputs); !slices.Equal(got, []string{single}) {
				t.Errorf("a file and its hard link: %q", got)
			}
		}
	}
}

func mustStat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestExpandFilter(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"audit.log", "audit-2026-11-20.log.gz", "notes.md", "kube/apiserver/audit.log", "kube/apiserver/README", "pods/web/0.log"} {
		writeFile(t, filepath.Join(root, name), []byte("{}\n"))
	}
	tests := []struct {
		filter   Filter
		want     []string
		excluded int
	}{
		{Filter{}, []string{"audit-2026-11-20.log.gz", "audit.log", "kube/apiserver/README", "kube/apiserver/audit.log", "notes.md", "pods/web/0.log"}, 0},
		{Filter{Include: []string{"*.log", "*.log.gz"}}, []string{"audit-2026-11-20.log.gz", "audit.log", "kube/apiserver/audit.log", "pods/web/0.log"}, 2},
		{Filter{Exclude: []string{"*.md", "README"}}, []string{"audit-2026-11-20.log.gz", "audit.log", "kube/apiserver/audit.log", "pods/web/0.log"}, 2},
		{Filter{Include: []string{"kube/**"}}, []string{"kube/apiserver/README", "kube/apiserver/audit.log"}, 4},
		{Filter{Include: []string{"**/audit*"}}, []string{"audit-2026-11-20.log.gz", "audit.log", "kube/apiserver/audit.log"}, 3},
		{Filter{Include: []string{"*.log"}, Exclude: []string{"pods/**"}}, []string{"audit.log", "kube/apiserver/audit.log"}, 4},
		{Filter{Include: []string{"audit-[0-9]*"}}, []string{"audit-2026-11-20.log.gz"}, 5},
	}
	for _, tc := range tests {
		x := Expand([]string{root, filepath.Join(root, "notes.md")}, tc.filter)
		var got []string
		for _, in := range x.Inputs {
			rel, _ := filepath.Rel(root, in.Name)
			got = append(got, filepath.ToSlash(rel))
		}
		// A file named on the command line is read whatever the filter,
		// once.
		want := tc.want
		if !slices.Contains(want, "notes.md") {
			want = append(slices.Clone(want), "notes.md")
		}
		if !slices.Equal(got, want) || x.Excluded != tc.excluded || len(x.Errors) != 0 {
			t.Errorf("%+v: %q excluded %d errors %v; want %q excluded %d", tc.filter, got, x.Excluded, x.Errors, want, tc.excluded)
		}
	}
	if x := Expand([]string{root}, Filter{Include: []string{"[a-"}}); len(x.Errors) != 1 || !strings.Contains(x.Errors[0].Error(), "--include") {
		t.Errorf("a bad glob: %v", x.Errors)
	}
}

func TestExpandErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.log"), []byte(execLine+"\n"))
	missing := filepath.Join(dir, "missing.log")
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	x := Expand([]string{missing, good, empty}, Filter{})
	inputs, errs := x.Inputs, x.Errors
	if got := inputNames(inputs); !slices.Equal(got, []string{good}) {
		t.Errorf("inputs %q, want only %q", got, good)
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v, want 2", errs)
	}
	if !errors.Is(errs[0], fs.ErrNotExist) || !strings.Contains(errs[0].Error(), missing) {
		t.Errorf("error %v should say %s does not exist", errs[0], missing)
	}
	if !strings.Contains(errs[1].Error(), empty) || !strings.Contains(errs[1].Error(), "no files") {
		t.Errorf("error %v should say %s holds no files", errs[1], empty)
	}

	// The inputs that remain scan normally.
	rs := builtinRules(t)
	res := mustScan(t, inputs, Options{Rules: rs})
	if got := hits(res, rs, 0); !slices.Equal(got, []string{"1:R1"}) {
		t.Errorf("matches %v", got)
	}
}

// TestScanUnreadableInputs: an input that cannot be opened or read gets an
// error in its stats and every other input is still scanned.
func TestScanUnreadableInputs(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.log"), []byte(lines(noiseLine, "junk", execLine)))
	missing := filepath.Join(dir, "missing.log")
	res := mustScan(t, []Input{{Name: missing}, {Name: good}, {Name: dir}, {Name: Stdin}, {Name: good}},
		Options{Rules: rs, Workers: 3})
	checkInvariants(t, res)
	if err := res.Inputs[0].Err; !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v", err)
	}
	if res.Inputs[2].Err == nil {
		t.Error("a folder given as an input: no error")
	}
	if err := res.Inputs[3].Err; err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("stdin without Options.Stdin: error %v", err)
	}
	for _, i := range []int{1, 4} {
		if got := hits(res, rs, i); !slices.Equal(got, []string{"3:R1"}) {
			t.Errorf("input %d: matches %v", i, got)
		}
		if res.Inputs[i].Err != nil || res.Inputs[i].Lines != 3 {
			t.Errorf("input %d: %+v", i, res.Inputs[i])
		}
	}
	// Problems name the input they were found in.
	if got := len(res.Problems); got != 2 {
		t.Fatalf("problems %+v, want one per good input", res.Problems)
	}
	for k, want := range []int{1, 4} {
		if p := res.Problems[k]; p.Input != want || p.Line != 2 {
			t.Errorf("problem %d: input %d line %d, want input %d line 2", k, p.Input, p.Line, want)
		}
	}
}

func TestStdin(t *testing.T) {
	rs := builtinRules(t)
	data := lines(noiseLine, execLine)
	res := mustScan(t, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: strings.NewReader(data)})
	if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1"}) {
		t.Errorf("matches %v", got)
	}
	st := res.Inputs[0]
	if st.Name != Stdin || st.Compression != CompressionNone || st.RawBytes != int64(len(data)) || st.Bytes != int64(len(data)) {
		t.Errorf("stats %+v", st)
	}

	// Compressed standard input (zcat-less pipelines) is detected too, and
	// a reader that hands out one byte at a time changes nothing.
	for name, raw := range map[string][]byte{"gzip": gzipBytes(t, []byte(data)), "zstd": zstdBytes(t, []byte(data))} {
		res := mustScan(t, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: &oneByteReader{r: bytes.NewReader(raw)}})
		st := res.Inputs[0]
		if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1"}) || st.Compression != name || st.Err != nil {
			t.Errorf("%s stdin: matches %v, stats %+v", name, got, st)
		}
		if st.RawBytes != int64(len(raw)) || st.Bytes != int64(len(data)) {
			t.Errorf("%s stdin: raw %d bytes %d, want %d %d", name, st.RawBytes, st.Bytes, len(raw), len(data))
		}
	}
}

type oneByteReader struct{ r io.Reader }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// TestCompressionByMagic: compression is recognised from the content,
// never from the file name.
func TestCompressionByMagic(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	plain := []byte(lines(noiseLine, execLine, procLine))
	twoMembers := append(gzipBytes(t, []byte(lines(noiseLine, execLine))), gzipBytes(t, []byte(lines(procLine, execLine)))...)
	emptyGzip := gzipBytes(t, nil)
	// pzstd starts its output with a skippable frame (magic 0x184D2A50
	// to 0x184D2A5F, little-endian, then the payload's length).
	skippable := []byte{0x5e, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4}
	tests := []struct {
		name, file  string
		data        []byte
		compression string
		lines       int64
		hits        []string
	}{
		{"gzip named .log", "audit.log", gzipBytes(t, plain), CompressionGzip, 3, []string{"2:R1", "3:R2"}},
		{"plain named .gz", "audit.log.gz", plain, CompressionNone, 3, []string{"2:R1", "3:R2"}},
		{"zstd named .gz", "audit.gz", zstdBytes(t, plain), CompressionZstd, 3, []string{"2:R1", "3:R2"}},
		{"zstd named .zst", "audit.log.zst", zstdBytes(t, plain), CompressionZstd, 3, []string{"2:R1", "3:R2"}},
		{"zstd after a skippable frame", "pzstd.zst", append(skippable, zstdBytes(t, plain)...), CompressionZstd, 3, []string{"2:R1", "3:R2"}},
		{"gzip without extension", "audit", gzipBytes(t, plain), CompressionGzip, 3, []string{"2:R1", "3:R2"}},
		{"multi-member gzip", "rotated.gz", twoMembers, CompressionGzip, 4, []string{"2:R1", "3:R2", "4:R1"}},
		{"empty file", "empty.log", nil, CompressionNone, 0, nil},
		{"empty gzip", "empty.gz", emptyGzip, CompressionGzip, 0, nil},
		{"one byte", "one.log", []byte{0x1f}, CompressionNone, 1, nil},
		{"gzip magic only", "magic.log", []byte{0x1f, 0x8b}, "", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, tc.name, tc.file), tc.data)
			res := mustScan(t, []Input{{Name: path}}, Options{Rules: rs})
			checkInvariants(t, res)
			st := res.Inputs[0]
			if got := hits(res, rs, 0); !slices.Equal(got, tc.hits) {
				t.Errorf("matches %v, want %v", got, tc.hits)
			}
			if st.Lines != tc.lines {
				t.Errorf("lines %d, want %d", st.Lines, tc.lines)
			}
			if tc.name == "gzip magic only" {
				// Two bytes of gzip magic and nothing else: unreadable.
				if st.Err == nil {
					t.Error("no error for a gzip header cut after the magic")
				}
				return
			}
			if st.Compression != tc.compression {
				t.Errorf("compression %q, want %q", st.Compression, tc.compression)
			}
			if st.Err != nil {
				t.Errorf("error %v", st.Err)
			}
			if st.RawBytes != int64(len(tc.data)) {
				t.Errorf("raw bytes %d, want %d", st.RawBytes, len(tc.data))
			}
		})
	}
}

// TestDamagedCompressedInput: a compressed input damaged part way keeps
// every finding before the damage, reports a *ReadError locating it, and
// the next input is scanned.
func TestDamagedCompressedInput(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	// Random IDs keep the stream from compressing into a single block,
	// so a cut leaves whole blocks to decode.
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for i := 1; i <= 2000; i++ {
		id := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		if i%100 == 0 {
			b.WriteString(strings.Replace(execLine, "7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1", id, 1))
		} else {
			b.WriteString(strings.Replace(noiseLine, "0f0e0d0c-0000-4000-8000-000000000001", id, 1))
		}
		b.WriteByte('\n')
	}
	plain := []byte(b.String())
	gz := gzipBytes(t, plain)
	zs := zstdBytes(t, plain)
	next := writeFile(t, filepath.Join(dir, "next.log"), []byte(execLine+"\n"))
	corruptMiddle := slices.Clone(gz)
	for i := len(gz) / 2; i < len(gz)/2+64; i++ {
		corruptMiddle[i] ^= 0x5a
	}

	tests := []struct {
		name        string
		data        []byte
		compression string
		// minHits is how many of the 20 execs at least must be found (the
		// ones before the damage).
		minHits int
		// garbled: the decoder hands out garbage past the damage before
		// it notices (deflate checks the CRC at the end of a member).
		garbled bool
	}{
		{"gzip cut at 60%", gz[:len(gz)*6/10], CompressionGzip, 8, false},
		{"gzip without its trailer", gz[:len(gz)-4], CompressionGzip, 20, false},
		{"gzip with trailing garbage", append(slices.Clone(gz), "garbage after the member"...), CompressionGzip, 20, false},
		{"gzip corrupted in the middle", corruptMiddle, CompressionGzip, 5, true},
		{"zstd cut at 60%", zs[:len(zs)*6/10], CompressionZstd, 8, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")), tc.data)
			for _, size := range []int{100, 4 << 20} {
				res := mustScan(t, []Input{{Name: path}, {Name: next}}, Options{Rules: rs, ChunkSize: size, Workers: 2})
				checkInvariants(t, res)
				st := res.Inputs[0]
				var re *ReadError
				if !errors.As(st.Err, &re) {
					t.Fatalf("error %v (%T), want a *ReadError", st.Err, st.Err)
				}
				if st.Compression != tc.compression {
					t.Errorf("compression %q", st.Compression)
				}
				if re.Input != path || !strings.Contains(st.Err.Error(), path) {
					t.Errorf("error %q does not name %s", st.Err, path)
				}
				if re.RawOffset <= 0 || re.RawOffset > int64(len(tc.data)) {
					t.Errorf("RawOffset %d outside 1..%d", re.RawOffset, len(tc.data))
				}
				if re.Offset != st.Bytes || re.Offset <= 0 || !tc.garbled && re.Offset > int64(len(plain)) {
					t.Errorf("Offset %d, bytes scanned %d, stream %d", re.Offset, st.Bytes, len(plain))
				}
				if re.Line != st.Lines {
					t.Errorf("ReadError.Line %d, lines %d", re.Line, st.Lines)
				}
				// Every decompressed byte before the damage is the original
				// stream's, so the matches are exactly the originals up to
				// the lines read.
				if got := hits(res, rs, 1); !slices.Equal(got, []string{"1:R1"}) || res.Inputs[1].Err != nil {
					t.Errorf("next input: matches %v, error %v", got, res.Inputs[1].Err)
				}
				got := hits(res, rs, 0)
				if tc.garbled {
					var want []string
					for l := int64(100); len(want) < tc.minHits; l += 100 {
						want = append(want, strconv.FormatInt(l, 10)+":R1")
					}
					if len(got) < tc.minHits || !slices.Equal(got[:tc.minHits], want) {
						t.Errorf("matches %v, want them to start with %v", got, want)
					}
					continue
				}
				var want []string
				for l := int64(100); l < st.Lines || l == st.Lines && st.Bytes == int64(len(plain)); l += 100 {
					want = append(want, strconv.FormatInt(l, 10)+":R1")
				}
				if !slices.Equal(got, want) || len(got) < tc.minHits {
					t.Errorf("matches %v, want %v (at least %d)", got, want, tc.minHits)
				}
			}
		})
	}
}

// TestReadErrorMessage pins how a ReadError reads for plain and
// compressed input.
func TestReadErrorMessage(t *testing.T) {
	plain := &ReadError{Input: "a.log", RawOffset: 10, Offset: 10, Line: 2, Err: io.ErrUnexpectedEOF}
	if got, want := plain.Error(), "a.log: read failed after 10 bytes (line 2): unexpected EOF"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	gz := &ReadError{Input: "a.gz", RawOffset: 7, Offset: 30, Line: 3, Err: io.ErrUnexpectedEOF}
	if got, want := gz.Error(), "a.gz: read failed at compressed byte 7, after 30 decompressed bytes (line 3): unexpected EOF"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if !errors.Is(gz, io.ErrUnexpectedEOF) {
		t.Error("ReadError does not unwrap")
	}
}

// failingReader returns data, then an error that is not EOF.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestPlainReadError: a plain stream that fails part way (a pipe whose
// writer died) keeps what came before, including a partial last line.
func TestPlainReadError(t *testing.T) {
	rs := builtinRules(t)
	boom := errors.New("connection reset")
	data := lines(noiseLine, execLine) + execLine[:50]
	res := mustScan(t, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: &failingReader{data: []byte(data), err: boom}})
	st := res.Inputs[0]
	if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1"}) {
		t.Errorf("matches %v", got)
	}
	var re *ReadError
	if !errors.As(st.Err, &re) || !errors.Is(st.Err, boom) {
		t.Fatalf("error %v, want a ReadError wrapping %v", st.Err, boom)
	}
	if re.Offset != int64(len(data)) || re.RawOffset != re.Offset || re.Line != 3 || st.Lines != 3 || st.Malformed != 1 {
		t.Errorf("ReadError %+v, stats %+v", re, st)
	}
}

// TestDamageInsideOverlongLine: a gzip stream cut inside a line longer
// than the limit still reports the damage, and the finding before it.
func TestDamageInsideOverlongLine(t *testing.T) {
	rs := builtinRules(t)
	rng := rand.New(rand.NewPCG(5, 6))
	long := make([]byte, 200<<10)
	for i := range long {
		long[i] = 'a' + byte(rng.IntN(26)) // incompressible enough to cut inside
	}
	plain := execLine + "\n" + `{"pad":"` + string(long) + `"}` + "\n" + execLine + "\n"
	gz := gzipBytes(t, []byte(plain))
	cut := gz[:len(gz)/2]
	for _, r := range []io.Reader{bytes.NewReader(cut), &failingReader{data: []byte(plain[:len(plain)/2]), err: errors.New("pipe broke")}} {
		res := mustScan(t, []Input{{Name: Stdin}}, Options{Rules: rs, Stdin: r, ChunkSize: 4096, MaxLineSize: 64 << 10})
		checkInvariants(t, res)
		st := res.Inputs[0]
		var re *ReadError
		if !errors.As(st.Err, &re) {
			t.Fatalf("error %v, want a *ReadError", st.Err)
		}
		if got := hits(res, rs, 0); !slices.Equal(got, []string{"1:R1"}) {
			t.Errorf("matches %v", got)
		}
		if st.Lines != 2 || st.Overlong != 1 || re.Offset != st.Bytes || re.Line != 2 {
			t.Errorf("stats %+v, ReadError %+v", st, re)
		}
	}
}

// TestTarArchive: a tar bundle (here gzip-compressed) is named as such
// rather than read as a log full of malformed lines.
func TestTarArchive(t *testing.T) {
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	body := []byte(execLine + "\n")
	if err := tw.WriteHeader(&tar.Header{Name: "audit.log", Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	tw.Write(body)
	tw.Close()
	for name, data := range map[string][]byte{"plain": tarball.Bytes(), "gzip": gzipBytes(t, tarball.Bytes())} {
		res := scanString(t, string(data), Options{Rules: builtinRules(t)})
		if st := res.Inputs[0]; !errors.Is(st.Err, ErrTarArchive) || st.Malformed != 0 || len(res.Events) != 0 {
			t.Errorf("%s tar: err %v, malformed %d, events %d", name, st.Err, st.Malformed, len(res.Events))
		}
	}
}

// TestReadBuffersReused: an input's read buffer is reused by the next
// input opened, and nothing the last one left in it (read ahead, never
// consumed) shows in the next one's bytes, whichever compression either has.
func TestReadBuffersReused(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Repeat(`{"first":"input"}`+"\n", 20000)))
	zw.Close()
	files := map[string][]byte{
		"a.gz":  gz.Bytes(),
		"b.log": []byte(`{"second":"input"}` + "\n"),
		"c.log": bytes.Repeat([]byte(`{"third":"input"}`+"\n"), 30000),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(name string, limit int) []byte {
		s, err := open(context.Background(), Input{Name: filepath.Join(dir, name)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		b, err := io.ReadAll(io.LimitReader(s, int64(limit)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for round := range 3 {
		// Part of the gzip input, leaving its buffer full of it.
		if got := read("a.gz", 100); !bytes.HasPrefix(got, []byte(`{"first":"input"}`)) {
			t.Fatalf("round %d: a.gz starts %q", round, got)
		}
		if got := read("b.log", 1<<20); !bytes.Equal(got, files["b.log"]) {
			t.Fatalf("round %d: b.log read as %q", round, got)
		}
		if got := read("c.log", 1<<30); !bytes.Equal(got, files["c.log"]) {
			t.Fatalf("round %d: c.log read as %d bytes, want %d", round, len(got), len(files["c.log"]))
		}
	}
}

// A folder that gives no input is an error naming it, whether it holds no
// files or the filter left out every one: a scan that read nothing from
// it must not pass as a clean one.
func TestExpandFolderGivesNothing(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	filtered := filepath.Join(root, "filtered")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(filtered, "a.txt"), []byte("{}\n"))
	writeFile(t, filepath.Join(filtered, "sub", "b.txt"), []byte("{}\n"))
	kept := writeFile(t, filepath.Join(root, "kept", "c.log"), []byte("{}\n"))

	x := Expand([]string{empty, filtered, filepath.Dir(kept)}, Filter{Include: []string{"*.log"}})
	if got := inputNames(x.Inputs); !slices.Equal(got, []string{kept}) {
		t.Errorf("inputs %q, want %q", got, kept)
	}
	want := map[string]string{empty: "folder holds no files", filtered: "--include/--exclude left out all 2 file(s) in the folder"}
	if len(x.Errors) != len(want) {
		t.Fatalf("errors %v, want one for each of %v", x.Errors, want)
	}
	for _, err := range x.Errors {
		var fe *FolderError
		if !errors.As(err, &fe) || want[fe.Path] != fe.Reason || err.Error() != fe.Path+": "+fe.Reason {
			t.Errorf("error %v (%#v): want one of %v", err, fe, want)
		}
	}
	if x.Excluded != 2 {
		t.Errorf("excluded %d, want 2", x.Excluded)
	}
}

// A regular file that says it is empty may still hold text, as /proc and
// /sys files do: it is read through, not taken at its size.
func TestProcFileIsRead(t *testing.T) {
	const path = "/proc/self/status"
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		t.Skipf("no empty-looking %s here", path)
	}
	res := mustScan(t, []Input{{Name: path}}, Options{Rules: builtinRules(t)})
	if in := res.Inputs[0]; in.Bytes == 0 || in.Lines == 0 || in.Err != nil {
		t.Errorf("%s: %d bytes, %d lines, error %v; want its text read", path, in.Bytes, in.Lines, in.Err)
	}
}

// Reading such a file may wait forever (/proc/kmsg waits for the kernel's
// next message): an interrupted scan still ends. Reading /proc/kmsg takes
// the messages it returns from the kernel log's other readers, so the test
// runs only when asked (K8SEXEC_READ_KMSG=1, as root).
func TestWaitingProcFileIsInterrupted(t *testing.T) {
	const path = "/proc/kmsg"
	if os.Getenv("K8SEXEC_READ_KMSG") != "1" {
		t.Skip("set K8SEXEC_READ_KMSG=1 to read /proc/kmsg")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("cannot read %s here: %v", path, err)
	}
	f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Scan(ctx, []Input{{Name: path}}, Options{Rules: builtinRules(t), ParseFirst: -1})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the scan of %s did not end 10 s after it was interrupted", path)
	}
}

// MaxEvents keeps the first matched events in input order, whatever the
// workers finish first, counts the others, and keeps none when negative;
// it is refused beside selectors, whose events a second pass may merge.
func TestMaxEvents(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintln(&b, strings.Replace(execLine, "7c0bd8a4", fmt.Sprintf("%08d", i), 1))
		if i%7 == 0 {
			fmt.Fprintln(&b, `{"kind":"Event","note":"not an exec"}`)
		}
	}
	path := writeFile(t, filepath.Join(dir, "a.log"), []byte(b.String()))
	rs := builtinRules(t)
	all := mustScan(t, []Input{{Name: path}}, Options{Rules: rs, Workers: 1})
	if len(all.Events) != 3000 || all.MoreEvents != 0 {
		t.Fatalf("%d events, %d more; want 3000 and 0", len(all.Events), all.MoreEvents)
	}
	for _, max := range []int{-1, 1, 10, 2999, 3000, 5000} {
		res := mustScan(t, []Input{{Name: path}}, Options{Rules: rs, Workers: 4, ChunkSize: 16 << 10, MaxEvents: max})
		want := min(max, 3000)
		if max < 0 {
			want = 0
		}
		if len(res.Events) != want || int64(len(res.Events))+res.MoreEvents != 3000 {
			t.Errorf("MaxEvents %d: %d events, %d more; want %d and %d", max, len(res.Events), res.MoreEvents, want, 3000-want)
			continue
		}
		for i, ev := range res.Events {
			if ev.Line != all.Events[i].Line {
				t.Errorf("MaxEvents %d: event %d at line %d, want %d (the first in input order)", max, i, ev.Line, all.Events[i].Line)
				break
			}
		}
	}
	if _, err := Scan(context.Background(), []Input{{Name: path}}, Options{Rules: rs, MaxEvents: 1, Selectors: []Selector{{}}}); err == nil {
		t.Error("MaxEvents with selectors: no error")
	}
}

// TestNULPaddingLongerThanLimit: a copytruncate hole longer than the line
// limit is dropped by every reader (a mapped file, a gzip stream, standard
// input) alike. The event after it is read, located where its line starts,
// and every byte is counted.
func TestNULPaddingLongerThanLimit(t *testing.T) {
	rs := builtinRules(t)
	dir := t.TempDir()
	hole := strings.Repeat("\x00", 5000)
	data := []byte(noiseLine + "\n" + hole + execLine + "\n" + hole + "\n" + hole + padTo(execLine, 1025) + "\n" + hole + execLine)
	second := int64(len(noiseLine) + 1)
	plain := writeFile(t, filepath.Join(dir, "audit.log"), data)
	gz := writeFile(t, filepath.Join(dir, "audit.log.gz"), gzipBytes(t, data))
	for _, size := range []int{1, 256, 1 << 20} {
		for name, in := range map[string]Input{"mapped": {Name: plain}, "gzip": {Name: gz}, "stdin": {Name: Stdin}} {
			where := fmt.Sprintf("%s, chunk %d", name, size)
			opts := Options{Rules: rs, ChunkSize: size, MaxLineSize: 1024, Stdin: bytes.NewReader(data)}
			res := mustScan(t, []Input{in}, opts)
			checkInvariants(t, res)
			st := res.Inputs[0]
			if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1", "5:R1"}) {
				t.Errorf("%s: matches %v, want [2:R1 5:R1]", where, got)
			}
			if st.Bytes != int64(len(data)) || st.Lines != 5 || st.Malformed != 1 || st.Overlong != 1 {
				t.Errorf("%s: bytes %d lines %d malformed %d overlong %d, want %d 5 1 1", where, st.Bytes, st.Lines, st.Malformed, st.Overlong, len(data))
			}
			if len(res.Events) > 0 && res.Events[0].Offset != second {
				t.Errorf("%s: the event after the hole is at offset %d, want its line's %d", where, res.Events[0].Offset, second)
			}
			var got []string
			for _, p := range res.Problems {
				got = append(got, fmt.Sprintf("%d@%d:%s", p.Line, p.Offset, p.Reason))
			}
			third := second + int64(len(hole)+len(execLine)+1)
			want := []string{fmt.Sprintf("3@%d:NUL bytes", third), fmt.Sprintf("4@%d:longer than 1024 bytes, skipped", third+int64(len(hole))+1)}
			if !slices.Equal(got, want) {
				t.Errorf("%s: problems %q, want %q", where, got, want)
			}
		}
	}
}
