package scan

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/k8sexec/k8sexec/internal/corpus"
	"github.com/k8sexec/k8sexec/rules"
	"github.com/klauspost/compress/gzip"
)

// Benchmarks scan corpora from internal/corpus (fixed seed, generated once
// per process, outside the timed loop) from standard input, so the numbers
// measure the engine and not the disk. b.SetBytes is the decompressed size:
// MB/s reads as log throughput. scripts/bench.sh measures the binary on the
// same corpora, written to disk by internal/corpus/gen, next to grep, rg,
// pigz and jq.
//
// Every benchmark checks, outside the timer, that the last scan found what
// the generator says it wrote, so that a broken engine fails the benchmark
// instead of reporting a fast number.

// benchCorpusSize is the size of each corpus: large enough that the worker
// pool and the gzip pipeline reach their steady state, small enough that
// `go test ./scan -bench . -benchtime 3x` stays within a couple of minutes
// on two cores. Dotted and mixed ECS and process corpora come out larger
// (corpus.Config.Size counts nested bytes).
const benchCorpusSize = 48 << 20

// benchConfig is the corpus of one shape and layout at the default finding
// rate, written as cmd's corpus generator writes it by default (seed 1,
// audit strings escaped like kube-apiserver's).
func benchConfig(shape corpus.Shape, layout corpus.Layout) corpus.Config {
	return corpus.Config{Shape: shape, Layout: layout, Size: benchCorpusSize, Seed: 1, Escaped: true}
}

// benchCorpus is a generated corpus and what the generator says it holds.
type benchCorpus struct {
	cfg   corpus.Config
	data  []byte
	stats corpus.Stats
}

// benchCorpora caches corpora by Config (and their gzip by Config) for the
// life of the test binary: sub-benchmarks and repeated -count runs reuse
// them.
var benchCorpora = struct {
	sync.Mutex
	plain map[corpus.Config]*benchCorpus
	gzip  map[corpus.Config][]byte
}{plain: map[corpus.Config]*benchCorpus{}, gzip: map[corpus.Config][]byte{}}

// generated returns the corpus for cfg, generating it on first use.
func generated(tb testing.TB, cfg corpus.Config) *benchCorpus {
	tb.Helper()
	benchCorpora.Lock()
	defer benchCorpora.Unlock()
	if c, ok := benchCorpora.plain[cfg]; ok {
		return c
	}
	var buf bytes.Buffer
	buf.Grow(int(cfg.Size + cfg.Size/2))
	st, err := corpus.Write(&buf, cfg)
	if err != nil {
		tb.Fatalf("corpus.Write(%+v): %v", cfg, err)
	}
	if st.Bytes != int64(buf.Len()) {
		tb.Fatalf("corpus.Write(%+v): Stats.Bytes %d, wrote %d", cfg, st.Bytes, buf.Len())
	}
	c := &benchCorpus{cfg: cfg, data: buf.Bytes(), stats: st}
	benchCorpora.plain[cfg] = c
	return c
}

