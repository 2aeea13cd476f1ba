package scan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

func values(doc rules.Document, field string) []string {
	return rules.Strings(doc, rules.NewField(field))
}

func TestAdaptShape(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Shape
	}{
		{"kube-apiserver order", execLine, ShapeRawAudit},
		{"other key order", `{"apiVersion":"audit.k8s.io/v1","kind":"Event","verb":"get"}`, ShapeRawAudit},
		{"v1beta1", `{"level":"Metadata","kind":"Event","apiVersion":"audit.k8s.io/v1beta1"}`, ShapeRawAudit},
		{"spaces in the JSON", `{ "kind" : "Event" , "apiVersion" : "audit.k8s.io/v1" }`, ShapeRawAudit},
		{"no apiVersion, auditID and stage", `{"auditID":"a","stage":"ResponseComplete","verb":"create"}`, ShapeRawAudit},
		{"no kind or apiVersion, stage first", `{"stage":"RequestReceived","level":"Request","auditID":"x"}`, ShapeRawAudit},
		{"core v1 Event is not audit", `{"kind":"Event","apiVersion":"v1","reason":"Pulled"}`, ShapeUnknown},
		{"events.k8s.io Event is not audit", `{"kind":"Event","apiVersion":"events.k8s.io/v1"}`, ShapeUnknown},
		{"auditID without stage", `{"auditID":"a","verb":"create"}`, ShapeUnknown},
		{"numeric auditID", `{"auditID":1,"stage":"ResponseComplete"}`, ShapeUnknown},
		{"ECS audit export", `{"event":{"dataset":"kubernetes.audit_logs"},"kubernetes":{"audit":{"auditID":"a","stage":"x","kind":"Event","apiVersion":"audit.k8s.io/v1"}}}`, ShapeECS},
		{"ECS process event", procLine, ShapeECS},
		{"search hit", `{"_index":".ds-logs","_id":"1","_score":null,"_source":{"event":{"dataset":"kubernetes.audit_logs"}}}`, ShapeSearchHit},
		{"search hit wrapping raw audit", `{"_index":"x","_source":` + execLine + `}`, ShapeSearchHit},
		{"_source not an object", `{"_index":"x","_source":"text"}`, ShapeUnknown},
		{"empty object", `{}`, ShapeUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !gjson.Valid(tc.line) {
				t.Fatalf("test line is not valid JSON: %s", tc.line)
			}
			doc, shape := Adapt([]byte(tc.line))
			if shape != tc.want {
				t.Errorf("shape %s, want %s", shape, tc.want)
			}
			if doc == nil {
				t.Error("nil document")
			}
		})
	}
}

