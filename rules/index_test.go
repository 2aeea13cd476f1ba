package rules_test

import (
	"fmt"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// A rule's index patterns are the indices Elasticsearch searches for it: a
// document stored in another data stream never matches, whatever the
// query. Offline, a document that names its data stream is held to the
// patterns; one that does not is matched by the query alone.
func TestIndexScope(t *testing.T) {
	rule := func(index string) *rules.Rule {
		t.Helper()
		toml := fmt.Sprintf("[rule]\nrule_id = \"r\"\nname = \"r\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 'process.name:cat'\n%s\n", index)
		r, err := rules.Parse([]byte(toml), "r.toml")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	doc := func(stream string) rules.Document {
		return adapt(`{"event":{"category":"process"},"process":{"name":"cat"}` + stream + `}`)
	}
	var (
		fileStream    = `,"data_stream":{"type":"logs","dataset":"cloud_defend.file","namespace":"default"}`
		processStream = `,"data_stream":{"type":"logs","dataset":"cloud_defend.process","namespace":"default"}`
		dottedFile    = `,"data_stream.dataset":"cloud_defend.file"` // type and namespace default to logs, default
		testNS        = `,"data_stream":{"dataset":"cloud_defend.file","namespace":"test"}`
		metrics       = `,"data_stream":{"type":"metrics","dataset":"cloud_defend.file"}`
		emptyDataset  = `,"data_stream":{"dataset":""}`
		eventDataset  = `,"event.dataset":"cloud_defend.process"` // says nothing of the index
	)
	for _, tc := range []struct {
		index, stream string
		want          bool
	}{
		{`index = ["logs-cloud_defend.file*"]`, fileStream, true},
		{`index = ["logs-cloud_defend.file*"]`, processStream, false},
		{`index = ["logs-cloud_defend.file*"]`, dottedFile, true},
		{`index = ["logs-cloud_defend.file*"]`, metrics, false},
		{`index = ["logs-cloud_defend.file*"]`, "", true},
		{`index = ["logs-cloud_defend.file*"]`, emptyDataset, true},
		{`index = ["logs-cloud_defend.file*"]`, eventDataset, true},
		{`index = ["logs-cloud_defend.file-default"]`, testNS, false},
		{`index = ["logs-cloud_defend.file*", "-logs-cloud_defend.file-test"]`, testNS, false},
		{`index = ["logs-cloud_defend.file*", "-logs-cloud_defend.file-test"]`, fileStream, true},
		{`index = ["remote:logs-cloud_defend.file*"]`, fileStream, true},
		{`index = ["remote:logs-cloud_defend.file*"]`, processStream, false},
		{`index = ["endgame-*", "logs-endpoint.events.process*", "logs-cloud_defend.process*"]`, processStream, true},
		{`index = ["endgame-*", "logs-endpoint.events.process*", "logs-cloud_defend.process*"]`, fileStream, false},
		{`index = ["*"]`, processStream, true},
		{``, processStream, true},
	} {
		if got := rule(tc.index).Matches(doc(tc.stream)); got != tc.want {
			t.Errorf("%s on a document with %q: match %v, want %v", tc.index, tc.stream, got, tc.want)
		}
	}

	// A raw audit line says where the agent would have stored it.
	audit := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"get","user":{"username":"u"},"objectRef":{"resource":"secrets"}}`
	for index, want := range map[string]bool{`index = ["logs-kubernetes.audit_logs-*"]`: true, `index = ["logs-cloud_defend*"]`: false} {
		toml := "[rule]\nrule_id = \"a\"\nname = \"a\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 'kubernetes.audit.verb:get'\n" + index + "\n"
		r, err := rules.Parse([]byte(toml), "a.toml")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Matches(adapt(audit)); got != want {
			t.Errorf("%s on a raw audit event: match %v, want %v", index, got, want)
		}
	}
}

// One rule asked about documents of several streams in turn answers each
// by its own stream, not by the one asked about before it.
func TestIndexScopeAlternatingStreams(t *testing.T) {
	toml := "[rule]\nrule_id = \"r\"\nname = \"r\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 'process.name:cat'\nindex = [\"logs-cloud_defend.process*\"]\n"
	r, err := rules.Parse([]byte(toml), "r.toml")
	if err != nil {
		t.Fatal(err)
	}
	streams := []struct {
		typ, dataset, namespace string
		want                    bool
	}{
		{"logs", "cloud_defend.process", "default", true},
		{"logs", "cloud_defend.file", "default", false},
		{"metrics", "cloud_defend.process", "default", false},
		{"logs", "cloud_defend.process", "prod", true},
		{"logs", "cloud_defend.processes", "default", true}, // the pattern ends in *
		{"logs", "cloud_defend", "process", false},          // the same letters, split elsewhere
	}
	for round := 0; round < 3; round++ {
		for i, s := range streams {
			if round == 2 {
				s = streams[len(streams)-1-i]
			}
			doc := adapt(fmt.Sprintf(`{"process":{"name":"cat"},"data_stream":{"type":%q,"dataset":%q,"namespace":%q}}`, s.typ, s.dataset, s.namespace))
			if got := r.Matches(doc); got != s.want {
				t.Errorf("round %d, stream %s-%s-%s: match %v, want %v", round, s.typ, s.dataset, s.namespace, got, s.want)
			}
		}
	}
}
