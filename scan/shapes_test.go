package scan

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// The execs of testdata/wrapped/base.log (see EXPECTED.md, "Wrapped
// shapes"): the auditID and stage of every matching event, in order.
const (
	auditA = "7c1e4b9a-3f52-4d8e-a6b1-2e9d0f4c7a35"
	auditB = "3a8f6d21-b7c4-4e09-9d35-c1f2a8e64b70"
	auditC = "e52b9c07-1d6a-4f83-b2e9-5a7c30d8f146"
	auditD = "9d04f7e3-6c28-4b51-8a9f-d3e1b6c2a078"
)

var wrappedMatches = []string{
	auditA + " ResponseStarted R1",
	auditB + " ResponseStarted R1",
	auditB + " ResponseComplete R1",
	auditC + " ResponseStarted R3",
	auditC + " ResponseComplete R3",
	auditA + " ResponseComplete R1",
}

// TestWrappedShapes: every export of base.log's events gives the same
// matches, each located where the event is in that file, and the summary
// names the shape.
func TestWrappedShapes(t *testing.T) {
	rs := builtinRules(t)
	tests := []struct {
		file   string
		layout string
		shape  Shape
		at     []string // line#index of each match
		skips  map[string]int64
	}{
		{"base.log", LayoutLines, ShapeRawAudit, []string{"4#0", "5#0", "6#0", "9#0", "11#0", "12#0"}, nil},
		{"eventlist.json", LayoutLines, ShapeEventList, []string{"1#4", "1#5", "1#6", "1#9", "1#11", "1#12"}, nil},
		{"eventlist_pretty.json", LayoutJSON, ShapeEventList, []string{"111#4", "149#5", "205#6", "334#9", "415#11", "452#12"}, nil},
		{"array.json", LayoutJSON, ShapeRawAudit, []string{"5#0", "6#0", "7#0", "10#0", "12#0", "13#0"}, nil},
		{"pretty.json", LayoutJSON, ShapeRawAudit, []string{"106#0", "144#0", "200#0", "329#0", "410#0", "447#0"}, nil},
		{"search_hits.ndjson", LayoutLines, ShapeSearchHit, []string{"4#0", "5#0", "6#0", "9#0", "11#0", "12#0"}, nil},
		{"search_response.json", LayoutJSON, ShapeSearchResponse, []string{"171#4", "232#5", "311#6", "467#9", "571#11", "611#12"}, nil},
		{"eks_filter_log_events.json", LayoutJSON, ShapeEKSCloudWatch, []string{"27#4", "34#5", "41#6", "62#9", "76#11", "83#12"}, nil},
		{"eks_insights.ndjson", LayoutLines, ShapeEKSInsights, []string{"4#0", "5#0", "6#0", "9#0", "11#0", "12#0"}, nil},
		{"eks_firehose.json", LayoutLines, ShapeEKSFirehose, []string{"1#4", "1#5", "1#6", "1#9", "1#11", "1#12"}, nil},
		{"eks_firehose.json.gz", LayoutLines, ShapeEKSFirehose, []string{"1#4", "1#5", "1#6", "1#9", "1#11", "1#12"}, nil},
		{"aks_records.json", LayoutLines, ShapeAKS, []string{"1#6", "1#7", "1#8", "1#11", "1#13", "1#14"},
			map[string]int64{"AKS kube-apiserver record": 1, "AKS guard record": 1}},
		{"aks_lines.ndjson", LayoutLines, ShapeAKS, []string{"6#0", "7#0", "8#0", "11#0", "13#0", "14#0"},
			map[string]int64{"AKS kube-apiserver record": 1, "AKS guard record": 1}},
		{"kube-apiserver_cri.log", LayoutCRI, ShapeRawAudit, []string{"5#0", "9#0", "10#0", "13#0", "15#0", "16#0"},
			map[string]int64{skipOutputText: 2}},
		{"otlp.ndjson", LayoutLines, ShapeOTLP, []string{"1#4", "1#5", "2#1", "2#4", "3#2", "3#3"}, map[string]int64{"plain-text message": 1}},
		{"shippers.ndjson", LayoutLines, ShapeShipped, []string{"4#0", "5#0", "6#0", "9#0", "11#0", "12#0"}, nil},
		{"filebeat.ndjson", LayoutLines, ShapeShipped, []string{"4#0", "5#0", "6#0", "9#0", "11#0", "12#0"}, nil},
		{"splunk_export.ndjson", LayoutLines, ShapeShipped, []string{"4#0", "5#0", "6#0", "9#0", "11#0", "12#0"}, nil},
		{"splunk_export.csv", LayoutCSV, ShapeShipped, []string{"5#0", "6#0", "7#0", "10#0", "12#0", "13#0"}, nil},
		{"kube-apiserver_docker.log", LayoutDocker, ShapeDocker, []string{"5#0", "9#0", "10#0", "14#0", "16#0", "17#0"},
			map[string]int64{skipOutputText: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			for _, noPrefilter := range []bool{false, true} {
				for _, chunk := range []int{0, 200} {
					path := filepath.Join(fixtureRoot, "wrapped", tc.file)
					res := mustScan(t, []Input{{Name: path}}, Options{Rules: rs, NoPrefilter: noPrefilter, ChunkSize: chunk, ParseFirst: DefaultParseFirst})
					checkInvariants(t, res)
					st := res.Inputs[0]
					where := fmt.Sprintf("noPrefilter=%v chunk=%d", noPrefilter, chunk)
					if st.Err != nil || st.Malformed != 0 || st.Overlong != 0 || len(res.Problems) != 0 {
						t.Fatalf("%s: err %v, malformed %d, overlong %d, problems %v", where, st.Err, st.Malformed, st.Overlong, res.Problems)
					}
					if st.Layout != tc.layout {
						t.Errorf("%s: layout %s, want %s", where, st.Layout, tc.layout)
					}
					if st.Events != 12 || st.Shapes[tc.shape] != 12 {
						t.Errorf("%s: %d events, shapes %v; want 12 of %s", where, st.Events, st.Shapes, tc.shape)
					}
					if !mapsEqual(st.SkipReasons, tc.skips) {
						t.Errorf("%s: skipped %v, want %v", where, st.SkipReasons, tc.skips)
					}
					got, at := describeMatches(res, rs)
					if !slices.Equal(got, wrappedMatches) {
						t.Errorf("%s: matches\n%s\nwant\n%s", where, strings.Join(got, "\n"), strings.Join(wrappedMatches, "\n"))
					}
					if !slices.Equal(at, tc.at) {
						t.Errorf("%s: matches at %v, want %v", where, at, tc.at)
					}
				}
			}
		})
	}
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

var (
	fAuditIDTest = rules.NewField("kubernetes.audit.auditID")
	fStageTest   = rules.NewField("kubernetes.audit.stage")
)

// describeMatches renders each rule match as "auditID stage rule" and its
// place as "line#index".
func describeMatches(res *Result, rs []*rules.Rule) (matches, at []string) {
	for _, ev := range res.Events {
		for _, ri := range ev.Rules {
			id := rules.First(ev.Doc, fAuditIDTest).Str
			stage := rules.First(ev.Doc, fStageTest).Str
			matches = append(matches, strings.TrimSpace(id+" "+stage)+" "+ruleName(rs[ri]))
			at = append(at, fmt.Sprintf("%d#%d", ev.Line, ev.Index))
		}
	}
	return matches, at
}

// TestGKEShapes: GKE's Cloud Audit Logs entries run the same rules through
// the GKE adapter; GKE records no stage, so only one entry per request.
func TestGKEShapes(t *testing.T) {
	rs := builtinRules(t)
	want := []string{auditA + " R1", auditB + " R1", auditC + " R3"}
	for file, at := range map[string][]string{
		"gke_lines.ndjson": {"2#0", "3#0", "5#0"},
		"gke_array.json":   {"49#0", "97#0", "192#0"},
	} {
		t.Run(file, func(t *testing.T) {
			res := mustScan(t, []Input{{Name: filepath.Join(fixtureRoot, "wrapped", file)}}, Options{Rules: rs, ParseFirst: DefaultParseFirst})
			checkInvariants(t, res)
			st := res.Inputs[0]
			if st.Events != 6 || st.Shapes[ShapeGKE] != 6 || st.Malformed != 0 {
				t.Errorf("events %d shapes %v malformed %d", st.Events, st.Shapes, st.Malformed)
			}
			var got []string
			for _, ev := range res.Events {
				for _, ri := range ev.Rules {
					got = append(got, rules.First(ev.Doc, fAuditIDTest).Str+" "+ruleName(rs[ri]))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("matches %v, want %v (the audit ID is GKE's operation.id)", got, want)
			}
			_, places := describeMatches(res, rs)
			if !slices.Equal(places, at) {
				t.Errorf("at %v, want %v", places, at)
			}
			// A rule on the kept members finds the same entries, with
			// and without the prefilter.
			kept := []*rules.Rule{customRule(t, "kept", `kubernetes.audit.protoPayload.methodName:io.k8s.core.v1.pods.exec.* and kubernetes.audit.logName:*cloudaudit*`)}
			var found [2][]string
			for i, noPrefilter := range []bool{false, true} {
				res := mustScan(t, []Input{{Name: filepath.Join(fixtureRoot, "wrapped", file)}}, Options{Rules: kept, NoPrefilter: noPrefilter})
				_, found[i] = describeMatches(res, kept)
			}
			if len(found[0]) != 4 || !slices.Equal(found[0], found[1]) {
				t.Errorf("a rule on protoPayload matched the four exec entries at %v with the prefilter, %v without", found[0], found[1])
			}
			for _, ev := range res.Events {
				for field, val := range map[string]string{
					"kubernetes.audit.objectRef.resource":    "pods",
					"kubernetes.audit.objectRef.subresource": "exec",
					"orchestrator.cluster.name":              "prod-euw1",
					"event.dataset":                          "kubernetes.audit_logs",
					// Kept under kubernetes.audit, as Elastic's integration keeps them.
					"kubernetes.audit.protoPayload.serviceName":   "k8s.io",
					"kubernetes.audit.resource.labels.project_id": "shop-prod-4411",
					"kubernetes.audit.operation.producer":         "k8s.io",
					"orchestrator.cluster.id":                     "shop-prod-4411",
				} {
					if got := rules.First(ev.Doc, rules.NewField(field)).Str; got != val {
						t.Errorf("line %d: %s = %q, want %q", ev.Line, field, got, val)
					}
				}
			}
		})
	}
}

// TestEKSTruncated: a message CloudWatch cut is reported with the auditID
// it still shows, and the events beside it are evaluated.
func TestEKSTruncated(t *testing.T) {
	rs := builtinRules(t)
	res := mustScan(t, []Input{{Name: filepath.Join(fixtureRoot, "broken", "eks_truncated.json")}}, Options{Rules: rs})
	checkInvariants(t, res)
	st := res.Inputs[0]
	got, at := describeMatches(res, rs)
	if !slices.Equal(got, []string{auditB + " ResponseStarted R1"}) || !slices.Equal(at, []string{"1#1"}) {
		t.Errorf("matches %v at %v", got, at)
	}
	if st.Events != 2 || st.Malformed != 1 || len(res.Problems) != 1 {
		t.Fatalf("events %d malformed %d problems %v", st.Events, st.Malformed, res.Problems)
	}
	p := res.Problems[0]
	if p.Line != 1 || p.Index != 2 || !strings.Contains(p.Reason, "[Truncated...]") || !strings.Contains(p.Reason, auditA) {
		t.Errorf("problem %+v", p)
	}
}

// TestCrashResumed: events kube-apiserver wrote on one line, the first
// cut short by a crash or with its newline lost, are read as the events
// they are, and the cut one is reported with the request it was.
func TestCrashResumed(t *testing.T) {
	rs := builtinRules(t)
	for _, noPrefilter := range []bool{false, true} {
		res := mustScan(t, []Input{{Name: filepath.Join(fixtureRoot, "broken", "crash_resumed.log")}}, Options{Rules: rs, NoPrefilter: noPrefilter})
		checkInvariants(t, res)
		st := res.Inputs[0]
		deployer := "ab94af63-e393-49a8-84aa-5d7364b6021b"
		got, at := describeMatches(res, rs)
		if !slices.Equal(got, []string{deployer + " ResponseStarted R1", deployer + " ResponseComplete R1"}) || !slices.Equal(at, []string{"2#2", "4#1"}) {
			t.Errorf("noPrefilter=%v: matches %v at %v", noPrefilter, got, at)
		}
		if st.Lines != 4 || st.Events != 5 || st.Malformed != 1 || st.Envelopes != 2 || st.Unwrapped != 4 || st.Joined != 2 || len(res.Problems) != 1 {
			t.Fatalf("noPrefilter=%v: %+v, problems %v", noPrefilter, st, res.Problems)
		}
		p := res.Problems[0]
		data, err := os.ReadFile(filepath.Join(fixtureRoot, "broken", "crash_resumed.log"))
		if err != nil {
			t.Fatal(err)
		}
		line1 := int64(strings.IndexByte(string(data), '\n') + 1)
		if p.Line != 2 || p.Index != 1 || p.Offset != line1 || !strings.Contains(p.Reason, "cut short") ||
			p.Cut == nil || p.Cut.AuditID != "9483afa0-f5ba-4ca6-bdde-8126bc306607" || p.Cut.Stage != "ResponseStarted" {
			t.Errorf("noPrefilter=%v: problem %+v", noPrefilter, p)
		}
	}
}

// FuzzUnits: expanding any valid JSON record never fails, every event it
// yields is valid JSON placed inside the record, indices count up from 1,
// and every adapter answers field lookups.
func FuzzUnits(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureRoot, "wrapped", "*"))
	files = append(files, filepath.Join(fixtureRoot, "broken", "eks_truncated.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil || strings.HasSuffix(name, ".gz") {
			continue
		}
		line, _, _ := strings.Cut(string(data), "\n")
		if json.Valid([]byte(line)) {
			f.Add(line, "kubernetes.audit.verb")
		}
	}
	f.Add(`{"records":[{"category":"kube-audit","properties":{"log":"{\"auditID\":\"a\",\"stage\":\"x\"}"}}]}`, "kubernetes.audit.auditID")
	f.Add(`{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.pods.exec.create","resourceName":"core/v1/namespaces/a/pods/b/exec"},"labels":{"x.y/z":"1"}}`, "kubernetes.audit.annotations.x_y/z")
	f.Add(`[[{"kind":"EventList","items":[{"a":1}]}],{"hits":{"hits":[{"_source":{"a":1}}]}}]`, "a")
	f.Fuzz(func(t *testing.T, rec, field string) {
		if !json.Valid([]byte(rec)) || field == "" {
			return
		}
		n := 0
		Units([]byte(rec), func(u Unit) {
			n++
			if u.Index != 0 && u.Index != n {
				t.Fatalf("unit %d has index %d", n, u.Index)
			}
			if u.Offset < 0 || u.Offset > len(rec) {
				t.Fatalf("unit %d at offset %d of a %d-byte record", n, u.Offset, len(rec))
			}
			switch {
			case u.Doc != nil:
				if u.Problem != "" || u.Skip != "" || !json.Valid(u.Raw) {
					t.Fatalf("unit %d: doc with problem %q skip %q raw %q", n, u.Problem, u.Skip, u.Raw)
				}
				values(u.Doc, field)
				values(u.Doc, "kubernetes.audit.annotations.authorization_k8s_io/decision")
				values(u.Doc, "@timestamp")
				values(u.Doc, "orchestrator.cluster.name")
			case u.Problem == "" && u.Skip == "":
				t.Fatalf("unit %d is neither an event, a problem nor skipped", n)
			}
		})
	})
}

