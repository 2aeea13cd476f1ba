package scan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCRILine(t *testing.T) {
	tests := []struct {
		line    string
		content string
		partial bool
		ok      bool
	}{
		{"2026-11-20T09:41:07.160199123Z stdout F {}", "{}", false, true},
		{"2026-11-20T09:41:07.160199123Z stderr P {\"a\":", "{\"a\":", true, true},
		{"2026-11-20T09:41:07Z stdout F x", "x", false, true},
		{"2026-11-20T10:41:07.1+01:00 stdout F x", "x", false, true},
		{"2026-11-20T04:11:07.1-05:30 stdout F x", "x", false, true},
		{"2026-11-20T09:41:07Z stdout F:future:flags x y", "x y", false, true},
		{"2026-11-20T09:41:07Z stdout F", "", false, true},
		{"2026-11-20T09:41:07Z stdout F  {}", " {}", false, true}, // the output keeps its own spaces
		{"2026-11-20T09:41:07Z stdout X {}", "", false, false},
		{"2026-11-20T09:41:07Z stdout {}", "", false, false},
		{"2026-11-20T09:41:07Z stdin F {}", "", false, false},
		{"2026-11-20T09:41:07Z  stdout F {}", "", false, false},
		{"2026-11-20T09:41:07 stdout F {}", "", false, false},   // no zone
		{"2026-11-20T09:41:07.Z stdout F {}", "", false, false}, // no fraction digits
		{"2026-11-20T09:41:07+0100 stdout F {}", "", false, false},
		{"2026-11-20 09:41:07Z stdout F {}", "", false, false},
		{"2026-1-20T09:41:07Z stdout F {}", "", false, false},
		{"1 stdout F {}", "", false, false},
		{"", "", false, false},
	}
	for _, tc := range tests {
		out, ok := criLine([]byte(tc.line))
		if string(out.content) != tc.content || out.partial != tc.partial || ok != tc.ok || out.stderr != strings.Contains(tc.line, " stderr ") && ok {
			t.Errorf("criLine(%q) = %+v, %v; want %q, %v, %v", tc.line, out, ok, tc.content, tc.partial, tc.ok)
		}
	}
}

// TestDockerJSONFile: a line of Docker's json-file log holds a line of
// output: an event is read with its shape, text is skipped. In an input
// that starts as a Docker log the pieces of a line Docker split are
// joined, read at the first piece's line; elsewhere the first piece is
// malformed with its request named. An object with other members, or
// another stream, is not such a line: it is a log shipper's record
// (shippedMember), whose event is read all the same.
func TestDockerJSONFile(t *testing.T) {
	rs := builtinRules(t)
	docker := func(output, stream string) string { return dockerTestLine(t, output, stream) }
	input := lines(
		docker(execLine+"\n", "stdout"),
		docker("I1120 09:41:07.161998       1 handler.go:286] Adding GroupVersion apps v1\n", "stderr"),
		docker(execLine[:300], "stdout"),
		docker(execLine[300:]+"\n", "stdout"),
		docker(procLine+"\n", "stdout"),
		strings.Replace(docker(execLine+"\n", "stdout"), `"time"`, `"attrs":{"tag":"apiserver"},"time"`, 1),
		strings.Replace(docker(execLine+"\n", "stdout"), `{"log"`, `{"host":"n1","log"`, 1),
		docker(execLine+"\n", "stdin"),
	)
	for _, startsDocker := range []bool{true, false} {
		in, first := input, 1
		if !startsDocker {
			in, first = lines(noiseLine)+input, 2
		}
		at := func(line int) string { return fmt.Sprint(line + first - 1) }
		for _, noPrefilter := range []bool{false, true} {
			for _, chunk := range []int{0, 64} {
				res := scanString(t, in, Options{Rules: rs, NoPrefilter: noPrefilter, ChunkSize: chunk})
				checkInvariants(t, res)
				where := fmt.Sprintf("startsDocker=%v noPrefilter=%v chunk=%d", startsDocker, noPrefilter, chunk)
				st := res.Inputs[0]
				want := []string{at(1) + ":R1", at(5) + ":R2", at(6) + ":R1", at(7) + ":R1", at(8) + ":R1"}
				wantLayout, wantDocker, wantSkipped := LayoutLines, int64(2), int64(2)
				if startsDocker {
					want = slices.Insert(want, 1, at(3)+":R1")
					wantLayout, wantDocker, wantSkipped = LayoutDocker, 3, 1
				}
				if got := hits(res, rs, 0); !slices.Equal(got, want) {
					t.Errorf("%s: matches %v, want %v", where, got, want)
				}
				if st.Layout != wantLayout || st.Lines != int64(7+first) {
					t.Errorf("%s: layout %s, %d lines; want %s, %d", where, st.Layout, st.Lines, wantLayout, 7+first)
				}
				if st.Skipped != wantSkipped || st.SkipReasons[skipOutputText] != wantSkipped {
					t.Errorf("%s: skipped %d %v, want %d container output", where, st.Skipped, st.SkipReasons, wantSkipped)
				}
				if st.Shapes[ShapeDocker] != wantDocker || st.Shapes[ShapeECS] != 1 || st.Shapes[ShapeShipped] != 2 {
					t.Errorf("%s: shapes %v, want docker-json-file %d, ecs 1 (a process event), shipped-audit 2 (other members, another stream)", where, st.Shapes, wantDocker)
				}
				switch {
				case startsDocker && len(res.Problems) != 0:
					t.Errorf("%s: problems %+v, want none", where, res.Problems)
				case !startsDocker && (len(res.Problems) != 1 || res.Problems[0].Line != 4 || !strings.HasPrefix(res.Problems[0].Reason, dockerSplit+"; auditID ") ||
					res.Problems[0].Cut == nil):
					t.Errorf("%s: problems %+v, want line 4 split by Docker, naming its request", where, res.Problems)
				}
			}
		}
	}
}

