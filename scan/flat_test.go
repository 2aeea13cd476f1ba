package scan

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// flatFieldNames are the fields the flat tests extract: what the built-in
// and operator rules read, and names that stress the path rules (dotted
// keys, arrays of objects, annotations, agent-added fields).
var flatFieldNames = []string{
	"kubernetes.audit.verb", "kubernetes.audit.objectRef.resource", "kubernetes.audit.objectRef.subresource",
	"kubernetes.audit.annotations.authorization_k8s_io/decision", "kubernetes.audit.annotations",
	"kubernetes.audit.annotations.a_b.c", "kubernetes.audit.annotations.authorization_k8s_io/reason",
	"kubernetes.audit.annotations.a_b_c", "kubernetes.audit.user.username", "kubernetes.audit.user.groups",
	"kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name", "kubernetes.audit.impersonatedUser.username",
	"kubernetes.audit.requestObject.spec.containers.securityContext.privileged",
	"kubernetes.audit.requestObject.spec.volumes.hostPath.path", "kubernetes.audit.responseStatus.code",
	"kubernetes.audit.requestURI", "kubernetes.audit", "kubernetes",
	"event.dataset", "data_stream.dataset", "event.action", "event.outcome", "@timestamp", "user.name",
	"source.ip", "related.user", "user_agent.original", "orchestrator.namespace",
	"process.args", "process.name", "process.interactive", "process.entry_leader.entry_meta.type",
	"event.category", "event.type", "container.id", "host.os.type",
	"a", "a.b", "a.b.c", "a.b.c.d", "x.y",
}

func flatFields() []*rules.Field {
	var out []*rules.Field
	for _, n := range flatFieldNames {
		out = append(out, rules.NewField(n))
	}
	// Each rule compiles its own fields: several of one name share a slot,
	// and each must read what the adapter reads.
	for _, n := range flatFieldNames[:8] {
		out = append(out, rules.NewField(n))
	}
	out = append(out, rules.NewField("@timestamp"), rules.NewField("user.name"), rules.NewField("event.outcome"))
	return out
}

// allValues lists every value doc gives for f, as type and raw text, sorted
// (a field read from several raw members lists them member by member,
// the flat walk in document order).
func allValues(doc rules.Document, f *rules.Field) []string {
	var out []string
	doc.Any(f, func(v gjson.Result) bool {
		out = append(out, fmt.Sprintf("%v %s %q", v.Type, v.Raw, v.Str))
		return false
	})
	sort.Strings(out)
	return out
}

// flatOf returns the flat document of rec, or nil where the scanner would
// keep the adapter's. With checked, the values are the ones the checker
// collects while it validates rec, as the scanner takes them; else the
// walker's.
func flatOf(t *testing.T, p *flatPlan, rec []byte, checked bool) (rules.Document, rules.Document) {
	check := checkJSON(rec)
	if !check.valid || check.dupKeys {
		return nil, nil
	}
	doc, _ := adapt(rec, resolver{})
	var s *flatShape
	switch d := doc.(type) {
	case *rawAuditDoc:
		s = &p.raw
	case *ecsDoc:
		if d.root.Raw != string(rec) {
			return doc, nil
		}
		s = &p.ecs
	default:
		return doc, nil
	}
	var vals []flatVal
	// A record with a key that spells a path below a field is read
	// through the adapter's document: both walks must say so.
	var w flatWalker
	wvals, ok := w.extract(rec, s)
	var jc jsonChecker
	jc.walkFor(s)
	if !jc.check(rec).valid {
		t.Fatalf("the check refused valid %s", rec)
	}
	if jc.extends != w.extends {
		t.Fatalf("%s: the check says a key goes on below a field (%v), the walker %v", rec, jc.extends, w.extends)
	}
	if w.extends {
		return doc, nil
	}
	if checked {
		if !bytes.Equal(jc.walked, rec) {
			t.Fatalf("the check refused %s when it walked it", rec)
		}
		vals = jc.vals.list
	} else {
		// A JSON value that is no object has no fields to walk.
		if vals = wvals; !ok && rec[0] == '{' {
			t.Fatalf("the walker refused %s, valid JSON without repeated keys", rec)
		}
	}
	fd := &flatDoc{}
	fd.reset(s, rec, vals, doc)
	return doc, fd
}

func checkFlat(t *testing.T, p *flatPlan, fields []*rules.Field, rec []byte) {
	t.Helper()
	checkFlatWalk(t, p, fields, rec, false)
	checkFlatWalk(t, p, fields, rec, true)
	checkUnvalidatedWalk(t, p, fields, rec)
}

