package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/k8sexec/k8sexec/internal/corpus"
	"github.com/k8sexec/k8sexec/rules"
)

// determinismInputs writes inputs that stress chunking next to the
// fixtures: lines much longer than small chunks, long lines in a row,
// blank runs, a last line without newline, a gzip file.
func determinismInputs(t *testing.T) []Input {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for i := range 400 {
		switch rng.IntN(8) {
		case 0:
			b.WriteString(execLine)
		case 1:
			b.WriteString(procLine)
		case 2:
			b.WriteString(`{"pad":"` + strings.Repeat("p", rng.IntN(3000)) + `"}`)
		case 3:
			b.WriteString(strings.Repeat(" ", rng.IntN(3)))
		case 4:
			b.WriteString(`not json ` + fmt.Sprint(i))
		case 5:
			b.WriteString(wsExecLine + "\r")
		default:
			b.WriteString(noiseLine)
		}
		b.WriteByte('\n')
	}
	b.WriteString(execLine) // no trailing newline
	mixed := b.String()
	write := func(name string, data []byte) Input {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return Input{Name: p}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(mixed))
	zw.Close()

	inputs := []Input{write("mixed.log", []byte(mixed)), write("mixed.log.gz", gz.Bytes())}
	for _, name := range listFixtures(t) {
		inputs = append(inputs, Input{Name: filepath.Join(fixtureRoot, name)})
	}
	return inputs
}

// TestDeterminism: any worker count gives the same Result, byte for byte:
// events in the same order with the same lines, offsets and raw text, the
// same statistics and the same problems. Any chunk size gives the same
// too, except how many events were parsed: an input's line filter is
// adapted to its first chunk, and the filters of chunks too small to
// adapt to (tests use them) let through other lines that match nothing.
func TestDeterminism(t *testing.T) {
	rs := builtinRules(t)
	inputs := determinismInputs(t)
	base := Options{Rules: rs, MaxProblems: 500}
	ref := mustScan(t, inputs, withSize(base, 1, 4<<20))
	checkInvariants(t, ref)
	want := canon(ref)
	if len(ref.Events) < 50 {
		t.Fatalf("only %d events; the inputs should match often", len(ref.Events))
	}

	chunkSizes := []int{1, 7, 64, 100, 1000, 4096, 64 << 10, 4 << 20}
	if testing.Short() {
		chunkSizes = []int{64, 4096}
	}
	for _, size := range chunkSizes {
		sizeRef := canon(mustScan(t, inputs, withSize(base, 1, size)))
		if got, want := withoutParsed(sizeRef), withoutParsed(want); got != want {
			t.Errorf("chunk %d: result differs from chunk 4MiB: %s", size, firstDiff(got, want))
		}
		for _, workers := range []int{2, 8} {
			t.Run(fmt.Sprintf("workers=%d/chunk=%d", workers, size), func(t *testing.T) {
				res := mustScan(t, inputs, withSize(base, workers, size))
				checkInvariants(t, res)
				if got := canon(res); got != sizeRef {
					t.Errorf("result differs from workers=1: %s", firstDiff(got, sizeRef))
				}
			})
		}
	}
	t.Run("default options", func(t *testing.T) {
		res := mustScan(t, inputs, base)
		if got := canon(res); got != want {
			t.Errorf("result differs: %s", firstDiff(got, want))
		}
	})
}

func withSize(o Options, workers, chunk int) Options {
	o.Workers, o.ChunkSize = workers, chunk
	return o
}