// TestDockerJoin: in a Docker log the pieces of a split line are joined
// exactly, per stream, with the other stream's lines between them; a
// split line that never ends, or whose next piece is overdue, is
// malformed, naming its request; joined output over the limit is
// overlong.
func TestDockerJoin(t *testing.T) {
	rs := builtinRules(t)
	docker := func(output, stream string) string { return dockerTestLine(t, output, stream) }
	// A piece may end inside an escape of the line it is cut from (\u0026
	// as Docker writes &), and in a space.
	amp := strings.Index(execLine, `\u0026`) + 3
	input := lines(
		docker(execLine[:amp], "stdout"),                                             // 1
		docker("I1120 09:41:07.1 1 x.go:1] text\n", "stderr"),                        // 2
		docker(execLine[amp:amp+50], "stdout"),                                       // 3
		docker(strings.Replace(execLine, "7c0bd8a4", "e11e0000", 1)[:200], "stderr"), // 4
		docker(execLine[amp+50:]+"\n", "stdout"),                                     // 5
		docker(procLine+"\n", "stdout"),                                              // 6
	)
	for _, workers := range []int{1, 3} {
		for _, chunk := range []int{0, 1, 700} {
			res := scanString(t, input, Options{Rules: rs, Workers: workers, ChunkSize: chunk})
			checkInvariants(t, res)
			where := fmt.Sprintf("workers=%d chunk=%d", workers, chunk)
			st := res.Inputs[0]
			if st.Layout != LayoutDocker || st.Lines != 6 || st.Events != 2 || st.Skipped != 1 || st.Malformed != 1 {
				t.Errorf("%s: %+v", where, st)
			}
			if got := hits(res, rs, 0); !slices.Equal(got, []string{"1:R1", "6:R2"}) {
				t.Errorf("%s: matches %v", where, got)
			}
			if len(res.Problems) != 1 || res.Problems[0].Line != 4 || !strings.HasPrefix(res.Problems[0].Reason, dockerUnended+"; auditID e11e0000") {
				t.Errorf("%s: problems %+v, want line 4 never ended, naming its request", where, res.Problems)
			}
		}
	}
	// Its next piece more than the limit after it, the first is given up
	// and the rest is output that is not JSON; a line joined past the
	// limit is overlong.
	far := lines(docker(execLine[:200], "stdout"), docker(strings.Repeat("x", 3000)+"\n", "stderr"), docker(execLine[200:]+"\n", "stdout"))
	res := scanString(t, far, Options{Rules: rs, MaxLineSize: 2000})
	if st := res.Inputs[0]; st.Malformed != 1 || st.Overlong != 1 || st.Skipped != 1 || len(res.Problems) != 2 || res.Problems[0].Line != 1 || !strings.HasPrefix(res.Problems[0].Reason, dockerUnended) {
		t.Errorf("overdue piece: %+v, problems %+v", st, res.Problems)
	}
	long := lines(docker(execLine[:700], "stdout"), docker(execLine[700:]+"\n", "stdout"))
	res = scanString(t, long, Options{Rules: rs, MaxLineSize: len(execLine) - 10})
	if st := res.Inputs[0]; st.Overlong != 1 || st.Events != 0 || st.Malformed != 0 {
		t.Errorf("joined past the limit: %+v", st)
	}
}

