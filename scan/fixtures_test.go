package scan

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fixtureRoot holds the shared sample logs and EXPECTED.md.
const fixtureRoot = "../testdata"

// expectedFile is one row of EXPECTED.md's summary table.
type expectedFile struct {
	name      string
	lines     int64
	hits      []string // "line:R1", sorted by line then rule
	malformed []int64
	blank     []int64
}

// readExpected parses the summary table of testdata/EXPECTED.md.
func readExpected(t *testing.T) map[string]*expectedFile {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureRoot, "EXPECTED.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*expectedFile{}
	inSummary := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			inSummary = line == "## Summary"
			continue
		}
		if !inSummary || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| File") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 7 {
			t.Fatalf("EXPECTED.md summary row has %d cells: %q", len(cells), line)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		n, err := strconv.ParseInt(cells[1], 10, 64)
		if err != nil {
			t.Fatalf("EXPECTED.md: lines %q: %v", cells[1], err)
		}
		e := &expectedFile{name: cells[0], lines: n}
		type lineRule struct {
			line int64
			rule string
		}
		var lrs []lineRule
		for i, rule := range []string{"R1", "R2", "R3"} {
			for _, l := range parseLineSet(t, cells[2+i]) {
				lrs = append(lrs, lineRule{l, rule})
			}
		}
		slices.SortFunc(lrs, func(a, b lineRule) int {
			if a.line != b.line {
				return int(a.line - b.line)
			}
			return strings.Compare(a.rule, b.rule)
		})
		for _, lr := range lrs {
			e.hits = append(e.hits, strconv.FormatInt(lr.line, 10)+":"+lr.rule)
		}
		e.malformed = parseLineSet(t, cells[5])
		e.blank = parseLineSet(t, cells[6])
		out[e.name] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("EXPECTED.md: no summary rows found")
	}
	return out
}

// parseLineSet reads "-", "3", "3, 6" or "1-2, 7-9" into line numbers.
func parseLineSet(t *testing.T, s string) []int64 {
	t.Helper()
	if s == "-" {
		return nil
	}
	var out []int64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			t.Fatalf("EXPECTED.md: line set %q: %v", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil {
				t.Fatalf("EXPECTED.md: line set %q: %v", s, err)
			}
		}
		for l := a; l <= b; l++ {
			out = append(out, l)
		}
	}
	return out
}

// fixtureDeviation records where the scanner deliberately differs from
// EXPECTED.md, and why. Each is asserted, so a change in behaviour shows up
// here rather than silently.
type fixtureDeviation struct {
	why string
	// skippedInvalid are lines holding invalid JSON between braces that no
	// rule's literals occur in: the prefilter never parses them, so they
	// count as events, not malformed (they become malformed with
	// NoPrefilter).
	skippedInvalid []int64
}

// wrappedFixture reports the fixtures checked against their own sections of
// EXPECTED.md rather than the line-by-line summary table: those that hold
// several events per record (testdata/wrapped/, a damaged EKS export;
// TestWrappedShapes) and the audit and process logs of the triage stories
// (testdata/sessions/; the triage and cmd tests), and the rule-family
// fixtures checked against Elastic's published rules (testdata/families/).
func wrappedFixture(name string) bool {
	return strings.HasPrefix(name, "wrapped/") || strings.HasPrefix(name, "sessions/") || strings.HasPrefix(name, "families/") ||
		name == "broken/eks_truncated.json" || name == "broken/crash_resumed.log"
}

var fixtureDeviations = map[string]fixtureDeviation{
	"broken/not_json.log": {
		why:            `line 8 ({"kind":"Event",...,"level":"Metadata",}) has a trailing comma but holds no rule literal, so the prefilter skips it unparsed`,
		skippedInvalid: []int64{8},
	},
}

// fixtureErrors are the fixtures that cannot be read to the end: the input
// error must mention the text.
var fixtureErrors = map[string]string{
	"broken/corrupt_header.gz": "gzip",
	"broken/truncated.log.gz":  "unexpected EOF",
}