// The cluster a wrapper names is read only from the forms EKS and Azure
// write; anything else names no cluster.
func TestWrapperClusterNames(t *testing.T) {
	for group, want := range map[string]string{
		"/aws/eks/prod-use1/cluster":    "prod-use1",
		"/aws/eks/prod/cluster/extra":   "",
		"/aws/eks//cluster":             "",
		"/aws/eks/a/b/cluster":          "",
		"/aws/lambda/prod/cluster":      "",
		"/aws/eks/prod-use1/clusterish": "",
		"":                              "",
	} {
		if got := eksCluster(group); got != want {
			t.Errorf("eksCluster(%q) = %q, want %q", group, got, want)
		}
	}
	for id, want := range map[string]string{
		"/SUBSCRIPTIONS/0/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD":    "AKS-PROD",
		"/subscriptions/0/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-prod":    "aks-prod",
		"/subscriptions/0/providers/Microsoft.ContainerService/managedClusters/aks-prod/agentPools/nodepool1": "aks-prod",
		"/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1":                  "",
		"İİİİ/managedclusters/x": "x",
		"/MANAGEDCLUSTERS":       "",
		"":                       "",
	} {
		if got := aksCluster(id); got != want {
			t.Errorf("aksCluster(%q) = %q, want %q", id, got, want)
		}
	}
}