// TestPrefilterNeverChangesMatches: with and without the prefilter the
// matched events are identical. Only the bookkeeping may differ: lines the
// prefilter skips are not parsed, so invalid JSON among them counts as an
// event rather than as malformed, and a wrapper among them as one event.
func TestPrefilterNeverChangesMatches(t *testing.T) {
	rs := builtinRules(t)
	inputs := determinismInputs(t)
	for _, size := range []int{64, 4096, 4 << 20} {
		t.Run(fmt.Sprint("chunk=", size), func(t *testing.T) {
			with := mustScan(t, inputs, Options{Rules: rs, ChunkSize: size, Workers: 3})
			without := mustScan(t, inputs, Options{Rules: rs, ChunkSize: size, Workers: 3, NoPrefilter: true})
			if got, want := canonEvents(with), canonEvents(without); got != want {
				t.Errorf("prefilter changed the matches: %s", firstDiff(got, want))
			}
			for i := range inputs {
				a, b := with.Inputs[i], without.Inputs[i]
				if a.Lines != b.Lines || a.Blank != b.Blank || a.Bytes != b.Bytes || a.Overlong != b.Overlong {
					t.Errorf("%s: line accounting differs: %+v vs %+v", a.Name, a, b)
				}
				if a.Records != b.Records || a.Malformed > b.Malformed {
					t.Errorf("%s: prefilter events/malformed %d/%d, without %d/%d",
						a.Name, a.Events, a.Malformed, b.Events, b.Malformed)
				}
				if b.Parsed != b.Events {
					t.Errorf("%s: NoPrefilter parsed %d of %d events", b.Name, b.Parsed, b.Events)
				}
			}
		})
	}
}

// TestPrefilterCustomRules runs rules whose literals the prefilter uses in
// other ways than the built-ins (case-folded EQL, wildcards, or, not,
// numbers, fields the raw-audit adapter synthesizes) over inputs that
// spell the values in many ways, with and without the prefilter.
func TestPrefilterCustomRules(t *testing.T) {
	rs := []*rules.Rule{
		customRule(t, "fold", `process where process.executable : "/BIN/BASH"`),
		customRule(t, "wild", `kubernetes.audit.requestURI:*exec*`),
		customRule(t, "or", `kubernetes.audit.verb:("get" or "create") and kubernetes.audit.objectRef.subresource:exec`),
		customRule(t, "not", `not kubernetes.audit.verb:get`),
		customRule(t, "num", `kubernetes.audit.responseStatus.code >= 101`),
		customRule(t, "synth", `event.action:create and event.outcome:success and source.ip:"10.0.0.1"`),
		customRule(t, "like", `any where user.name like~ "ALICE*"`),
		customRule(t, "in", `any where kubernetes.audit.stage in ("ResponseStarted", "RequestReceived")`),
		customRule(t, "eqlfold", `any where process.entry_leader.entry_meta.type : "CONTAINER" and event.type == "start"`),
	}
	variants := []string{
		execLine, wsExecLine, noiseLine, procLine,
		strings.ReplaceAll(execLine, `"create"`, `"cr\u0065ate"`),
		strings.ReplaceAll(execLine, `"exec"`, `"\u0065x\u0065c"`),
		strings.ReplaceAll(execLine, `alice`, `\u0041LICE`),
		strings.ReplaceAll(execLine, `"10.0.0.1"`, `"10.0.0.\u0031"`),
		strings.ReplaceAll(execLine, `"code":101`, `"code":1.01e2`),
		strings.ReplaceAll(procLine, `/bin/bash`, `\/bin\/BASH`),
		strings.ReplaceAll(procLine, `"container"}`, `"Cont\u0041iner"}`),
		strings.ReplaceAll(procLine, `"start"`, `"st\u0061rt"`),
		strings.ReplaceAll(execLine, `"ResponseStarted"`, `"Response\u0053tarted"`),
	}
	input := lines(variants...)
	for _, size := range []int{16, 4 << 20} {
		with := scanString(t, input, Options{Rules: rs, ChunkSize: size})
		without := scanString(t, input, Options{Rules: rs, ChunkSize: size, NoPrefilter: true})
		if got, want := canonEvents(with), canonEvents(without); got != want {
			t.Errorf("chunk %d: prefilter changed the matches: %s", size, firstDiff(got, want))
		}
		if len(with.Events) < len(variants)/2 {
			t.Errorf("only %d matching lines of %d", len(with.Events), len(variants))
		}
	}
}