func TestDockerForced(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{`{"log":"{\"a\":1}\n","stream":"stdout","time":"t"}`, false},  // a whole event
		{`{"log":"{\"a\":1}","stream":"stdout","time":"t"}`, true},     // a piece
		{`{"log":"{\"a\":\"x\\n","stream":"stdout","time":"t"}`, true}, // ends in a backslash and an n
		{`{"log":"{\"a\":\"x\\\n","stream":"stdout","time":"t"}`, false},
		{`{"log":"I1120 text\n","stream":"stderr","time":"t"}`, true}, // text, to count as skipped
		{`{"log":"","stream":"stdout","time":"t"}`, true},
		{`{"log":"{\"stream\":1}\n","stream":"stdout","time":"t"}`, false},
		{`{"log":"{\"a\":1}","time":"t"}`, false}, // not Docker's order: parsed as any record
		{`{"time":"t","log":"{\"a\":1}","stream":"stdout"}`, false},
		{`{"kind":"Event"}`, false},
	}
	for _, tc := range tests {
		if got := dockerForced([]byte(tc.line)); got != tc.want {
			t.Errorf("dockerForced(%s) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// TestCRIJoin: in a container log the pieces of a split line are joined
// exactly (a piece may end in a space), read at the first piece's line
// and offset, in line order with the other stream's records between them;
// a split line whose next piece is overdue or never comes is malformed,
// naming its request, and joined output over the limit is overlong.
func TestCRIJoin(t *testing.T) {
	rs := builtinRules(t)
	spaced := strings.Replace(execLine, `"userAgent":"kubectl/v1.29.4"`, `"userAgent":"kubectl/v1.29.4 (linux/amd64) kubernetes/4f1b2c3"`, 1)
	cut := strings.Index(spaced, "v1.29.4 ") + len("v1.29.4 ")
	stderrExec := strings.Replace(execLine, "7c0bd8a4", "e11e0000", 1)
	input := lines(
		criPrefix+"stdout P "+spaced[:cut],                   // 1
		criPrefix+"stderr F "+stderrExec,                     // 2
		criPrefix+"stdout P "+spaced[cut:cut+10],             // 3
		criPrefix+"stderr F I1120 09:41:07.1 1 x.go:1] text", // 4
		criPrefix+"stdout F "+spaced[cut+10:],                // 5
		criPrefix+"stdout F "+procLine,                       // 6
	)
	for _, workers := range []int{1, 3} {
		for _, chunk := range []int{0, 1, 700} {
			res := scanString(t, input, Options{Rules: rs, Workers: workers, ChunkSize: chunk})
			checkInvariants(t, res)
			where := fmt.Sprintf("workers=%d chunk=%d", workers, chunk)
			st := res.Inputs[0]
			if st.Layout != LayoutCRI || st.Lines != 6 || st.Records != 4 || st.Events != 3 || st.Skipped != 1 || st.Malformed != 0 {
				t.Errorf("%s: layout %s, lines %d, records %d, events %d, skipped %d, malformed %d; want cri, 6, 4, 3, 1, 0",
					where, st.Layout, st.Lines, st.Records, st.Events, st.Skipped, st.Malformed)
			}
			var got []string
			for _, ev := range res.Events {
				got = append(got, fmt.Sprintf("%d@%d", ev.Line, ev.Offset))
			}
			second := int64(len(criPrefix+"stdout P "+spaced[:cut]) + 1)
			sixth := int64(len(input) - len(criPrefix+"stdout F "+procLine) - 1)
			if want := []string{"1@0", fmt.Sprintf("2@%d", second), fmt.Sprintf("6@%d", sixth)}; !slices.Equal(got, want) {
				t.Fatalf("%s: events at %v, want %v", where, got, want)
			}
			if raw := string(res.Events[0].Raw); raw != spaced {
				t.Errorf("%s: joined event\n%s\nwant\n%s", where, raw, spaced)
			}
		}
	}

	// The next piece must start within the limit of the first; joined
	// output must fit in it.
	long := strings.Replace(execLine, `"level":"Metadata"`, `"level":"Metadata","pad":"`+strings.Repeat("x", 1400)+`"`, 1)
	input = lines(
		criPrefix+"stdout P "+execLine[:300], // 1: overdue
		criPrefix+"stderr F "+long,           // 2
		criPrefix+"stdout F "+execLine[300:], // 3: text now
		criPrefix+"stdout P "+long,           // 4: too long joined
		criPrefix+"stdout F "+long,           // 5
		criPrefix+"stdout P "+execLine[:300], // 6: never ended
	)
	res := scanString(t, input, Options{Rules: rs, MaxLineSize: 2500})
	checkInvariants(t, res)
	st := res.Inputs[0]
	if st.Events != 1 || st.Skipped != 1 || st.Overlong != 1 || st.Malformed != 2 {
		t.Errorf("events %d, skipped %d, overlong %d, malformed %d; want 1, 1, 1, 2", st.Events, st.Skipped, st.Overlong, st.Malformed)
	}
	var problems []string
	for _, p := range res.Problems {
		problems = append(problems, fmt.Sprintf("%d:%s", p.Line, p.Reason))
	}
	want := []string{
		"1:" + criUnended + "; auditID 7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1 (ResponseStarted of create)",
		"4:longer than 2500 bytes, skipped",
		"6:" + criUnended + "; auditID 7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1 (ResponseStarted of create)",
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
	if res.Problems[0].Cut == nil || res.Problems[0].Cut.AuditID != "7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1" {
		t.Errorf("the overdue split line names no request: %+v", res.Problems[0].Cut)
	}
}

// TestOTLPRecords: each log record of an OTLP/JSON export request is an
// event, numbered across the request, with the cluster its resource names;
// a record that is no event is skipped or malformed, saying why.
func TestOTLPRecords(t *testing.T) {
	msg, err := json.Marshal(execLine)
	if err != nil {
		t.Fatal(err)
	}
	rec := `{"resourceLogs":[{"resource":{"attributes":[{"key":"k8s.cluster.name","value":{"stringValue":"prod"}}]},"scopeLogs":[{"logRecords":[` +
		`{"body":{"stringValue":` + string(msg) + `}},{"body":{"kvlistValue":{"values":[]}}},{"attributes":[]},7,{"body":{"stringValue":"text"}}]}]},` +
		`{"scopeLogs":[{"logRecords":[{"body":{"stringValue":` + string(msg) + `}}]}]}]}`
	var got []string
	Units([]byte(rec), func(u Unit) {
		got = append(got, fmt.Sprintf("#%d %s %s%s%s", u.Index, u.Shape, u.Cluster, u.Skip, u.Problem))
	})
	want := []string{"#1 otlp-logs prod", "#2  OTLP log record with a parsed (kvlist) body", "#3  OTLP log record without a string body",
		"#4  OTLP log record is not a JSON object", "#5  plain-text message", "#6 otlp-logs "}
	if !slices.Equal(got, want) {
		t.Errorf("units\n%q\nwant\n%q", got, want)
	}
}

// TestShippedAudit: a record of no other shape whose top-level string is
// a raw audit event is read as that event, whoever wrote it (Filebeat and
// Elastic Agent too, with no integration to read it), unless the record
// has audit fields of its own: then it is the document Elasticsearch
// would match.
func TestShippedAudit(t *testing.T) {
	msg, err := json.Marshal(execLine)
	if err != nil {
		t.Fatal(err)
	}
	m := string(msg)
	sorted := `{"annotations":{"authorization.k8s.io/decision":"allow"},"apiVersion":"audit.k8s.io/v1","kind":"Event","objectRef":{"resource":"pods","subresource":"exec"},"verb":"create"}`
	tests := []struct {
		rec   string
		shape Shape
		obj   string // the event, where it is an object in the record
	}{
		{`{"log":` + m + `}`, ShapeShipped, ""},
		{`{"date":1.5,"log":` + m + `,"kubernetes":{"pod_name":"kube-apiserver-cp-1"}}`, ShapeShipped, ""},
		{`{"labels":{"job":"audit"},"line":` + m + `,"note":"{\"kind\":\"Other\"}"}`, ShapeShipped, ""},
		{`{"a":"x","b":` + m + `,"c":` + m + `}`, ShapeShipped, ""},
		{`{"log":` + strings.ReplaceAll(m, "/", `\/`) + `}`, ShapeShipped, ""}, // Fluent Bit escapes every slash
		{`{"log":"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io.example/v1\"}"}`, ShapeECS, ""},
		{`{"preview":false,"offset":0,"result":{"_cd":"41:1","_raw":` + m + `,"host":"cp-1"}}`, ShapeShipped, ""}, // Splunk's export
		{`{"preview":false,"result":{"_raw":` + m + `,"event.dataset":"kubernetes.audit_logs"}}`, ShapeShipped, ""},
		{`{"preview":false,"result":{"_raw":` + m + `,"kubernetes.audit.verb":"get"}}`, ShapeUnknown, ""},
		{`{"preview":false,"result":{"_raw":` + m + `,"kubernetes":{"audit":{"verb":"get"}}}}`, ShapeUnknown, ""},
		{`{"a":{"b":{"c":` + m + `}}}`, ShapeUnknown, ""}, // only one object down
		// The line parsed into an object, its keys perhaps sorted.
		{`{"date":"2026-11-20T09:41:07Z","service":"kube-apiserver","attributes":` + execLine + `}`, ShapeShipped, execLine},
		{`{"log":` + sorted + `,"stream":"stdout"}`, ShapeShipped, sorted},
		{`{"log":{"kind":"Event","apiVersion":"v1","reason":"Pulled"}}`, ShapeECS, ""}, // a core Event
		// A search hit of an index a shipper fills (OpenSearch and Fluent
		// Bit), and one of Elastic's, whose document holds the event as
		// its message beside the fields it was read into.
		{`{"_index":"fluentbit-2026.11.21","_source":{"@timestamp":"2026-11-21T09:15:02Z","log":` + m + `,"kubernetes":{"pod_name":"kube-apiserver-cp-1"}}}`, ShapeShipped, ""},
		{`{"_index":"filebeat-8.15.0","_source":{"message":` + m + `,"agent":{"type":"filebeat"}}}`, ShapeShipped, ""},
		{`{"_index":".ds-logs-kubernetes.audit_logs-default","_source":{"event":{"original":` + m + `},"kubernetes":{"audit":{"verb":"create"}}}}`, ShapeSearchHit, ""},
		{`{"_index":"audit","_source":` + execLine + `}`, ShapeSearchHit, ""}, // a raw event indexed as it is
		// Filebeat's and Elastic Agent's own records of a line they read
		// and did not parse (a log or filestream input, a custom logs
		// integration, an ingest pipeline that failed), and the event
		// its JSON parser put in a target field.
		{`{"@timestamp":"2026-11-20T09:41:07.112Z","agent":{"type":"filebeat"},"ecs":{"version":"8.0.0"},"log":{"offset":0},"message":` + m + `}`, ShapeShipped, ""},
		{`{"message":` + m + `,"event":{"dataset":"kubernetes.audit_logs"}}`, ShapeShipped, ""},
		{`{"message":` + m + `,"event.dataset":"kubernetes.audit_logs"}`, ShapeShipped, ""},
		{`{"message":` + m + `,"data_stream":{"dataset":"kubernetes.audit_logs"}}`, ShapeShipped, ""},
		{`{"event":{"kind":"pipeline_error","original":` + m + `},"error":{"message":"x"}}`, ShapeShipped, ""},
		{`{"event.original":` + m + `,"data_stream.dataset":"kubernetes.audit_logs"}`, ShapeShipped, ""},
		{`{"agent":{"type":"filebeat"},"audit":` + execLine + `}`, ShapeShipped, execLine},
		{`{"agent":{"type":"filebeat"},"audit":` + execLine + `,"kubernetes":{"audit":{"verb":"get"}}}`, ShapeECS, ""},
		// Elastic's integration keeping the line it read (preserve_original_event).
		{`{"event":{"original":` + m + `},"kubernetes":{"audit":{"verb":"create"}}}`, ShapeECS, ""},
		{`{"event.original":` + m + `,"kubernetes.audit.verb":"create"}`, ShapeECS, ""},
		{`{"message":` + m + `,"kubernetes":{"audit":{"verb":"get"}}}`, ShapeECS, ""},
		{`{"message":` + m + `,"kubernetes.audit.verb":"get"}`, ShapeECS, ""},
		{`{"message":"{\"kind\":\"Event\",\"apiVersion\":\"v1\"}"}`, ShapeUnknown, ""}, // a core Event, not audit
	}
	// Parsed into an object with its keys sorted (encoding/json sorts a
	// map's), it is still found by the rules, with the prefilter too.
	var ev map[string]any
	if err := json.Unmarshal([]byte(execLine), &ev); err != nil {
		t.Fatal(err)
	}
	obj, err := json.Marshal(map[string]any{"attributes": ev, "service": "kube-apiserver"})
	if err != nil {
		t.Fatal(err)
	}
	rs := builtinRules(t)
	for _, noPrefilter := range []bool{false, true} {
		res := scanString(t, lines(noiseLine, string(obj)), Options{Rules: rs, NoPrefilter: noPrefilter})
		if got := hits(res, rs, 0); !slices.Equal(got, []string{"2:R1"}) || res.Inputs[0].Shapes[ShapeShipped] != 1 {
			t.Errorf("noPrefilter=%v: a sorted audit object: matches %v, shapes %v", noPrefilter, got, res.Inputs[0].Shapes)
		}
	}

	// Cut where a store limits a field's size: what is left names the
	// request.
	cutMsg, _ := json.Marshal(execLine[:400])
	var cutUnits []Unit
	Units([]byte(`{"TimeGenerated":"2026-11-20T09:41:07Z","Category":"kube-audit","log_s":`+string(cutMsg)+`}`), func(u Unit) { cutUnits = append(cutUnits, u) })
	if len(cutUnits) != 1 || cutUnits[0].Cut == nil || cutUnits[0].Cut.AuditID != "7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1" ||
		!strings.HasPrefix(cutUnits[0].Problem, "embedded event is not valid JSON; auditID 7c0bd8a4-0f7e-4d57-9d8a-3c1f3b0f52a1") {
		t.Errorf("a cut shipped event: units %+v, want one problem naming its request", cutUnits)
	}

	// In a whole _search response too, placed where the hit starts.
	resp := `{"hits":{"hits":[{"_id":"a1","_source":{"log":` + m + `}},{"_id":"a2","_source":{"message":` + m + `,"kubernetes":{"audit":{"verb":"get"}}}}]}}`
	var got []string
	Units([]byte(resp), func(u Unit) { got = append(got, fmt.Sprintf("%s#%d@%d", u.Shape, u.Index, u.Offset)) })
	if want := []string{fmt.Sprintf("shipped-audit#1@%d", strings.Index(resp, `{"_id":"a1"`)), fmt.Sprintf("search-response#2@%d", strings.Index(resp, `{"_id":"a2"`))}; !slices.Equal(got, want) {
		t.Errorf("search response: units %v, want %v", got, want)
	}
	for _, tc := range tests {
		var units []Unit
		Units([]byte(tc.rec), func(u Unit) { units = append(units, u) })
		if len(units) != 1 || units[0].Shape != tc.shape {
			t.Errorf("%.90s: units %+v, want one of shape %s", tc.rec, units, tc.shape)
			continue
		}
		if tc.shape == ShapeShipped {
			at, raw := strings.Index(tc.rec, `"{\"kind\"`), execLine
			if tc.obj != "" {
				at, raw = strings.Index(tc.rec, tc.obj), tc.obj
			}
			if u := units[0]; string(u.Raw) != raw || u.Index != 0 || u.Offset != at {
				t.Errorf("%.90s: event %.60s at %d#%d, want %.60s at %d#0", tc.rec, u.Raw, u.Offset, u.Index, raw, at)
			}
		}
	}
}

// TestHasAuditGroup: the quick search finds audit.k8s.io exactly where
// bytes.Contains does.
func TestHasAuditGroup(t *testing.T) {
	tests := []string{
		"", "audit.k8s.io", "audit.k8s.i", "k8s.io", "xaudit.k8s.iox", "audit k8s.io", "k8s.io audit.k8s.io",
		"audit.audit.k8s.io", "k8s.iok8s.ioaudit.k8s.io", "audit.k8s.ik8s.io", `"apiVersion":"audit.k8s.io\/v1"`,
		"audit.k8s.io"[:5], "udit.k8s.io", "aaaaaaudit.k8s.io",
	}
	for _, s := range tests {
		if got, want := hasAuditGroup([]byte(s)), strings.Contains(s, "audit.k8s.io"); got != want {
			t.Errorf("hasAuditGroup(%q) = %v, want %v", s, got, want)
		}
	}
}

// dockerTestLine is a line of Docker's json-file log holding output on a
// stream.
func dockerTestLine(t *testing.T, output, stream string) string {
	t.Helper()
	b, err := json.Marshal(output)
	if err != nil {
		t.Fatal(err)
	}
	return `{"log":` + string(b) + `,"stream":"` + stream + `","time":"2026-11-20T09:41:07.160199123Z"}`
}
