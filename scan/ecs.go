package scan

import (
	"unsafe"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// ecsDoc is an event already in ECS: an Elastic export of Kubernetes audit
// documents or Defend for Containers process events, with nested objects,
// dotted keys or a mix. Fields resolve the way Elasticsearch resolves them.
type ecsDoc struct {
	root gjson.Result
	resolver
}

func (d *ecsDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	return d.anyPath(d.root, f.Segments, test)
}

// newSearchHitDoc unwraps an Elasticsearch search hit
// ({"_index":..,"_id":..,"_source":{..}}) to its document.
func newSearchHitDoc(root gjson.Result, r resolver) rules.Document {
	return sourceDoc(r.get(root, "_source"), r)
}

// sourceDoc is the document of a search hit's _source: ECS, as Elastic's
// integrations index it, or the API server's own audit event (or a GKE
// log entry), as Fluent Bit or Logstash index it without them, read as
// those are read at the top level of a line.
func sourceDoc(src gjson.Result, r resolver) rules.Document {
	if src.Raw != "" {
		text := unsafe.Slice(unsafe.StringData(src.Raw), len(src.Raw))
		if doc, shape := adapt(text, r); shape == ShapeRawAudit || shape == ShapeGKE {
			return doc
		}
	}
	return &ecsDoc{root: src, resolver: r}
}
