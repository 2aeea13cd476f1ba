package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const testSize = 1 << 20

func generate(t *testing.T, cfg Config) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Write(&buf, cfg)
	if err != nil {
		t.Fatalf("Write(%+v): %v", cfg, err)
	}
	if st.Bytes != int64(buf.Len()) {
		t.Errorf("%+v: Stats.Bytes = %d, wrote %d", cfg, st.Bytes, buf.Len())
	}
	if n := int64(bytes.Count(buf.Bytes(), []byte("\n"))); st.Events != n {
		t.Errorf("%+v: Stats.Events = %d, wrote %d lines", cfg, st.Events, n)
	}
	return buf.Bytes(), st
}

func lines(data []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func TestDeterministic(t *testing.T) {
	for _, shape := range []Shape{Audit, ECS, Process} {
		t.Run(string(shape), func(t *testing.T) {
			cfg := Config{Shape: shape, Layout: All, Size: testSize / 2, Seed: 7, FindingEvery: 100, Escaped: true}
			a, sa := generate(t, cfg)
			b, sb := generate(t, cfg)
			if !bytes.Equal(a, b) || sa != sb {
				t.Fatal("same config gave different output")
			}
			cfg.Seed = 8
			c, _ := generate(t, cfg)
			if bytes.Equal(a, c) {
				t.Fatal("different seeds gave the same output")
			}
		})
	}
}

func TestValidJSONAndEventSize(t *testing.T) {
	for _, shape := range []Shape{Audit, ECS, Process} {
		t.Run(string(shape), func(t *testing.T) {
			data, st := generate(t, Config{Shape: shape, Size: 2 * testSize, Seed: 1, Escaped: true})
			for i, line := range lines(data) {
				if !json.Valid(line) {
					t.Fatalf("line %d is not valid JSON: %.300s", i+1, line)
				}
			}
			avg := float64(st.Bytes) / float64(st.Events)
			if avg < 600 || avg > 1600 {
				t.Errorf("average event size %.0f bytes, want 600-1600", avg)
			}
			if st.Bytes < 2*testSize || st.Bytes > 2*testSize+64<<10 {
				t.Errorf("wrote %d bytes for Size %d", st.Bytes, 2*testSize)
			}
			t.Logf("%d events, average %.0f bytes", st.Events, avg)
		})
	}
}

// flatten turns a decoded document into dotted paths and their values, the
// way Elasticsearch indexes it: nested objects and dotted keys give the same
// path, an array contributes each element.
func flatten(prefix string, v any, out map[string][]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, x, out)
		}
	case []any:
		for _, x := range v {
			flatten(prefix, x, out)
		}
	default:
		out[prefix] = append(out[prefix], v)
	}
}

func flatDoc(t *testing.T, line []byte) map[string][]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatalf("decode: %v: %.300s", err, line)
	}
	out := map[string][]any{}
	flatten("", doc, out)
	return out
}

func has(doc map[string][]any, field string, want any) bool {
	return slices.Contains(doc[field], want)
}

// recount applies the seed rules' conditions to every line independently of
// the generator and returns (findings, matching lines).
func recount(t *testing.T, shape Shape, data []byte) (findings, matching int64) {
	t.Helper()
	execs := map[string]bool{}
	for _, line := range lines(data) {
		switch shape {
		case Audit:
			var ev struct {
				AuditID   string `json:"auditID"`
				Verb      string `json:"verb"`
				ObjectRef struct {
					Resource    string `json:"resource"`
					Subresource string `json:"subresource"`
				} `json:"objectRef"`
				Annotations map[string]string `json:"annotations"`
			}
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Annotations["authorization.k8s.io/decision"] == "allow" && (ev.Verb == "create" || ev.Verb == "get") &&
				ev.ObjectRef.Resource == "pods" && ev.ObjectRef.Subresource == "exec" {
				matching++
				execs[ev.AuditID] = true
			}
		case ECS:
			doc := flatDoc(t, line)
			if has(doc, "event.dataset", "kubernetes.audit_logs") &&
				has(doc, "kubernetes.audit.annotations.authorization_k8s_io/decision", "allow") &&
				(has(doc, "kubernetes.audit.verb", "create") || has(doc, "kubernetes.audit.verb", "get")) &&
				has(doc, "kubernetes.audit.objectRef.resource", "pods") &&
				has(doc, "kubernetes.audit.objectRef.subresource", "exec") {
				matching++
				execs[fmt.Sprint(doc["kubernetes.audit.auditID"])] = true
			}
		case Process:
			doc := flatDoc(t, line)
			if has(doc, "event.category", "process") && len(doc["container.id"]) > 0 &&
				has(doc, "event.type", "start") &&
				has(doc, "process.entry_leader.entry_meta.type", "container") &&
				has(doc, "process.entry_leader.same_as_process", true) &&
				has(doc, "process.interactive", true) {
				matching++
				findings++
			}
		}
	}
	if shape != Process {
		findings = int64(len(execs))
	}
	return findings, matching
}

