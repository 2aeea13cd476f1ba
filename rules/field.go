package rules

import (
	"strings"
	"sync"

	"github.com/tidwall/gjson"
)

// Field is a field addressed by its ECS name, such as
// "kubernetes.audit.objectRef.subresource". Fields are immutable once built.
type Field struct {
	// Name is the full ECS name as written in the query.
	Name string
	// Segments is Name split at dots. Elasticsearch treats "a.b" as the path
	// a -> b whether the document nests objects or uses dotted keys.
	Segments []string
}

// NewField returns the Field for an ECS name.
func NewField(name string) *Field {
	return &Field{Name: name, Segments: strings.Split(name, ".")}
}

// Document gives matchers access to one event's fields by ECS name,
// whatever the event's shape on disk.
//
// Any calls test on each value of the field and reports whether test
// returned true for one of them, stopping there. Arrays are flattened (at
// any depth), JSON null values are skipped, and a missing field has no
// values. This is Elasticsearch's rule for multi-valued fields: a condition
// holds when any value satisfies it.
type Document interface {
	Any(f *Field, test func(v gjson.Result) bool) bool
}

// First returns the first value of the field in doc, or an empty Result
// (Exists() == false) when it has none.
func First(doc Document, f *Field) gjson.Result {
	k := firsts.Get().(*firstKeeper)
	doc.Any(f, k.keep)
	out := k.out
	k.out = gjson.Result{}
	firsts.Put(k)
	return out
}

// A firstKeeper is First's test, with the value it keeps. A closure over
// a local would be a new allocation per call (it escapes into Any);
// triage makes a million of those calls for 30,000 findings.
type firstKeeper struct {
	out  gjson.Result
	keep func(gjson.Result) bool
}

var firsts = sync.Pool{New: func() any {
	k := new(firstKeeper)
	k.keep = func(v gjson.Result) bool {
		k.out = v
		return true
	}
	return k
}}

// Strings returns every scalar value of the field as text: strings as they
// are, numbers and booleans in their JSON spelling. Objects are skipped.
func Strings(doc Document, f *Field) []string {
	var out []string
	doc.Any(f, func(v gjson.Result) bool {
		if !v.IsObject() {
			out = append(out, valueText(v))
		}
		return false
	})
	return out
}

// valueText is the keyword form Elasticsearch would index for a scalar JSON
// value: the string itself, or the number or boolean as written.
func valueText(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	return v.Raw
}