// checkUnvalidatedWalk walks rec, which may be any text, as the scan walks
// a raw audit line it has not validated (worker.ruledOut): nothing may
// panic, and where the walker takes a record that is valid JSON, repeated
// keys anywhere it did not look by name included, its values must be the
// ones the adapter reads, last occurrence winning.
func checkUnvalidatedWalk(t *testing.T, p *flatPlan, fields []*rules.Field, rec []byte) {
	t.Helper()
	for _, s := range []*flatShape{&p.raw, &p.ecs} {
		var w flatWalker
		vals, ok := w.extract(rec, s)
		if !ok {
			continue
		}
		// The scan's fallback for computed fields: the adapter's document
		// of the text as it is.
		fd := &flatDoc{}
		fd.reset(s, rec, vals, &rawAuditDoc{root: gjson.Parse(string(rec))})
		// Reading a value must not panic either, valid JSON or not.
		for _, f := range fields {
			allValues(fd, f)
		}
		check := checkJSON(rec)
		if !check.valid {
			continue
		}
		doc, _ := adapt(rec, resolver{lastWins: check.dupKeys})
		switch d := doc.(type) {
		case *rawAuditDoc:
			if s != &p.raw {
				continue
			}
		case *ecsDoc:
			if s != &p.ecs || d.root.Raw != string(rec) {
				continue
			}
		default:
			continue // documents flat extraction does not serve
		}
		if s == &p.ecs {
			fd.fallback = doc
		}
		for _, f := range fields {
			if got, want := allValues(fd, f), allValues(doc, f); !equalStrings(got, want) {
				t.Errorf("%s in %s (repeated keys %v), walked unvalidated:\n flat    %q\n adapter %q", f.Name, rec, check.dupKeys, got, want)
			}
		}
	}
}

func checkFlatWalk(t *testing.T, p *flatPlan, fields []*rules.Field, rec []byte, checked bool) {
	t.Helper()
	doc, fd := flatOf(t, p, rec, checked)
	if fd == nil {
		return
	}
	_, isRaw := doc.(*rawAuditDoc)
	ld := &leafDoc{rec: rec, raw: isRaw, fallback: doc}
	ld.reads.Store(leafReads) // read through the index from the start
	for _, f := range fields {
		want := allValues(doc, f)
		if got := allValues(fd, f); !equalStrings(got, want) {
			t.Errorf("%s in %s (collected by the check %v):\n flat    %q\n adapter %q", f.Name, rec, checked, got, want)
		}
		if got := allValues(ld, f); !equalStrings(got, want) {
			t.Errorf("%s in %s:\n leaf    %q\n adapter %q", f.Name, rec, got, want)
		}
		// Triage reads the first value: the same one.
		if got, want := rules.First(ld, f), rules.First(doc, f); got.Raw != want.Raw {
			t.Errorf("%s in %s: first value %s, adapter %s", f.Name, rec, got.Raw, want.Raw)
		}
	}
	// Once triage lets the index go, reads give the same values.
	ld.Release()
	for _, f := range fields {
		if got, want := allValues(ld, f), allValues(doc, f); !equalStrings(got, want) {
			t.Errorf("%s in %s after Release:\n leaf    %q\n adapter %q", f.Name, rec, got, want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// flatCases are documents where flat extraction could go wrong.
var flatCases = []string{
	execLine, wsExecLine, noiseLine, procLine,
	`{"a":{"b":1},"a.b":2,"a":{"b":{"c":3}}}`,
	`{"a.b.c":"dotted","a":{"b.c":"mixed","b":{"c":["n1",["n2",null]],"c.d":true}}}`,
	`{"a":[{"b":1},{"b":[2,{"c":"deep"}]},[{"b":3}],null,"scalar"]}`,
	`{"a":{"b":{}},"x":{"y":""}}`,
	`{"a\u002eb":"escaped dot","\u0061":{"b":"escaped key"}}`,
	`{"a":{"b":"t\"q\\u0026\u00e9"},"x.y":-1.5e3}`,
	`{"a":{"b":false,"b.c":null},"a.":"x",".a":"y","":"z"}`,
	`{ "a" : { "b" : [ 1 , 2 ] } , "x" : { "y" : { } } }`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"1","stage":"ResponseComplete","verb":"","user":{"username":"","groups":["a",""],"extra":{"authentication.kubernetes.io/pod-name":["p1"]}},"annotations":{"authorization.k8s.io/decision":"allow","a.b.c":"dedot","a_b.c":"twice"},"annotations.authorization.k8s.io/decision":"dotted","sourceIPs":["10.0.0.1","::1"],"objectRef":{}, "requestObject":{"spec":{"containers":[{"securityContext":{"privileged":true}},{"securityContext":{}}],"volumes":[{"hostPath":{"path":"/"}},{"emptyDir":{}}]}}}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"2","stage":"ResponseComplete","user.username":"dotted-user","objectRef.resource":"pods","responseStatus":{"code":403,"metadata":{}}}`,
	// Computed fields from odd members: a timestamp that is an array, one
	// that is empty, annotations that are not strings or have escaped keys.
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","stageTimestamp":["2026-01-01T00:00:01Z"],"requestReceivedTimestamp":"","timestamp":"2026-01-01T00:00:02Z","annotations":{"authorization.k8s.io/decision":["allow"],"auth\u006frization.k8s.io/reason":{"a":1},"a.b.c":"","a_b.c":"second"}}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","st\u0061geTimestamp":"2026-01-01T00:00:03Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":"RBAC: denied"}}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","annotations":[{"authorization.k8s.io/decision":"allow"}],"requestReceivedTimestamp":"2026-01-01T00:00:04Z"}`,
	// Empty values a raw audit event does not have: "" and {}, not { }.
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"","annotations":{},"requestURI":"\u0000","user":{"username":"u","extra":{}}}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","annotations":{ },"user":{"groups":["",{}]}}`,
	// Repeated keys where no field is, which the walker need not notice,
	// and where one is, which it must.
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","requestObject":{"metadata":{"name":"a","name":"b"}},"user":{"username":"u","uid":"1","uid":"2"}}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","user":{"username":"system:kube-proxy"},"user":{"username":"alice"}}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","objectRef":{"resource":"pods","resource":"secrets"},"verb":"list"}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","st\u0061ge":""}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","stageTimestamp":"2026-01-01T00:00:01Z","stageTimestamp":"","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/decision":"forbid"}}`,
	// Records only the unvalidated walk sees: broken where it steps over
	// values, or in the values it keeps.
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","requestObject":{"a":[1,2}},"x":tru}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"g\x","auditID":01,"stage":}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","user":{"username":"u"`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get"}{"verb":"create"}`,
	`{"kind":"Event","apiVersion":"audit.k8s.io/v1","sourceIPs":[[[[[[["10.0.0.1"]]]]]]],"objectRef":{"resource":"pods"}}`,
}