// TestPrefilterUnicodeCaseFolding: case-insensitive comparisons must give
// the same result with and without the prefilter, for values spelled with
// non-ASCII letters that lower-case to ASCII under Unicode rules (U+212A
// KELVIN SIGN to 'k', U+0130 I WITH DOT ABOVE to 'i'), raw or escaped.
// Every folding operator folds ASCII only, as Elasticsearch's
// case_insensitive queries do, so those spellings never match; the
// prefilter must neither miss the ASCII ones nor change anything else.
func TestPrefilterUnicodeCaseFolding(t *testing.T) {
	for _, query := range []string{
		`any where user.name : "kim"`,
		`any where user.name : "*KIM*"`,
		`any where user.name in~ ("kim", "tim")`,
		`any where stringContains~(user.name, "kim")`,
		`any where startsWith~(user.name, "KI")`,
	} {
		rs := []*rules.Rule{customRule(t, "fold", query)}
		input := lines(
			`{"user":{"name":"KIM"}}`,
			`{"user":{"name":"\u212aIM"}}`,
			"{\"user\":{\"name\":\"\u212aim\"}}",
			"{\"user\":{\"name\":\"K\u0130M\"}}",
			`{"user":{"name":"K\u0130M"}}`,
			`{"user":{"name":"\u004bIM"}}`,
		)
		for _, size := range []int{16, 4 << 20} {
			with := scanString(t, input, Options{Rules: rs, ChunkSize: size})
			without := scanString(t, input, Options{Rules: rs, ChunkSize: size, NoPrefilter: true})
			if got, want := canonEvents(with), canonEvents(without); got != want {
				t.Errorf("%s, chunk %d: the prefilter changed the matches: %s", query, size, firstDiff(got, want))
			}
			if len(without.Events) < 2 {
				t.Errorf("%s: only %d matches", query, len(without.Events))
			}
		}
	}
}

// TestPrefilterManyRules runs many rules at once, as `--rules` with a
// whole rule folder does: the operator rules of rules/testdata, the
// built-ins, and rules whose best literal is a field's name (existence,
// numbers, regexes, long lists of common values). Inputs are our fixtures
// in every shape (GKE's renamed fields included), also with the names the
// prefilter looks for spelled with JSON escapes. Small chunks make the
// clause order adapt to the data early; every order must give the same
// matches as no prefilter at all.
func TestPrefilterManyRules(t *testing.T) {
	rs := operatorRules(t)
	rs = append(rs,
		customRule(t, "name-exists", `kubernetes.audit.impersonatedUser.username:*`),
		customRule(t, "name-number", `kubernetes.audit.responseStatus.code >= 400 and kubernetes.audit.objectRef.resource:pods`),
		customRule(t, "name-regex", `any where kubernetes.audit.requestObject.spec.containers.securityContext.privileged != null`),
		customRule(t, "name-annotation", `kubernetes.audit.annotations.authorization_k8s_io/decision:* and kubernetes.audit.verb:(get or list or watch or create or update or patch or delete)`),
		customRule(t, "name-process", `process where process.entry_leader.entry_meta.type regex "con.*"`),
		customRule(t, "name-derived", `user.name:* and source.ip:* and event.action:*`),
	)
	var files []string
	for _, dir := range []string{"../testdata/families", "../testdata/wrapped", "../testdata/audit", "../testdata/process", "../testdata/sessions"} {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d fixture files", len(files))
	}
	names := []string{"impersonatedUser", "securityContext", "requestObject", "objectRef", "annotations", "responseStatus", "entry_meta", "protoPayload"}
	dir := t.TempDir()
	var inputs []Input
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{Name: f})
		if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
			continue
		}
		escaped := string(data)
		for _, n := range names {
			escaped = strings.ReplaceAll(escaped, `"`+n+`"`, fmt.Sprintf(`"\u%04x%s"`, n[0], n[1:]))
		}
		if escaped == string(data) {
			continue
		}
		p := filepath.Join(dir, fmt.Sprintf("escaped-%d-%s", i, filepath.Base(f)))
		if err := os.WriteFile(p, []byte(escaped), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{Name: p})
	}
	for _, size := range []int{64, 4096, 4 << 20} {
		t.Run(fmt.Sprint("chunk=", size), func(t *testing.T) {
			with := mustScan(t, inputs, Options{Rules: rs, ChunkSize: size, Workers: 3})
			without := mustScan(t, inputs, Options{Rules: rs, ChunkSize: size, Workers: 3, NoPrefilter: true})
			got, want := canonEvents(with), canonEvents(without)
			if got != want {
				t.Errorf("prefilter changed the matches: %s", firstDiff(got, want))
			}
			if n := strings.Count(want, "\n"); n < 100 {
				t.Errorf("only %d matching events: the inputs exercise too little", n)
			}
		})
	}
	// A log of routine requests: rules whose only literal is a field name
	// missing from it must not make the prefilter parse it.
	selective := append(builtinRules(t),
		customRule(t, "name-exists", `kubernetes.audit.impersonatedUser.username:*`),
		customRule(t, "name-regex", `any where kubernetes.audit.requestObject.spec.containers.securityContext.privileged != null`),
		customRule(t, "name-process", `process where process.entry_leader.entry_meta.type regex "con.*"`),
	)
	noise := scanString(t, strings.Repeat(noiseLine+"\n", 3000)+execLine+"\n", Options{Rules: selective, ChunkSize: 64 << 10})
	if in := noise.Inputs[0]; in.Parsed*10 > in.Events {
		t.Errorf("the prefilter let %d of %d routine events through", in.Parsed, in.Events)
	}
}