// gzipped returns the corpus compressed with klauspost/compress/gzip at
// its default level, compressing it on first use.
func gzipped(tb testing.TB, c *benchCorpus) []byte {
	tb.Helper()
	benchCorpora.Lock()
	defer benchCorpora.Unlock()
	if z, ok := benchCorpora.gzip[c.cfg]; ok {
		return z
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(c.data); err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	benchCorpora.gzip[c.cfg] = buf.Bytes()
	return buf.Bytes()
}

// seedRuleIndexes returns the indexes in rs of the rules a corpus's
// findings are defined by (corpus.Stats.Findings): the built-in R1 and R3
// for audit and ECS, R2 for process events, not other rules that share
// their rule_id. Failing the test if one is missing keeps a
// benchmark from silently measuring a rule set that cannot match.
func seedRuleIndexes(tb testing.TB, rs []*rules.Rule) map[int]bool {
	tb.Helper()
	seedRules := map[*rules.Rule]bool{}
	for _, r := range builtinRules(tb) {
		seedRules[r] = true
	}
	out := map[int]bool{}
	for i, r := range rs {
		if seedRules[r] {
			out[i] = true
		}
	}
	if len(out) != len(shortNames) {
		tb.Fatalf("rule set holds %d of the %d seed rules", len(out), len(shortNames))
	}
	return out
}

var (
	ecsAuditIDField = rules.NewField("kubernetes.audit.auditID")
	entityIDField   = rules.NewField("process.entity_id")
)

// checkCorpusResult asserts that a scan of c found exactly what the
// generator wrote, using only the rules in seed to count:
//
//   - every line was read and none was malformed;
//   - the events matched by a seed rule are exactly the corpus's matching
//     lines (Stats.MatchingLines). For audit and ECS these are the stage
//     events of the allowed pods/exec requests that carry the decision
//     annotation (ResponseStarted and ResponseComplete, RequestReceived has
//     none), so one true finding gives two matched events;
//   - their distinct auditIDs (process: distinct entity IDs) are exactly
//     the true findings (Stats.Findings), what triage reports after
//     deduplicating by auditID.
func checkCorpusResult(tb testing.TB, res *Result, c *benchCorpus, seed map[int]bool) {
	tb.Helper()
	if len(res.Inputs) != 1 {
		tb.Fatalf("%d input stats for 1 input", len(res.Inputs))
	}
	st := res.Inputs[0]
	if st.Err != nil || st.Malformed != 0 || st.Overlong != 0 || st.Bytes != int64(len(c.data)) || st.Events != c.stats.Events {
		tb.Fatalf("%s/%s: read %d bytes, %d events (%d malformed, %d overlong, err %v); corpus has %d bytes, %d events",
			c.cfg.Shape, c.cfg.Layout, st.Bytes, st.Events, st.Malformed, st.Overlong, st.Err, len(c.data), c.stats.Events)
	}
	idField := ecsAuditIDField
	if c.cfg.Shape == corpus.Process {
		idField = entityIDField
	}
	var matched int64
	ids := map[string]bool{}
	for _, ev := range res.Events {
		for _, ri := range ev.Rules {
			if seed[ri] {
				matched++
				ids[rules.First(ev.Doc, idField).String()] = true
				break
			}
		}
	}
	if matched != c.stats.MatchingLines || int64(len(ids)) != c.stats.Findings {
		tb.Fatalf("%s/%s (seed %d, every %d): seed rules matched %d events with %d distinct IDs; corpus has %d matching lines, %d true findings",
			c.cfg.Shape, c.cfg.Layout, c.cfg.Seed, c.cfg.FindingEvery, matched, len(ids), c.stats.MatchingLines, c.stats.Findings)
	}
}

// benchScan scans stream (c, or its gzip) from standard input with rs,
// then checks the last result against what the generator wrote.
func benchScan(b *testing.B, c *benchCorpus, stream []byte, rs []*rules.Rule, opts Options) {
	b.Helper()
	seed := seedRuleIndexes(b, rs)
	opts.Rules = rs
	b.SetBytes(int64(len(c.data)))
	b.ReportAllocs()
	var res *Result
	for b.Loop() {
		opts.Stdin = bytes.NewReader(stream)
		var err error
		res, err = Scan(context.Background(), []Input{{Name: Stdin}}, opts)
		if err != nil {
			b.Fatal(err)
		}
	}
	checkCorpusResult(b, res, c, seed) // b.Loop has stopped the timer
	// How much the prefilter let through: the share of events parsed.
	b.ReportMetric(100*float64(res.Inputs[0].Parsed)/float64(max(1, res.Inputs[0].Events)), "%parsed")
}

var benchLayouts = []corpus.Layout{corpus.Nested, corpus.Dotted, corpus.Mixed}

func BenchmarkScanRawAudit(b *testing.B) {
	c := generated(b, benchConfig(corpus.Audit, corpus.Nested))
	benchScan(b, c, c.data, builtinRules(b), Options{})
}

func BenchmarkScanECS(b *testing.B) {
	for _, layout := range benchLayouts {
		b.Run(string(layout), func(b *testing.B) {
			c := generated(b, benchConfig(corpus.ECS, layout))
			benchScan(b, c, c.data, builtinRules(b), Options{})
		})
	}
}

func BenchmarkScanProcess(b *testing.B) {
	for _, layout := range benchLayouts {
		b.Run(string(layout), func(b *testing.B) {
			c := generated(b, benchConfig(corpus.Process, layout))
			benchScan(b, c, c.data, builtinRules(b), Options{})
		})
	}
}

// BenchmarkScanGzip scans the nested corpora gzipped: decompression
// overlaps with matching, so this should come close to gzip's own speed.
func BenchmarkScanGzip(b *testing.B) {
	for _, shape := range []corpus.Shape{corpus.Audit, corpus.ECS, corpus.Process} {
		b.Run(string(shape), func(b *testing.B) {
			c := generated(b, benchConfig(shape, corpus.Nested))
			benchScan(b, c, gzipped(b, c), builtinRules(b), Options{})
		})
	}
}

// BenchmarkScanWorstCase is raw audit where no literal rules a line out.
// validated: the prefilter off, so every line is validated and every rule
// evaluated on it. walked: the prefilter on, with besides the built-in
// rules the one of scripts/worst-case.toml, whose only literal is on
// every line, so every line is walked for its fields (and none is
// validated, since that rule matches none).
func BenchmarkScanWorstCase(b *testing.B) {
	c := generated(b, benchConfig(corpus.Audit, corpus.Nested))
	b.Run("validated", func(b *testing.B) {
		benchScan(b, c, c.data, builtinRules(b), Options{NoPrefilter: true})
	})
	b.Run("walked", func(b *testing.B) {
		rs := append(slices.Clone(builtinRules(b)), customRule(b, "worst-case", `kubernetes.audit.auditID:* and not kubernetes.audit.stage:*`))
		benchScan(b, c, c.data, rs, Options{})
	})
}

// BenchmarkCheckAndCollect is what a parsed raw audit event costs, on
// its own: the one pass that validates a line, checks it for repeated
// keys and collects the values of every field the built-in rules read,
// line after line on one goroutine, from memory. Compare its MB/s with
// validators of other libraries (docs/performance.md, "Worst case").
func BenchmarkCheckAndCollect(b *testing.B) {
	c := generated(b, benchConfig(corpus.Audit, corpus.Nested))
	p, err := newPlan(Options{Rules: builtinRules(b)})
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	var total int64
	for l := range bytes.Lines(c.data) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
			total += int64(len(l))
		}
	}
	var jc jsonChecker
	jc.walkFor(&p.flat.raw)
	b.SetBytes(total)
	b.ReportAllocs()
	valid, vals := 0, 0
	for b.Loop() {
		valid, vals = 0, 0
		for _, l := range lines {
			if jc.check(l).valid {
				valid++
				vals += len(jc.vals.list)
			}
		}
	}
	// Every line is a raw event the generator wrote, holding at least its
	// verb (what a broken walk would lose first).
	if valid != len(lines) || vals < len(lines) {
		b.Fatalf("%d of %d lines valid, %d values collected", valid, len(lines), vals)
	}
}