// TestRawAuditECSView: a raw audit event is seen the way Elastic's
// kubernetes.audit_logs integration would have indexed it.
func TestRawAuditECSView(t *testing.T) {
	event := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a-1","stage":"ResponseComplete",` +
		`"requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?command=sh\u0026container=api","verb":"create",` +
		`"user":{"username":"alice@example.com","uid":"u-1","groups":["system:authenticated","devs"],"extra":{}},` +
		`"impersonatedUser":{"username":""},"sourceIPs":["10.0.0.1","2001:db8::1"],"userAgent":"kubectl/v1.29.4",` +
		`"objectRef":{"resource":"pods","namespace":"shop","name":"api-1","apiVersion":"v1","subresource":"exec"},` +
		`"responseStatus":{"metadata":{},"code":101},"requestObject":{},"emptyList":[],"nothing":null,` +
		`"requestReceivedTimestamp":"2026-11-20T09:41:06.000000Z","stageTimestamp":"2026-11-20T09:41:07.160199Z",` +
		`"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"","pod-security.kubernetes.io/enforce-policy":"restricted:latest","plain":"x"}}`
	doc, shape := Adapt([]byte(event))
	if shape != ShapeRawAudit {
		t.Fatalf("shape %s", shape)
	}
	tests := []struct {
		field string
		want  []string // nil: missing
	}{
		// Raw fields under kubernetes.audit, camelCase kept.
		{"kubernetes.audit.verb", []string{"create"}},
		{"kubernetes.audit.auditID", []string{"a-1"}},
		{"kubernetes.audit.objectRef.resource", []string{"pods"}},
		{"kubernetes.audit.objectRef.subresource", []string{"exec"}},
		{"kubernetes.audit.user.username", []string{"alice@example.com"}},
		{"kubernetes.audit.user.groups", []string{"system:authenticated", "devs"}},
		{"kubernetes.audit.sourceIPs", []string{"10.0.0.1", "2001:db8::1"}},
		{"kubernetes.audit.responseStatus.code", []string{"101"}},
		{"kubernetes.audit.requestURI", []string{"/api/v1/namespaces/shop/pods/api-1/exec?command=sh&container=api"}},
		// Annotation keys dedotted; the dotted spelling does not exist.
		{"kubernetes.audit.annotations.authorization_k8s_io/decision", []string{"allow"}},
		{"kubernetes.audit.annotations.pod-security_kubernetes_io/enforce-policy", []string{"restricted:latest"}},
		{"kubernetes.audit.annotations.plain", []string{"x"}},
		{"kubernetes.audit.annotations.authorization.k8s.io/decision", nil},
		// Empty values are dropped by the ingest pipeline.
		{"kubernetes.audit.annotations.authorization_k8s_io/reason", nil},
		{"kubernetes.audit.impersonatedUser.username", nil},
		{"kubernetes.audit.requestObject", nil},
		{"kubernetes.audit.user.extra", nil},
		{"kubernetes.audit.emptyList", nil},
		{"kubernetes.audit.nothing", nil},
		{"kubernetes.audit.responseStatus.metadata", nil},
		{"kubernetes.audit.missing", nil},
		// What the agent and the pipeline add.
		{"event.dataset", []string{"kubernetes.audit_logs"}},
		{"data_stream.dataset", []string{"kubernetes.audit_logs"}},
		{"data_stream.type", []string{"logs"}},
		{"event.kind", []string{"event"}},
		{"event.action", []string{"create"}},
		{"event.outcome", []string{"success"}},
		{"user.name", []string{"alice@example.com"}},
		{"user.id", []string{"u-1"}},
		{"source.ip", []string{"10.0.0.1", "2001:db8::1"}},
		{"client.ip", []string{"10.0.0.1", "2001:db8::1"}},
		{"related.ip", []string{"10.0.0.1", "2001:db8::1"}},
		{"related.user", []string{"u-1", "alice@example.com"}},
		{"user_agent.original", []string{"kubectl/v1.29.4"}},
		{"orchestrator.type", []string{"kubernetes"}},
		{"orchestrator.api_version", []string{"audit.k8s.io/v1"}},
		{"orchestrator.namespace", []string{"shop"}},
		{"orchestrator.resource.name", []string{"api-1"}},
		{"orchestrator.resource.type", []string{"pods"}},
		{"@timestamp", []string{"2026-11-20T09:41:07.160199Z"}},
		// Raw fields are not ECS fields of their own.
		{"verb", nil},
		{"objectRef.resource", nil},
		{"annotations.authorization_k8s_io/decision", nil},
		{"kind", nil},
		{"auditID", nil},
		{"kubernetes", nil},
		{"kubernetes.audit", nil},
		{"user.username", nil},
		{"event.category", nil},
		{"container.id", nil},
	}
	for _, tc := range tests {
		if got := values(doc, tc.field); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %q, want %q", tc.field, got, tc.want)
		}
	}
}

func TestRawAuditDerivedFields(t *testing.T) {
	tests := []struct {
		name, event     string
		outcome, stamp  []string
		dataset, subres []string
	}{
		{
			name:    "forbid",
			event:   `{"auditID":"a","stage":"ResponseComplete","annotations":{"authorization.k8s.io/decision":"forbid"},"requestReceivedTimestamp":"2026-01-01T00:00:00Z"}`,
			outcome: []string{"failure"}, stamp: []string{"2026-01-01T00:00:00Z"},
		},
		{
			name:  "no annotations, timestamp fallbacks",
			event: `{"auditID":"a","stage":"RequestReceived","stageTimestamp":"","timestamp":"2026-02-02T00:00:00Z"}`,
			stamp: []string{"2026-02-02T00:00:00Z"},
		},
		{
			name:  "unknown decision",
			event: `{"auditID":"a","stage":"x","annotations":{"authorization.k8s.io/decision":"maybe"}}`,
		},
		{
			name:    "already dedotted key",
			event:   `{"auditID":"a","stage":"x","annotations":{"authorization_k8s_io/decision":"allow"}}`,
			outcome: []string{"success"},
		},
		{
			name:   "fields as arrays",
			event:  `{"kind":"Event","apiVersion":"audit.k8s.io/v1","objectRef":[{"subresource":"log"},{"subresource":["exec"]}]}`,
			subres: []string{"log", "exec"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, shape := Adapt([]byte(tc.event))
			if shape != ShapeRawAudit {
				t.Fatalf("shape %s", shape)
			}
			if got := values(doc, "event.outcome"); !slices.Equal(got, tc.outcome) {
				t.Errorf("event.outcome %q, want %q", got, tc.outcome)
			}
			if got := values(doc, "@timestamp"); !slices.Equal(got, tc.stamp) {
				t.Errorf("@timestamp %q, want %q", got, tc.stamp)
			}
			if got := values(doc, "kubernetes.audit.objectRef.subresource"); !slices.Equal(got, tc.subres) {
				t.Errorf("subresource %q, want %q", got, tc.subres)
			}
			if got := values(doc, "event.dataset"); !slices.Equal(got, []string{"kubernetes.audit_logs"}) {
				t.Errorf("event.dataset %q", got)
			}
		})
	}
}