// TestStatisticsDoNotDependOnWorkers: the line filter an input gets (its
// clause order, adapted to its first chunk) must not depend on which
// worker saw which chunk first, or the count of parsed events would change
// from run to run. Many rules, several large inputs (twelve chunks: the
// last four adapted), any worker count: the whole Result is the same
// every time.
func TestStatisticsDoNotDependOnWorkers(t *testing.T) {
	// Rules with literals, as Elastic's are: the operator rules include
	// some without one, which turn the prefilter off.
	rs := append(builtinRules(t),
		customRule(t, "name-exists", `kubernetes.audit.impersonatedUser.username:*`),
		customRule(t, "name-number", `kubernetes.audit.responseStatus.code >= 400 and kubernetes.audit.objectRef.resource:pods`),
		customRule(t, "name-annotation", `kubernetes.audit.annotations.authorization_k8s_io/decision:* and kubernetes.audit.verb:(get or list or watch or create or update or patch or delete)`),
		customRule(t, "name-process", `process where process.entry_leader.entry_meta.type regex "con.*"`),
		customRule(t, "secrets", `kubernetes.audit.objectRef.resource:secrets and kubernetes.audit.verb:(get or list)`),
	)
	if p, err := newPlan(Options{Rules: rs}); err != nil || !p.prefilter {
		t.Fatalf("the rules leave the prefilter off (%v)", err)
	}
	dir := t.TempDir()
	var inputs []Input
	for i, shape := range []corpus.Shape{corpus.Audit, corpus.ECS, corpus.Process, corpus.Audit} {
		var b bytes.Buffer
		if _, err := corpus.Write(&b, corpus.Config{Shape: shape, Layout: corpus.Mixed, Size: 3 << 20, Seed: uint64(i + 1), Escaped: true, FindingEvery: 300}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%d-%s.log", i, shape))
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{Name: p})
	}
	var want string
	for run := range 6 {
		workers := []int{1, 2, 8}[run%3]
		got := canon(mustScan(t, inputs, Options{Rules: rs, Workers: workers, ChunkSize: 256 << 10}))
		if run == 0 {
			want = got
			continue
		}
		if got != want {
			t.Fatalf("run %d with %d workers differs: %s", run, workers, firstDiff(got, want))
		}
	}
}

// withoutParsed masks, in a canon text, the counts that depend on the line
// filter: parsed events, and the shapes of events left unparsed.
func withoutParsed(canonText string) string {
	canonText = parsedCount.ReplaceAllString(canonText, "parsed=?")
	return shapesLine.ReplaceAllString(canonText, "  shapes ?")
}