func TestFindingsRecount(t *testing.T) {
	for _, shape := range []Shape{Audit, ECS, Process} {
		for _, layout := range []Layout{Nested, Dotted, Mixed, All} {
			if shape == Audit && layout != Nested {
				continue
			}
			t.Run(string(shape)+"/"+string(layout), func(t *testing.T) {
				data, st := generate(t, Config{Shape: shape, Layout: layout, Size: testSize, Seed: 3, FindingEvery: 100, Escaped: true})
				findings, matching := recount(t, shape, data)
				if st.Findings != findings || st.MatchingLines != matching {
					t.Errorf("Stats say %d findings in %d matching lines; recount finds %d in %d", st.Findings, st.MatchingLines, findings, matching)
				}
				// One finding per 100 events on average, not a fixed stride.
				if want := st.Events / 100; st.Findings < want/2 || st.Findings > want*2 {
					t.Errorf("%d findings in %d events, want about %d", st.Findings, st.Events, want)
				}
				if shape != Process && (st.MatchingLines < 2*st.Findings || st.MatchingLines > 3*st.Findings) {
					t.Errorf("%d matching lines for %d exec requests, want 2-3 stages each", st.MatchingLines, st.Findings)
				}
			})
		}
	}
}

func TestLayoutsSameEvents(t *testing.T) {
	for _, shape := range []Shape{ECS, Process} {
		t.Run(string(shape), func(t *testing.T) {
			var first []map[string][]any
			var firstStats Stats
			outputs := map[Layout][]byte{}
			for _, layout := range []Layout{Nested, Dotted, Mixed, All} {
				data, st := generate(t, Config{Shape: shape, Layout: layout, Size: testSize / 2, Seed: 5, FindingEvery: 100})
				outputs[layout] = data
				var docs []map[string][]any
				for _, line := range lines(data) {
					docs = append(docs, flatDoc(t, line))
				}
				if first == nil {
					first, firstStats = docs, st
					continue
				}
				if st.Events != firstStats.Events || st.Findings != firstStats.Findings || st.MatchingLines != firstStats.MatchingLines {
					t.Errorf("%s: stats %+v, nested %+v", layout, st, firstStats)
				}
				for i := range min(len(docs), len(first)) {
					if !reflect.DeepEqual(docs[i], first[i]) {
						t.Fatalf("%s: line %d holds other fields than in the nested layout", layout, i+1)
					}
				}
			}
			for _, l := range []Layout{Dotted, Mixed, All} {
				if bytes.Equal(outputs[l], outputs[Nested]) {
					t.Errorf("%s layout wrote the same bytes as nested", l)
				}
			}
			if !bytes.Contains(outputs[Dotted], []byte(`"process.entry_leader.entry_meta.type":`)) &&
				!bytes.Contains(outputs[Dotted], []byte(`"kubernetes.audit.verb":`)) {
				t.Error("dotted layout has no dotted leaf keys")
			}
		})
	}
}