// listFixtures returns every sample log under testdata/, relative to it.
func listFixtures(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(fixtureRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "exceptions" {
			return filepath.SkipDir // exception files, not logs
		}
		// Not logs: the fixtures' notes and the rules some are read with.
		if d.Type().IsRegular() && !strings.HasSuffix(d.Name(), ".md") && !strings.HasSuffix(d.Name(), ".toml") {
			rel, _ := filepath.Rel(fixtureRoot, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFixturesMatchExpected(t *testing.T) {
	rs := builtinRules(t)
	expected := readExpected(t)
	files := listFixtures(t)
	for _, name := range files {
		if expected[name] == nil && !wrappedFixture(name) {
			t.Errorf("fixture %s has no row in EXPECTED.md", name)
		}
	}
	for name := range expected {
		if !slices.Contains(files, name) {
			t.Errorf("EXPECTED.md lists %s, which is not in testdata/", name)
		}
	}

	for _, name := range files {
		want := expected[name]
		if want == nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			for _, noPrefilter := range []bool{false, true} {
				res := mustScan(t, []Input{{Name: filepath.Join(fixtureRoot, name)}},
					Options{Rules: rs, NoPrefilter: noPrefilter, MaxProblems: 1000})
				checkInvariants(t, res)
				st := res.Inputs[0]
				dev := fixtureDeviations[name]

				if got := hits(res, rs, 0); !slices.Equal(got, want.hits) {
					t.Errorf("noPrefilter=%v: matches %v, want %v", noPrefilter, got, want.hits)
				}
				if st.Lines != want.lines {
					t.Errorf("noPrefilter=%v: lines %d, want %d", noPrefilter, st.Lines, want.lines)
				}
				wantMalformed := want.malformed
				if !noPrefilter && len(dev.skippedInvalid) > 0 {
					wantMalformed = slices.DeleteFunc(slices.Clone(wantMalformed), func(l int64) bool {
						return slices.Contains(dev.skippedInvalid, l)
					})
				}
				if got := problemLines(res, 0); !slices.Equal(got, wantMalformed) {
					t.Errorf("noPrefilter=%v: malformed lines %v, want %v (%s)", noPrefilter, got, wantMalformed, dev.why)
				}
				if st.Malformed != int64(len(wantMalformed)) {
					t.Errorf("noPrefilter=%v: malformed %d, want %d", noPrefilter, st.Malformed, len(wantMalformed))
				}
				if st.Blank != int64(len(want.blank)) {
					t.Errorf("noPrefilter=%v: blank %d, want %d", noPrefilter, st.Blank, len(want.blank))
				}
				if wantEvents := want.lines - int64(len(wantMalformed)) - int64(len(want.blank)); st.Layout == LayoutLines && st.Events != wantEvents {
					t.Errorf("noPrefilter=%v: events %d, want %d", noPrefilter, st.Events, wantEvents)
				}
				if st.Overlong != 0 {
					t.Errorf("noPrefilter=%v: overlong %d", noPrefilter, st.Overlong)
				}
				if noPrefilter && st.Parsed != st.Events {
					t.Errorf("NoPrefilter parsed %d of %d events", st.Parsed, st.Events)
				}
				if wantErr, ok := fixtureErrors[name]; ok {
					if st.Err == nil || !strings.Contains(st.Err.Error(), wantErr) {
						t.Errorf("input error %v, want one mentioning %q", st.Err, wantErr)
					}
					if !st.Incomplete() {
						t.Error("Incomplete() = false for an input with an error")
					}
				} else if st.Err != nil {
					t.Errorf("unexpected input error: %v", st.Err)
				}
				info, err := os.Stat(filepath.Join(fixtureRoot, name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Err == nil && st.RawBytes != info.Size() {
					t.Errorf("raw bytes %d, file has %d", st.RawBytes, info.Size())
				}
			}
		})
	}
}

// TestFixtureEvents checks what a matching Event carries besides its line:
// the trimmed raw line, its offset, its shape and a usable document.
func TestFixtureEvents(t *testing.T) {
	rs := builtinRules(t)
	for _, name := range []string{"demo/kube-apiserver-audit.log", "broken/bom_crlf.log", "ecs/search_hits.ndjson", "process/shapes.ndjson"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(fixtureRoot, name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			res := mustScan(t, []Input{{Name: path}}, Options{Rules: rs})
			if len(res.Events) == 0 {
				t.Fatal("no events")
			}
			for _, ev := range res.Events {
				end := ev.Offset + int64(strings.IndexByte(string(data[ev.Offset:]), '\n'))
				if end < ev.Offset {
					end = int64(len(data))
				}
				raw := data[ev.Offset:end]
				if got, want := string(ev.Raw), string(trimLine(raw)); got != want {
					t.Errorf("line %d: Raw %.80q, want the trimmed line %.80q", ev.Line, got, want)
				}
				if n := int64(strings.Count(string(data[:ev.Offset]), "\n")) + 1; n != ev.Line {
					t.Errorf("offset %d is on line %d, event says %d", ev.Offset, n, ev.Line)
				}
				doc, shape := Adapt(ev.Raw)
				if shape != ev.Shape {
					t.Errorf("line %d: shape %s, Adapt says %s", ev.Line, ev.Shape, shape)
				}
				for _, ri := range ev.Rules {
					if !rs[ri].Matches(ev.Doc) || !rs[ri].Matches(doc) {
						t.Errorf("line %d: event's document does not match its rule %s", ev.Line, ruleName(rs[ri]))
					}
				}
			}
		})
	}
}

// TestTruncatedGzipFixture: the findings before the damage are kept, and
// the error locates the damage in both the compressed and the
// decompressed stream.
func TestTruncatedGzipFixture(t *testing.T) {
	rs := builtinRules(t)
	path := filepath.Join(fixtureRoot, "broken/truncated.log.gz")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	res := mustScan(t, []Input{{Name: path}}, Options{Rules: rs})
	st := res.Inputs[0]
	if got := hits(res, rs, 0); !slices.Equal(got, []string{"13:R1"}) {
		t.Errorf("matches %v, want [13:R1]", got)
	}
	var re *ReadError
	if !errors.As(st.Err, &re) {
		t.Fatalf("error %v (%T) is not a *ReadError", st.Err, st.Err)
	}
	if !errors.Is(st.Err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v does not wrap io.ErrUnexpectedEOF", st.Err)
	}
	if re.Input != path {
		t.Errorf("ReadError.Input %q, want %q", re.Input, path)
	}
	// EXPECTED.md: 7141 bytes kept, decoding to 73675 bytes, 73 lines.
	if re.RawOffset != info.Size() || re.RawOffset != 7141 {
		t.Errorf("RawOffset %d, want the file size 7141", re.RawOffset)
	}
	if re.Offset != 73675 || st.Bytes != 73675 {
		t.Errorf("Offset %d, bytes %d, want 73675", re.Offset, st.Bytes)
	}
	if re.Line != 73 {
		t.Errorf("Line %d, want 73", re.Line)
	}
	if st.Compression != CompressionGzip {
		t.Errorf("compression %q", st.Compression)
	}
	for _, want := range []string{path, "7141", "73675", "line 73", "unexpected EOF"} {
		if !strings.Contains(st.Err.Error(), want) {
			t.Errorf("message %q does not mention %q", st.Err, want)
		}
	}
}

// TestAllFixturesInOneScan: scanning every fixture in one call gives each
// input the result it gets alone; an unreadable input does not stop the
// ones after it.
func TestAllFixturesInOneScan(t *testing.T) {
	rs := builtinRules(t)
	files := listFixtures(t)
	var inputs []Input
	for _, name := range files {
		inputs = append(inputs, Input{Name: filepath.Join(fixtureRoot, name)})
	}
	// The corrupt gzip first and last, so inputs follow a failed one.
	corrupt := Input{Name: filepath.Join(fixtureRoot, "broken/corrupt_header.gz")}
	inputs = append(append([]Input{corrupt}, inputs...), corrupt)
	all := mustScan(t, inputs, Options{Rules: rs, Workers: 4, ChunkSize: 4096})
	checkInvariants(t, all)
	for i, in := range inputs {
		alone := mustScan(t, []Input{in}, Options{Rules: rs})
		got, want := hits(all, rs, i), hits(alone, rs, 0)
		if !slices.Equal(got, want) {
			t.Errorf("%s: matches %v in the combined scan, %v alone", in.Name, got, want)
		}
		a, b := all.Inputs[i], alone.Inputs[0]
		if a.Lines != b.Lines || a.Events != b.Events || a.Malformed != b.Malformed || a.Blank != b.Blank || (a.Err == nil) != (b.Err == nil) {
			t.Errorf("%s: stats differ: combined %+v, alone %+v", in.Name, a, b)
		}
	}
	if all.Inputs[0].Err == nil || all.Inputs[len(inputs)-1].Err == nil {
		t.Error("corrupt gzip not reported")
	}
}