// TestRawAuditQueries runs queries through the raw-audit document: a raw
// field is reachable only under its ECS name.
func TestRawAuditQueries(t *testing.T) {
	tests := []struct {
		query string
		want  bool
	}{
		{`kubernetes.audit.verb:"create"`, true},
		{`verb:"create"`, false},
		{`not verb:*`, true},
		{`event.dataset:"kubernetes.audit_logs" and event.action:create`, true},
		{`kubernetes.audit.annotations.authorization_k8s_io/decision:allow`, true},
		{`kubernetes.audit.annotations.authorization_k8s_io/reason:*`, false},
		{`source.ip:"2001:db8::1"`, true},
		{`any where cidrMatch(source.ip, "10.0.0.0/8")`, true},
		{`user.name:alice*`, true},
		{`kubernetes.audit.objectRef.subresource:"Exec"`, false},
		{`any where kubernetes.audit.objectRef.subresource : "EXEC"`, true},
		{`kubernetes.audit.responseStatus.code >= 101`, true},
	}
	doc, _ := Adapt([]byte(execLine))
	for _, tc := range tests {
		r := customRule(t, "q", tc.query)
		if got := r.Matches(doc); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}
}

// TestECSFieldResolution: an ECS field resolves through nested objects,
// dotted keys or any mix, arrays of objects and of values, skipping
// nulls, and every layout present contributes its values.
func TestECSFieldResolution(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"nested", `{"a":{"b":{"c":"x"}}}`, []string{"x"}},
		{"dotted", `{"a.b.c":"x"}`, []string{"x"}},
		{"dotted parent", `{"a.b":{"c":"x"}}`, []string{"x"}},
		{"dotted child", `{"a":{"b.c":"x"}}`, []string{"x"}},
		{"array of objects", `{"a":[{"b":{"c":"x"}},{"b":{"c":"y"}},{"d":1}]}`, []string{"x", "y"}},
		{"array of objects with dotted keys", `{"a":[{"b.c":"x"}],"a.b":[{"c":"y"}]}`, []string{"x", "y"}},
		{"nested arrays of values", `{"a":{"b":{"c":[["x"],["y",["z"]]]}}}`, []string{"x", "y", "z"}},
		{"nested arrays of objects", `{"a":[[{"b":{"c":"x"}}],[[{"b.c":"y"}]]]}`, []string{"x", "y"}},
		{"null value", `{"a":{"b":{"c":null}}}`, nil},
		{"null in an array", `{"a":{"b":{"c":[null,"x",[null]]}}}`, []string{"x"}},
		{"null parent", `{"a":null,"a.b":null}`, nil},
		{"same field in every layout", `{"a":{"b":{"c":"x"},"b.c":"y"},"a.b.c":"z","a.b":{"c":["w"]}}`, []string{"x", "y", "z", "w"}},
		{"scalars as text", `{"a.b.c":[1,true,false,1.5e3,"s"]}`, []string{"1", "true", "false", "1.5e3", "s"}},
		{"empty string is a value in ECS", `{"a.b.c":""}`, []string{""}},
		{"object is not a scalar", `{"a":{"b":{"c":{"d":"x"}}}}`, nil},
		{"deeper dotted key is not the field", `{"a.b.c.d":"x"}`, nil},
		{"shallower value is not the field", `{"a":{"b":"x"},"a.b":"y"}`, nil},
		{"prefix of a key is not a segment", `{"ab":{"c":"x"},"a.bc":"y","a":{"bc":"z"},"a.b.cd":"w"}`, nil},
		{"key with a trailing dot", `{"a.":{"b":{"c":"x"}}}`, nil},
		{"array where an object is needed", `{"a":["b"]}`, nil},
		{"escaped key", `{"a\u002eb":{"c":"x"}}`, []string{"x"}},
		{"escaped value", `{"a.b.c":"\u0065x\"ec"}`, []string{`ex"ec`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !gjson.Valid(tc.doc) {
				t.Fatalf("invalid test JSON %s", tc.doc)
			}
			doc, shape := Adapt([]byte(tc.doc))
			if shape != ShapeECS && shape != ShapeUnknown { // a, b and c are no ECS field sets
				t.Fatalf("shape %s", shape)
			}
			if got := values(doc, "a.b.c"); !slices.Equal(got, tc.want) {
				t.Errorf("a.b.c = %q, want %q", got, tc.want)
			}
			// Wrapped as a search hit, the same document resolves the same
			// way, and the hit's own fields are invisible.
			hit := `{"_index":"i","_id":"1","a":{"b":{"c":"outside"}},"_source":` + tc.doc + `}`
			hdoc, hshape := Adapt([]byte(hit))
			if hshape != ShapeSearchHit {
				t.Fatalf("search hit shape %s", hshape)
			}
			if got := values(hdoc, "a.b.c"); !slices.Equal(got, tc.want) {
				t.Errorf("search hit: a.b.c = %q, want %q", got, tc.want)
			}
			if got := values(hdoc, "_index"); got != nil {
				t.Errorf("search hit: _index visible as %q", got)
			}
		})
	}
}