func TestDecoysPresent(t *testing.T) {
	data, _ := generate(t, Config{Shape: Audit, Size: testSize, Seed: 2, FindingEvery: 100})
	for _, want := range []string{`"subresource":"attach"`, `"subresource":"portforward"`, `"subresource":"ephemeralcontainers"`,
		`"authorization.k8s.io/decision":"forbid"`, `"pods/exec"`, `exec /app/server`, `"stage":"RequestReceived"`, `"verb":"get","user"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("audit corpus lacks %s", want)
		}
	}
	data, _ = generate(t, Config{Shape: Process, Size: testSize, Seed: 2, FindingEvery: 100})
	for _, want := range []string{`"type":"sshd"`, `"script"`, `"type":["end"]`, `"action":"fork"`} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("process corpus lacks %s", want)
		}
	}
}

func TestEscaped(t *testing.T) {
	plain, _ := generate(t, Config{Shape: Audit, Size: testSize / 4, Seed: 1})
	escaped, _ := generate(t, Config{Shape: Audit, Size: testSize / 4, Seed: 1, Escaped: true})
	if !bytes.Contains(plain, []byte("&")) || bytes.Contains(plain, []byte(`\u0026`)) {
		t.Error("Escaped false: want raw & in requestURI")
	}
	if bytes.Contains(escaped, []byte("&")) || !bytes.Contains(escaped, []byte(`\u0026`)) {
		t.Error(`Escaped true: want & written as \u0026`)
	}
}

func TestSizeAndErrors(t *testing.T) {
	if _, st := generate(t, Config{Shape: Process, Size: 0}); st.Events != 0 {
		t.Errorf("Size 0 wrote %d events", st.Events)
	}
	_, st := generate(t, Config{Shape: Audit, Size: 1})
	if st.Events == 0 {
		t.Error("Size 1 wrote nothing; want the first event")
	}
	for _, cfg := range []Config{{Shape: "csv", Size: 1}, {Shape: ECS, Layout: "flat", Size: 1}, {Shape: Audit, Size: -1}} {
		if _, err := Write(new(bytes.Buffer), cfg); err == nil {
			t.Errorf("Write(%+v): want an error", cfg)
		}
	}
}

func TestEveryLineHasOneEvent(t *testing.T) {
	data, _ := generate(t, Config{Shape: ECS, Layout: All, Size: testSize / 4, Seed: 9})
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); !strings.HasPrefix(line, `{"@timestamp":`) || !strings.HasSuffix(line, "}") {
			t.Fatalf("unexpected line: %.200s", line)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, shape := range []Shape{Audit, ECS, Process} {
		b.Run(string(shape), func(b *testing.B) {
			cfg := Config{Shape: shape, Size: 32 << 20, Seed: 1, Escaped: true}
			b.SetBytes(cfg.Size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Write(io.Discard, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	r := []byte{}
	for c := range 128 {
		r = append(r, byte(c))
	}
	for _, s := range []string{"", "plain", "a\"b\\c", "&<>", "0123456789&abcdef", string(r), "exec /app/server \"$@\"\n", strings.Repeat("x", 17) + "\t"} {
		for _, html := range []bool{false, true} {
			out := appendString(nil, s, html)
			var back string
			if err := json.Unmarshal(out, &back); err != nil || back != s {
				t.Errorf("appendString(%q, %v) = %s, decodes to %q, %v", s, html, out, back, err)
			}
			if html && bytes.ContainsAny(out, "&<>") {
				t.Errorf("appendString(%q, html) = %s, want &, <, > escaped", s, out)
			}
		}
	}
}

// TestNominalSize checks the size accounting that makes every layout stop
// after the same event: the nested-equivalent size of a dotted or mixed
// corpus is exactly the size of the nested one.
func TestNominalSize(t *testing.T) {
	for _, shape := range []Shape{ECS, Process} {
		_, nested := generate(t, Config{Shape: shape, Size: testSize / 4, Seed: 4})
		for _, layout := range []Layout{Dotted, Mixed, All} {
			cfg, err := normalize(Config{Shape: shape, Layout: layout, Size: testSize / 4, Seed: 4})
			if err != nil {
				t.Fatal(err)
			}
			g := newGen(io.Discard, cfg)
			if shape == ECS {
				g.runAudit()
			} else {
				g.runProcess()
			}
			if g.nominal != nested.Bytes || g.stats.Bytes == nested.Bytes {
				t.Errorf("%s/%s: nested-equivalent %d bytes, actual %d; nested layout wrote %d", shape, layout, g.nominal, g.stats.Bytes, nested.Bytes)
			}
		}
	}
}