// BenchmarkScanDense is raw audit where 1% of events are true findings, so
// that parsing, matching and collecting matched events weigh more.
func BenchmarkScanDense(b *testing.B) {
	cfg := benchConfig(corpus.Audit, corpus.Nested)
	cfg.FindingEvery = 100
	c := generated(b, cfg)
	benchScan(b, c, c.data, builtinRules(b), Options{})
}

// elasticRulesDir is the reference copy of Elastic's detection rules, next
// to the repository; the benchmark that needs it skips without it.
var elasticRulesDir = filepath.Join("..", "..", "shared", "reference", "elastic-rules", "rules")

// BenchmarkScanAllRules scans raw audit with every built-in rule and every
// Elastic rule that loads offline, as `k8sexec scan --rules DIR` does, to
// compare with BenchmarkScanRawAudit (the seed rules only): most of those
// rules need fields raw audit lines lack, which the prefilter should
// notice.
func BenchmarkScanAllRules(b *testing.B) {
	if _, err := os.Stat(elasticRulesDir); err != nil {
		b.Skipf("no rules folder: %v", err)
	}
	results, err := rules.LoadPath(elasticRulesDir)
	if err != nil {
		b.Fatal(err)
	}
	var loaded []*rules.Rule
	for _, r := range results {
		if r.Err == nil {
			loaded = append(loaded, r.Rule)
		}
	}
	builtin, err := loadBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.NewSet(builtin, loaded)
	if err != nil {
		b.Fatal(err)
	}
	// Elastic's own versions of R1 and R2 share their rule_id and replace
	// them, as with --rules; they match other events (R1's wants level
	// Request, for one), so the corpus's findings say nothing about them.
	// Keep the seed rules they replaced, at the end, so that the check
	// after the loop stays exact: two cheap rules more than the CLI runs.
	rs := set.Rules
	for _, r := range builtinRules(b) {
		if set.ByID(r.ID) != r {
			rs = append(rs, r)
		}
	}
	b.ReportMetric(float64(len(rs)), "rules")
	c := generated(b, benchConfig(corpus.Audit, corpus.Nested))
	benchScan(b, c, c.data, rs, Options{})
}

