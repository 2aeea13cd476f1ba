package scan

import (
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
func newSearchHitDoc(root gjson.Result, r resolver) *ecsDoc {
	return &ecsDoc{root: r.get(root, "_source"), resolver: r}
}