func TestFlatDocMatchesAdapter(t *testing.T) {
	fields := flatFields()
	p := newFlatPlan(fields)
	for _, c := range flatCases {
		checkFlat(t, p, fields, []byte(c))
	}
	// And every line of our fixtures.
	for _, dir := range []string{"../testdata/families", "../testdata/audit", "../testdata/process", "../testdata/sessions", "../testdata/wrapped"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				checkFlat(t, p, fields, bytes.TrimSpace(sc.Bytes()))
			}
		}
	}
}

// TestFlatExtractsOnlyWhatIsAsked: members no field reads are skipped, not
// collected.
func TestFlatExtractsOnlyWhatIsAsked(t *testing.T) {
	fields := []*rules.Field{rules.NewField("kubernetes.audit.verb")}
	p := newFlatPlan(fields)
	var w flatWalker
	vals, _ := w.extract([]byte(execLine), &p.raw)
	if len(vals) != 1 || vals[0].value([]byte(execLine)).Str != "create" {
		t.Errorf("extracted %+v, want only the verb", vals)
	}
}

func FuzzFlatDocMatchesAdapter(f *testing.F) {
	for _, c := range flatCases {
		f.Add([]byte(c))
	}
	fields := flatFields()
	p := newFlatPlan(fields)
	f.Fuzz(func(t *testing.T, rec []byte) {
		if len(rec) > 1<<16 || !strings.HasPrefix(strings.TrimSpace(string(rec)), "{") {
			return
		}
		checkFlat(t, p, fields, rec)
	})
}

// TestHitDocIndexesFindings checks when a matched event's document builds
// its value index: on the first read for an event a rule matched (triage
// reads dozens of its fields), only when read at length for a context
// event; the values are the adapter's either way.
func TestHitDocIndexesFindings(t *testing.T) {
	raw := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","verb":"create","user":{"username":"alice"}}`)
	doc, shape := adapt(raw, resolver{})
	u := Unit{Raw: raw, Doc: doc, Shape: shape}
	f := rules.NewField("user.name")
	for _, tt := range []struct {
		found bool
		reads int // reads before the index is built
	}{{true, 1}, {false, leafReads + 1}} {
		ld, ok := hitDoc(raw, u, tt.found).(*leafDoc)
		if !ok {
			t.Fatalf("hitDoc of a raw audit event is a %T", hitDoc(raw, u, tt.found))
		}
		for read := 1; read <= tt.reads; read++ {
			if ld.built.Load() {
				t.Errorf("found %v: indexed before read %d", tt.found, read)
			}
			if v := rules.First(ld, f); v.Str != "alice" {
				t.Errorf("found %v: read %d gave %q, want alice", tt.found, read, v.Str)
			}
		}
		if !ld.built.Load() {
			t.Errorf("found %v: not indexed after %d reads", tt.found, tt.reads)
		}
	}
}