// TestWrapperProblemsLocated: a record of a wrapper that holds no event (no
// message, not an object, a message of the wrong type) is located where the
// record starts, in a pretty-printed export as in any other.
func TestWrapperProblemsLocated(t *testing.T) {
	rs := builtinRules(t)
	msg, err := json.Marshal(execLine) // the event as a JSON string
	if err != nil {
		t.Fatal(err)
	}
	m := string(msg)
	tests := []struct {
		name, doc string
		hit       string   // line:rule of the event the wrapper holds
		want      []string // line#index:reason
	}{
		{"filter-log-events", "{\n  \"events\": [\n" +
			`    {"logStreamName": "kube-apiserver-audit-1", "timestamp": 1, "message": ` + m + "},\n" +
			`    {"logStreamName": "kube-apiserver-audit-1", "timestamp": 2},` + "\n" +
			"    7,\n" +
			`    {"timestamp": 3, "message": 42}` + "\n  ]\n}\n", "3:R1",
			[]string{"4#2:record has no message", "5#3:record is not a JSON object", "6#4:message is not a string or an object"}},
		{"firehose", "{\n  \"messageType\": \"DATA_MESSAGE\",\n  \"logGroup\": \"/aws/eks/prod/cluster\",\n  \"logEvents\": [\n" +
			`    {"id": "1", "timestamp": 1, "message": ` + m + "},\n" +
			`    {"id": "2", "timestamp": 2},` + "\n" +
			"    \"text\",\n" +
			`    {"id": "4", "timestamp": 3, "message": [1]}` + "\n  ]\n}\n", "5:R1",
			[]string{"6#2:record has no message", "7#3:record is not a JSON object", "8#4:message is not a string or an object"}},
		{"aks", "{\n  \"records\": [\n" +
			`    {"category": "kube-audit", "properties": {"log": ` + m + "}},\n" +
			`    {"category": "kube-audit", "properties": {}},` + "\n" +
			"    null,\n" +
			`    {"category": "kube-audit", "properties": {"log": true}}` + "\n  ]\n}\n", "3:R1",
			[]string{"4#2:record has no message", "5#3:AKS record is not a JSON object", "6#4:message is not a string or an object"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, chunk := range []int{0, 64} {
				res := scanString(t, tc.doc, Options{Rules: rs, ChunkSize: chunk})
				checkInvariants(t, res)
				if got := hits(res, rs, 0); !slices.Equal(got, []string{tc.hit}) {
					t.Errorf("chunk %d: matches %v, want [%s]", chunk, got, tc.hit)
				}
				var got []string
				for _, p := range res.Problems {
					got = append(got, fmt.Sprintf("%d#%d:%s", p.Line, p.Index, p.Reason))
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("chunk %d: problems\n%q\nwant\n%q", chunk, got, tc.want)
				}
			}
		})
	}
}