var (
	parsedCount = regexp.MustCompile(`parsed=\d+`)
	shapesLine  = regexp.MustCompile(`(?m)^  shapes .*$`)
)

// TestPrefilterEscapedRenamedMarker: a GKE entry whose protoPayload key is
// spelled with an escape must still be checked against the requirements
// of renamed fields; with only the built-in rules nothing else makes the
// prefilter parse it.
func TestPrefilterEscapedRenamedMarker(t *testing.T) {
	data, err := os.ReadFile("../testdata/wrapped/gke_lines.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	escaped := strings.ReplaceAll(string(data), `"protoPayload"`, `"\u0070rotoPayload"`)
	path := filepath.Join(t.TempDir(), "gke_escaped.ndjson")
	if err := os.WriteFile(path, []byte(escaped), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := builtinRules(t)
	for _, size := range []int{64, 4096, 4 << 20} {
		with := mustScan(t, []Input{{Name: path}}, Options{Rules: rs, ChunkSize: size})
		without := mustScan(t, []Input{{Name: path}}, Options{Rules: rs, ChunkSize: size, NoPrefilter: true})
		if got, want := canonEvents(with), canonEvents(without); got != want || len(without.Events) == 0 {
			t.Errorf("chunk %d: %d matches with the prefilter, %d without: %s", size, len(with.Events), len(without.Events), firstDiff(got, want))
		}
	}
}

// TestPrefilterRawLineHoldingMarker: in a chunk the full search looks
// through (a raw audit line beside an ECS one), a raw audit line holding
// the word protoPayload before the needles its rule wants (here in the
// user agent) is still checked with every needle the search found on it.
// The search used to skip the rest of any line holding the marker, and the
// line check then took the needles after it for absent.
func TestPrefilterRawLineHoldingMarker(t *testing.T) {
	rs := builtinRules(t)
	ecs := `{"@timestamp":"2026-11-20T08:00:00Z","event":{"dataset":"kubernetes.audit_logs"},"kubernetes":{"audit":{"verb":"get"}}}`
	raw := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1","stage":"ResponseStarted",` +
		`"requestURI":"/api/v1/namespaces/default/pods/web/exec?command=sh","verb":"create",` +
		`"user":{"username":"alice","groups":["system:authenticated"]},"userAgent":"protoPayload-tool",` +
		`"objectRef":{"resource":"pods","namespace":"default","name":"web","apiVersion":"v1","subresource":"exec"},` +
		`"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-11-20T08:00:00.000000Z",` +
		`"stageTimestamp":"2026-11-20T08:00:00.100000Z","annotations":{"authorization.k8s.io/decision":"allow"}}`
	data := lines(ecs, raw)
	want := canonEvents(scanString(t, data, Options{Rules: rs, NoPrefilter: true}))
	if !strings.Contains(want, "rules=[1]") {
		t.Fatalf("without the prefilter the exec request is not matched: %s", want)
	}
	for _, way := range []string{"", "groups", "bytes", "twobytes", "pairs", "blocks"} {
		forceSearch = way
		got := canonEvents(scanString(t, data, Options{Rules: rs}))
		forceSearch = ""
		if got != want {
			t.Errorf("searching by %q: %s", way, firstDiff(got, want))
		}
	}
}

// TestInputAdaptsFromItsChunk: an input's first adaptedChunk chunks, and
// every chunk of a shorter input, are scanned with the static filter; the
// rest with one filter adapted to the input's first chunk.
func TestInputAdaptsFromItsChunk(t *testing.T) {
	rs := builtinRules(t)
	const size = 64 << 10
	opts := Options{Rules: rs, ChunkSize: size, MaxLineSize: DefaultMaxLineSize}
	p, err := newPlan(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, chunks := range []int{adaptChunk + 2, adaptedChunk - 1, adaptedChunk + 4} {
		var b bytes.Buffer
		if _, err := corpus.Write(&b, corpus.Config{Shape: corpus.Audit, Size: int64(chunks * size), Seed: 1}); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, fmt.Sprintf("%d.log", chunks))
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		pool := &sync.Pool{New: func() any { b := make([]byte, size); return &b }}
		work := make(chan *chunk, 1024)
		if !readInput(context.Background(), 0, Input{Name: name}, opts, p, pool, work) {
			t.Fatal("readInput was cancelled")
		}
		close(work)
		var adapted *filter
		n := 0
		for c := range work {
			if c.end {
				continue
			}
			switch {
			case n < adaptedChunk && c.filter != nil:
				t.Errorf("%d chunks: chunk %d has an adapted filter", chunks, n)
			case n >= adaptedChunk && (c.filter == nil || adapted != nil && c.filter != adapted):
				t.Errorf("%d chunks: chunk %d has filter %p, want the one adapted filter (%p)", chunks, n, c.filter, adapted)
			case n >= adaptedChunk:
				adapted = c.filter
			}
			if c.release != nil {
				c.release()
			}
			n++
		}
		if n < chunks-1 || n > chunks+1 {
			t.Errorf("%d chunks written, %d read", chunks, n)
		}
		if chunks > adaptedChunk && adapted == nil {
			t.Errorf("%d chunks: no chunk was adapted", chunks)
		}
	}
}

// TestWalkStopsWhereItDoesNotPay: in a chunk where most walked lines are
// matched, lines stop being walked before validation (walkPays), and the
// matches are those of a scan that validates every line, for every
// chunk size, whether the lines that stay unmatched come first or last.
func TestWalkStopsWhereItDoesNotPay(t *testing.T) {
	r := customRule(t, "broad", `kubernetes.audit.verb:get and not user.name:bob`)
	line := func(i int, user string) string {
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"w%d","stage":"ResponseComplete","verb":"get","user":{"username":%q},"objectRef":{"resource":"pods"}}`, i, user)
	}
	for _, order := range []string{"matched first", "unmatched first", "mixed"} {
		var ls []string
		for i := range 300 {
			user := "alice"
			switch order {
			case "matched first":
				if i >= 200 {
					user = "bob"
				}
			case "unmatched first":
				if i < 100 {
					user = "bob"
				}
			default:
				if i%3 == 0 {
					user = "bob"
				}
			}
			ls = append(ls, line(i, user))
		}
		data := lines(ls...)
		want := canonEvents(scanString(t, data, Options{Rules: []*rules.Rule{r}, NoPrefilter: true}))
		if n := strings.Count(want, "\n"); n != 200 {
			t.Fatalf("%s: %d matches, want 200", order, n)
		}
		for _, chunk := range []int{512, 8 << 10, 1 << 20} {
			if got := canonEvents(scanString(t, data, withSize(Options{Rules: []*rules.Rule{r}}, 2, chunk))); got != want {
				t.Errorf("%s, chunk %d: %s", order, chunk, firstDiff(got, want))
			}
		}
	}

	// One chunk of mostly matched lines: the walk stops after the trial.
	p, err := newPlan(Options{Rules: []*rules.Rule{r}})
	if err != nil {
		t.Fatal(err)
	}
	var ls []string
	for i := range 200 {
		ls = append(ls, line(i, "alice"))
	}
	w := newWorker(p, -1)
	res := w.process(&chunk{data: []byte(lines(ls...))})
	if len(res.hits) != 200 || w.walked != walkTrial {
		t.Errorf("%d hits, %d lines walked, want 200 and %d", len(res.hits), w.walked, walkTrial)
	}
}

// TestPrefilterIPFields: an address in an ip field (source.ip) has many
// spellings and a CIDR block none, so the prefilter must not look for the
// query's text. Each variant spells an address in 10.0.0.0/8 or
// 2001:db8::1 differently; every one must match, with and without the
// prefilter.
func TestPrefilterIPFields(t *testing.T) {
	rs := []*rules.Rule{
		customRule(t, "block", `source.ip:"10.0.0.0/8" and kubernetes.audit.verb:create`),
		customRule(t, "v6", `any where source.ip == "2001:DB8:0::1"`),
	}
	spell := func(v4, v6 string) string {
		return strings.ReplaceAll(execLine, `"sourceIPs":["10.0.0.1","2001:db8::1"]`, `"sourceIPs":["`+v4+`","`+v6+`"]`)
	}
	variants := []string{
		spell("10.0.0.1", "2001:db8::1"),
		spell("::ffff:10.200.3.4", "2001:0db8::0001"),
		spell("10.9.9.9", "2001:db8:0:0:0:0:0:1"),
		spell("::ffff:a00:1", "2001:DB8::1"),
		strings.Replace(procLine, `"user":{"id":"1000"}`, `"user":{"id":"1000"},"source":{"ip":"2001:db8::0:1"}`, 1),
	}
	input := lines(append(variants, noiseLine, spell("11.0.0.1", "2001:db8::2"))...)
	for _, noPrefilter := range []bool{false, true} {
		res := scanString(t, input, Options{Rules: rs, NoPrefilter: noPrefilter})
		byRule := map[int]int{}
		for _, e := range res.Events {
			for _, r := range e.Rules {
				byRule[r]++
			}
		}
		if byRule[0] != 4 || byRule[1] != 5 {
			t.Errorf("NoPrefilter %v: %d lines in 10.0.0.0/8 (want 4) and %d at 2001:db8::1 (want 5)", noPrefilter, byRule[0], byRule[1])
		}
	}
}

// TestPrefilterDateFields: a date has many spellings (a zone, epoch
// milliseconds), so the prefilter must not look for a date term's text
// (here event.created's; @timestamp is never looked for, since the raw
// adapter computes it).
// Every variant is on 2026-11-20 in UTC and must match, with and without
// the prefilter.
func TestPrefilterDateFields(t *testing.T) {
	rs := []*rules.Rule{customRule(t, "day", `event.created:2026-11-20 and event.action:exec`)}
	spell := func(ts string) string {
		return strings.Replace(procLine, `"@timestamp":"2026-11-20T09:41:07.500Z"`, `"@timestamp":"2026-12-01T09:41:07.500Z","event.created":`+ts, 1)
	}
	variants := []string{
		spell(`"2026-11-20T09:41:07.500Z"`),
		spell(`1795176000000`),
		spell(`"1795176000000"`),
		spell(`"2026-11-21T00:30:00+01:00"`),
		spell(`"2026-11-20T23:59:59.999999"`),
		spell(`"2026-11-20"`),
	}
	input := lines(append(variants, noiseLine, spell(`"2026-11-21T00:00:00Z"`), spell(`"2026-11-20T00:30:00+01:00"`))...)
	for _, noPrefilter := range []bool{false, true} {
		res := scanString(t, input, Options{Rules: rs, NoPrefilter: noPrefilter})
		if len(res.Events) != len(variants) {
			t.Errorf("NoPrefilter %v: %d events on 2026-11-20, want %d", noPrefilter, len(res.Events), len(variants))
		}
	}
}

// TestIndexScopeInScan: a rule's index patterns hold on every path the
// scan takes to a document (flat walks of each layout, the adapters, the
// prefilter on and off): the interactive-exec seed rule searches
// logs-cloud_defend*, so the same shell event stored in another data
// stream is no match, and one that names no stream is.
func TestIndexScopeInScan(t *testing.T) {
	rs := builtinRules(t)
	stream := func(ds string) string {
		return strings.Replace(procLine, `{"@timestamp"`, `{"data_stream":{"dataset":"`+ds+`","type":"logs"},"@timestamp"`, 1)
	}
	dotted := strings.Replace(procLine, `{"@timestamp"`, `{"data_stream.dataset":"endpoint.events.process","@timestamp"`, 1)
	input := lines(stream("cloud_defend.process"), stream("endpoint.events.process"), dotted, procLine)
	for _, noPrefilter := range []bool{false, true} {
		res := scanString(t, input, Options{Rules: rs, NoPrefilter: noPrefilter})
		got := strings.Join(hits(res, rs, 0), " ")
		if want := "1:R2 4:R2"; got != want {
			t.Errorf("NoPrefilter %v: hits %q, want %q", noPrefilter, got, want)
		}
	}
}