// TestAnyPathStopsAtFirstMatch: Any stops as soon as the test holds, and
// visits values in document order until then.
func TestAnyPathStopsAtFirstMatch(t *testing.T) {
	root := gjson.Parse(`{"a":[{"b":"1"},{"b":"2"}],"a.b":["3","4"]}`)
	var seen []string
	found := resolver{}.anyPath(root, []string{"a", "b"}, func(v gjson.Result) bool {
		seen = append(seen, v.Str)
		return v.Str == "2"
	})
	if !found || !slices.Equal(seen, []string{"1", "2"}) {
		t.Errorf("found %v after %v, want true after [1 2]", found, seen)
	}
	seen = nil
	found = resolver{}.anyPath(root, []string{"a", "b"}, func(v gjson.Result) bool {
		seen = append(seen, v.Str)
		return false
	})
	if found || !slices.Equal(seen, []string{"1", "2", "3", "4"}) {
		t.Errorf("found %v after %v, want false after [1 2 3 4]", found, seen)
	}
	if (resolver{}).anyPath(gjson.Parse(`["a"]`), []string{"a"}, func(gjson.Result) bool { return true }) {
		t.Error("anyPath on an array root found something")
	}
}

func TestPrefixSegments(t *testing.T) {
	segs := []string{"kubernetes", "audit", "verb"}
	tests := []struct {
		key  string
		want int
	}{
		{"kubernetes", 1},
		{"kubernetes.audit", 2},
		{"kubernetes.audit.verb", 3},
		{"kubernetes.audit.verb.x", 0},
		{"kubernetes.", 0},
		{"kubernetesx", 0},
		{"kube", 0},
		{"audit", 0},
		{"", 0},
		{"kubernetes.auditx", 0},
	}
	for _, tc := range tests {
		if got := prefixSegments(tc.key, segs); got != tc.want {
			t.Errorf("prefixSegments(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

// TestTrimLine pins what surrounds an event on its line.
func TestTrimLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{}", "{}"},
		{"{}\r", "{}"},
		{" \t{} \t\r", "{}"},
		{"\ufeff{}", "{}"},
		{"\ufeff  {}", "{}"},
		{"\x00\x00{}", "{}"},
		{" \x00{}", "{}"},
		{"\x00\x00", "\x00\x00"},
		{"\x00 {}", "\x00 {}"},
		{"{}\x00", "{}\x00"},
		{"\r{}", "\r{}"},
		{"", ""},
		{"   ", ""},
		{"2026-11-20T09:41:07.160199123Z stdout F {}", "{}"},
		{"\ufeff2026-11-20T09:41:07Z stderr P \t{\"a\": \r", "{\"a\":"},
		{"2026-11-20T09:41:07Z stdout F", ""},
		{"2026-11-20T09:41:07Z stdout F \x00\x00{}", "{}"},
		{"2026-11-20T09:41:07Z stdout X {}", "stdout X {}"}, // the time kubectl logs --timestamps writes
		{"2026-11-20T09:41:07Z {}", "{}"},
		{"[pod/kube-apiserver-cp-1/kube-apiserver] {}", "{}"},
		{"[pod/kube-apiserver-cp-1/kube-apiserver] 2026-11-20T09:41:07.1+01:00 {}", "{}"},
		{"[pod/a/b]{}", "[pod/a/b]{}"},
		{"[pod/a] {}", "[pod/a] {}"},
		{"[pod/a/b/c] {}", "[pod/a/b/c] {}"},
		{"2026-11-20T09:41:07Z\t{}", "2026-11-20T09:41:07Z\t{}"},
	}
	for _, tc := range tests {
		if got := string(trimLine([]byte(tc.in))); got != tc.want {
			t.Errorf("trimLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzAdapt: any valid JSON object adapts without panicking, and every
// field lookup terminates.
func FuzzAdapt(f *testing.F) {
	for _, s := range []string{execLine, procLine, wsExecLine, `{"_source":{"a.b":[{"c":null}]}}`, `{"a":[[[{"b.c":"x"}]]]}`} {
		f.Add(s, "a.b.c")
		f.Add(s, "kubernetes.audit.annotations.authorization_k8s_io/decision")
	}
	f.Fuzz(func(t *testing.T, line, field string) {
		if !gjson.Valid(line) || !strings.HasPrefix(line, "{") || field == "" {
			return
		}
		doc, _ := Adapt([]byte(line))
		values(doc, field)
		values(doc, "event.dataset")
		values(doc, "kubernetes.audit.verb")
	})
}

// TestExistsBelowDottedKeys: a field is an object when a key, dotted or
// nested, spells a path below it, and then exists as in Elasticsearch,
// which maps {"a.b.c":"x"} as objects: whatever layout the document uses,
// with or without the prefilter, and whether the record is read flat or
// through the adapter.
func TestExistsBelowDottedKeys(t *testing.T) {
	docs := []string{
		`{"a":{"b":{"c":"x"}}}`,
		`{"a.b.c":"x"}`,
		`{"a":{"b.c":"x"}}`,
		`{"a.b":{"c":"x"}}`,
		`{"a.b":[{"c":1}]}`,
		`{"a.b":null}`,
		`{"a.b":{}}`,
		`{"a.b":[null,[]]}`,
		`{"ab.c":"x"}`,
		`{"a.":"x"}`,
		`{"event":{"kind":"event"},"a.b.c":"x"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","objectRef":{"resource.x":"pods"},"auditID":"1"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","objectRef":{"resource":"pods"},"auditID":"2"}`,
	}
	input := strings.Join(docs, "\n") + "\n"
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{`a:*`, []string{"1", "2", "3", "4", "5", "11"}},
		{`a.b:*`, []string{"1", "2", "3", "4", "5", "11"}},
		{`a.b.c:*`, []string{"1", "2", "3", "4", "5", "11"}},
		{`not a:*`, []string{"6", "7", "8", "9", "10", "12", "13"}},
		{`any where a != null`, []string{"1", "2", "3", "4", "5", "11"}},
		{`a:x`, nil}, // an object is no value a term matches
		{`a.b.c:x`, []string{"1", "2", "3", "4", "11"}},
		{`kubernetes.audit.objectRef:*`, []string{"12", "13"}},
		{`kubernetes.audit.objectRef.resource:*`, []string{"12", "13"}}, // resource.x makes resource an object
		{`kubernetes.audit.objectRef.resource:pods`, []string{"13"}},
	} {
		rs := []*rules.Rule{customRule(t, "q", tc.query)}
		for _, noPrefilter := range []bool{false, true} {
			for _, chunk := range []int{0, 64} {
				res := scanString(t, input, Options{Rules: rs, NoPrefilter: noPrefilter, ChunkSize: chunk})
				var got []string
				for _, ev := range res.Events {
					got = append(got, fmt.Sprint(ev.Line))
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s (noPrefilter %v, chunk %d): lines %v, want %v", tc.query, noPrefilter, chunk, got, tc.want)
				}
			}
		}
	}
}