// TestOneLineArrayNumbered: whole-file JSON holding several events on a
// line (jq -c writes an array on one line) numbers them across the line, so
// each has a place of its own; an event alone on its line has none.
func TestOneLineArrayNumbered(t *testing.T) {
	rs := builtinRules(t)
	ws := strings.Replace(execLine, `"stage":"ResponseStarted"`, `"stage":"ResponseComplete"`, 1)
	doc := "[" + execLine + "," + ws + ", " + execLine + "]\n"
	pretty := "[\n  " + execLine + ", " + ws + ",\n  " + execLine + "\n]\n"
	broken := "[" + execLine + ", 7]\n"
	junk := "[" + execLine + ",\n7,\n" + execLine + "]\n"
	split := "[{\"a\":\n1}, " + execLine + ",\n" + execLine + "]\n"
	for _, tc := range []struct {
		name, doc string
		at        []string
		problems  []string
	}{
		{"one line", doc, []string{"1#1", "1#2", "1#3"}, nil},
		{"two on a line, one alone", pretty, []string{"2#1", "2#2", "3#0"}, nil},
		{"an event and junk", broken, []string{"1#1"}, []string{"1#2"}},
		// Junk is skipped to the next line that starts a value.
		{"junk alone on its line", junk, []string{"1#0", "3#0"}, []string{"2#0"}},
		// Only the records that start on a line count: the one before
		// started a line above.
		{"a record that ends where the next starts", split, []string{"2#0", "3#0"}, nil},
	} {
		for _, chunk := range []int{0, 300} {
			res := scanString(t, tc.doc, Options{Rules: rs, ChunkSize: chunk})
			checkInvariants(t, res)
			var at, problems []string
			for _, ev := range res.Events {
				at = append(at, fmt.Sprintf("%d#%d", ev.Line, ev.Index))
			}
			for _, p := range res.Problems {
				problems = append(problems, fmt.Sprintf("%d#%d", p.Line, p.Index))
			}
			if !slices.Equal(at, tc.at) || !slices.Equal(problems, tc.problems) {
				t.Errorf("%s, chunk %d: events at %v, problems at %v; want %v and %v", tc.name, chunk, at, problems, tc.at, tc.problems)
			}
		}
	}
}