// TestBenchCorpusFindings keeps the benchmarks' correctness check honest
// without running them: on small dense corpora of every shape and layout,
// plain and gzipped, with and without the prefilter, the seed rules find
// exactly the generator's findings.
func TestBenchCorpusFindings(t *testing.T) {
	rs := builtinRules(t)
	seed := seedRuleIndexes(t, rs)
	type shapeLayout struct {
		shape  corpus.Shape
		layout corpus.Layout
	}
	cases := []shapeLayout{{corpus.Audit, corpus.Nested}}
	for _, shape := range []corpus.Shape{corpus.ECS, corpus.Process} {
		for _, layout := range []corpus.Layout{corpus.Nested, corpus.Dotted, corpus.Mixed, corpus.All} {
			cases = append(cases, shapeLayout{shape, layout})
		}
	}
	for _, tc := range cases {
		for _, escaped := range []bool{true, false} {
			cfg := corpus.Config{Shape: tc.shape, Layout: tc.layout, Size: 2 << 20, Seed: 3, FindingEvery: 100, Escaped: escaped}
			var buf bytes.Buffer
			st, err := corpus.Write(&buf, cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := &benchCorpus{cfg: cfg, data: buf.Bytes(), stats: st}
			if st.Findings == 0 {
				t.Fatalf("%+v: no findings in %d events", cfg, st.Events)
			}
			for _, gz := range []bool{false, true} {
				stream := c.data
				if gz {
					stream = gzipped(t, c)
				}
				for _, noPrefilter := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/escaped=%v/gzip=%v/noprefilter=%v", tc.shape, tc.layout, escaped, gz, noPrefilter)
					t.Run(name, func(t *testing.T) {
						// Small chunks so that stage events of one request
						// land in different chunks and workers.
						opts := Options{Rules: rs, NoPrefilter: noPrefilter, ChunkSize: 64 << 10, Workers: 3, Stdin: bytes.NewReader(stream)}
						res := mustScan(t, []Input{{Name: Stdin}}, opts)
						checkInvariants(t, res)
						checkCorpusResult(t, res, c, seed)
					})
				}
			}
		}
	}
}
