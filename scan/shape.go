package scan

import (
	"bytes"
	"strings"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// Shape names the layout of one input line.
type Shape string

// Shapes the adapters recognise.
const (
	ShapeRawAudit  Shape = "raw-audit"  // audit.k8s.io Event, as kube-apiserver writes it
	ShapeECS       Shape = "ecs"        // an ECS document (audit export or process event)
	ShapeSearchHit Shape = "search-hit" // {"_source": {...}} from an Elasticsearch search
)

// rawAuditPrefix is how kube-apiserver starts every audit event line; the
// JSON encoder writes struct fields in order. Checking it first makes shape
// detection free on the common path.
var rawAuditPrefix = []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/`)

// Adapt recognises the shape of a parsed JSON object and returns the
// document that exposes it under ECS names.
func Adapt(line []byte) (rules.Document, Shape) {
	root := gjson.ParseBytes(line)
	if bytes.HasPrefix(line, rawAuditPrefix) {
		return &rawAuditDoc{root: root}, ShapeRawAudit
	}
	var kind, apiVersion, auditID, stage, source gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "kind":
			kind = v
		case "apiVersion":
			apiVersion = v
		case "auditID":
			auditID = v
		case "stage":
			stage = v
		case "_source":
			source = v
		}
		return true
	})
	switch {
	case source.IsObject():
		return newSearchHitDoc(root), ShapeSearchHit
	case kind.Str == "Event" && strings.HasPrefix(apiVersion.Str, "audit.k8s.io/"),
		// Old captures may lack apiVersion; an auditID with a stage is
		// unmistakably an audit event.
		auditID.Type == gjson.String && stage.Type == gjson.String:
		return &rawAuditDoc{root: root}, ShapeRawAudit
	}
	return &ecsDoc{root: root}, ShapeECS
}

// synthesized reports fields some adapter fills with values that are not in
// the raw text.
func synthesized(field string) bool { return rawSynthesized(field) }
