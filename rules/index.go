package rules

import (
	"strings"

	"github.com/tidwall/gjson"
)

// An index scope is what a rule's `index` patterns mean offline: in
// Elasticsearch the rule only searches the indices they name, so a
// document stored in another data stream never matches, whatever the
// query. A document that says which data stream it was in
// (data_stream.dataset, with data_stream.type and .namespace, "logs" and
// "default" when absent) is matched only when the stream's name,
// <type>-<dataset>-<namespace>, fits one of the patterns and no exclusion
// ("-pattern"). A document that does not say (a raw audit line says, as
// the agent would have stored it: kubernetes.audit_logs) is matched by the
// query alone: nothing tells where it would have been stored.
type indexScope struct {
	include, exclude []*Pattern
	inner            Matcher
}

var (
	fStreamDataset   = NewField("data_stream.dataset")
	fStreamType      = NewField("data_stream.type")
	fStreamNamespace = NewField("data_stream.namespace")
)

// ScopeFields are the fields an index scope reads.
var ScopeFields = []*Field{fStreamDataset, fStreamType, fStreamNamespace}

// scoped wraps m in the scope of patterns, or returns m when they name
// no index (a rule without `index`, or only patterns that fit every
// stream).
func scoped(m Matcher, patterns []string) Matcher {
	s := &indexScope{inner: m}
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if _, local, ok := strings.Cut(p, ":"); ok {
			p = local // a remote cluster's index: its name is after the colon
		}
		switch {
		case p == "":
		case strings.HasPrefix(p, "-"):
			s.exclude = append(s.exclude, ParseWildcard(p[1:], false))
		default:
			s.include = append(s.include, ParseWildcard(p, false))
		}
	}
	if len(s.include) == 0 {
		return m
	}
	for _, p := range s.include {
		if p.kind == patAny && len(s.exclude) == 0 {
			return m
		}
	}
	return s
}

// Match tests the query first: most documents a scan asks about fail it,
// and the stream is three more fields to read.
func (s *indexScope) Match(doc Document) bool {
	return s.inner.Match(doc) && s.inStream(doc)
}

// inStream reports whether doc may be in an index the scope names.
func (s *indexScope) inStream(doc Document) bool {
	dataset := First(doc, fStreamDataset)
	if dataset.Type != gjson.String || dataset.Str == "" {
		return true
	}
	name := orDefault(First(doc, fStreamType), "logs") + "-" + dataset.Str + "-" + orDefault(First(doc, fStreamNamespace), "default")
	for _, p := range s.exclude {
		if p.Match(name) {
			return false
		}
	}
	for _, p := range s.include {
		if p.Match(name) {
			return true
		}
	}
	return false
}

func orDefault(v gjson.Result, def string) string {
	if v.Type == gjson.String && v.Str != "" {
		return v.Str
	}
	return def
}
