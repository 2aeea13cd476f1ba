package scan

import (
	"bytes"
	"slices"
	"strings"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// Shape names the layout of one input line.
type Shape string

// Audit reports whether events of the shape are API server audit events
// and nothing else (ECS documents and search hits may be either).
func (s Shape) Audit() bool {
	switch s {
	case ShapeRawAudit, ShapeEventList, ShapeEKSCloudWatch, ShapeEKSInsights, ShapeEKSFirehose, ShapeAKS, ShapeGKE, ShapeDocker, ShapeShipped, ShapeOTLP:
		return true
	}
	return false
}

// Shapes the adapters recognise.
const (
	ShapeRawAudit  Shape = "raw-audit"  // audit.k8s.io Event, as kube-apiserver writes it
	ShapeECS       Shape = "ecs"        // an ECS document (audit export or process event)
	ShapeSearchHit Shape = "search-hit" // {"_source": {...}} from an Elasticsearch search
	// ShapeUnknown is JSON of no shape k8sexec knows: fields are read
	// under their own names, but no rule is written for it.
	ShapeUnknown Shape = "unrecognised"
)

// rawAuditPrefix is how kube-apiserver starts every audit event line; the
// JSON encoder writes struct fields in order. Checking it first makes shape
// detection free on the common path.
var rawAuditPrefix = []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/`)

// Adapt recognises the shape of a valid JSON object and returns the
// document that exposes it under ECS names.
func Adapt(line []byte) (rules.Document, Shape) {
	line = bytes.Clone(line) // the document reads it in place
	return adapt(line, resolver{lastWins: checkJSON(line).dupKeys})
}

// adapt is Adapt for a record already checked: r says how to read keys the
// record repeats. The document reads line in place: line must not change
// while it is used (a chunk's lines do not until the chunk is done).
func adapt(line []byte, r resolver) (rules.Document, Shape) {
	if bytes.HasPrefix(line, rawAuditPrefix) {
		return &rawAuditDoc{root: gjson.Parse(unsafeString(line)), resolver: r}, ShapeRawAudit
	}
	return adaptFrom(line, r, rootOf(line))
}

// adaptFrom is adapt for a record whose top-level members are known.
func adaptFrom(line []byte, r resolver, members []rootMember) (rules.Document, Shape) {
	root := gjson.Parse(unsafeString(line))
	if bytes.HasPrefix(line, rawAuditPrefix) {
		return &rawAuditDoc{root: root, resolver: r}, ShapeRawAudit
	}
	var kind, apiVersion, auditID, stage, source, protoPayload gjson.Result
	ecs := false
	// The last of repeated names wins, as resolver.each has it; a name
	// counts for ecs whichever of its members is read.
	for _, m := range members {
		if !ecs {
			top, _, _ := strings.Cut(m.key, ".")
			ecs = ecsTopLevel[top]
		}
		switch m.key {
		case "kind":
			kind = gjson.Parse(unsafeString(line[m.start:m.end]))
		case "apiVersion":
			apiVersion = gjson.Parse(unsafeString(line[m.start:m.end]))
		case "auditID":
			auditID = gjson.Parse(unsafeString(line[m.start:m.end]))
		case "stage":
			stage = gjson.Parse(unsafeString(line[m.start:m.end]))
		case "_source":
			source = gjson.Parse(unsafeString(line[m.start:m.end]))
		case "protoPayload":
			protoPayload = gjson.Parse(unsafeString(line[m.start:m.end]))
		}
	}
	switch {
	case source.IsObject():
		return newSearchHitDoc(root, r), ShapeSearchHit
	case protoPayload.IsObject() && isGKEAudit(protoPayload):
		return newGKEDoc(root, r), ShapeGKE
	case kind.Str == "Event" && strings.HasPrefix(apiVersion.Str, "audit.k8s.io/"),
		// Old captures may lack apiVersion; an auditID with a stage is
		// unmistakably an audit event.
		auditID.Type == gjson.String && stage.Type == gjson.String:
		return &rawAuditDoc{root: root, resolver: r}, ShapeRawAudit
	case !ecs:
		// Still read under its own field names, but the summary warns
		// that no rule was written for this shape.
		return &ecsDoc{root: root, resolver: r}, ShapeUnknown
	}
	return &ecsDoc{root: root, resolver: r}, ShapeECS
}

// rootOf lists the members of the top-level object of rec, valid JSON,
// which the wrapper and shape tests read: stepping over each value
// (skipValue), where gjson parsed every one (two gjson walks of every
// parsed ECS or process record were a fifth of the CPU with Elastic's
// rules). Any other text lists no more than it holds, and never panics.
func rootOf(rec []byte) []rootMember { return appendRoot(nil, rec) }

// rootMember is a member of an object: its name, and where its value's
// JSON text is in the text listed (rec[start:end]).
type rootMember struct {
	key        string
	start, end int
}

// appendRoot is rootOf appending to out.
func appendRoot(out []rootMember, rec []byte) []rootMember {
	i := skipSpace(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return out
	}
	for i = skipSpace(rec, i+1); i < len(rec) && rec[i] == '"'; {
		ke, escaped := stringEnd(rec, i)
		if ke-i < 2 || rec[ke-1] != '"' {
			return out // cut inside the name
		}
		key := text(rec[i:ke], escaped)
		i = skipSpace(rec, ke)
		if i >= len(rec) || rec[i] != ':' {
			return out
		}
		i = skipSpace(rec, i+1)
		if i >= len(rec) {
			return out
		}
		end := skipValue(rec, i)
		out = append(out, rootMember{key, i, end})
		if i = skipSpace(rec, end); i < len(rec) && rec[i] == ',' {
			i = skipSpace(rec, i+1)
		}
	}
	return out
}

// ecsTopLevel are the ECS field sets an exported event carries at least
// one of (as an object, or as the first part of a dotted key).
var ecsTopLevel = map[string]bool{
	"@timestamp": true, "event": true, "kubernetes": true, "process": true, "container": true,
	"orchestrator": true, "host": true, "user": true, "source": true, "agent": true, "ecs": true,
	"data_stream": true, "cloud": true, "related": true, "user_agent": true, "client": true,
	"destination": true, "file": true, "network": true, "cloud_defend": true, "log": true,
}

// memberKeys returns the member names that spell a field's last segment
// in the shapes that hold it, for member needles ("subresource":"exec"):
// the segment itself, and the last segment of every raw audit member the
// raw-audit adapter reads the field from (user.name is user.username).
// Raw events hold kubernetes.audit.* under the same names, with dots in
// annotation and user.extra names where ECS has underscores, so only what
// follows the last of either is kept. Fields an adapter computes have none.
// GKE's adapter renames everything; scan checks its records against loose
// requirements instead (renamedMarker).
func memberKeys(field string) []string {
	if rawSynthesized(field) {
		return nil
	}
	last := field[strings.LastIndexByte(field, '.')+1:]
	if strings.HasPrefix(field, "kubernetes.audit.annotations.") || strings.HasPrefix(field, "kubernetes.audit.user.extra.") {
		last = last[strings.LastIndexAny(last, "_.")+1:]
	}
	if last == "" {
		return nil
	}
	keys := []string{last}
	if m, ok := rawECSFields[field]; ok {
		for _, p := range m.paths {
			if k := p[len(p)-1]; !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// ecsMemberKeys is memberKeys for documents other than raw audit events:
// the field's own last segment only.
func ecsMemberKeys(field string) []string {
	keys := memberKeys(field)
	if len(keys) > 1 {
		keys = keys[:1]
	}
	return keys
}

// fieldName returns a member name that every shape holding the field
// spells verbatim, for the prefilter's name needles: the longest segment
// of its path, or for kubernetes.audit.* of the part raw events share
// (annotation and user.extra names are spelled differently, so only
// "annotations" and "extra" count there). Fields the raw-audit adapter
// reads from other members or computes have none. GKE's adapter renames
// everything; its records are checked against loose requirements, which
// have no name needles.
func fieldName(field string) string {
	if _, ok := rawECSFields[field]; ok {
		return ""
	}
	rest := field
	if r, ok := strings.CutPrefix(field, "kubernetes.audit."); ok {
		rest = r
		for _, p := range []string{"annotations.", "user.extra."} {
			if strings.HasPrefix(rest, p) {
				rest = p[:len(p)-1]
			}
		}
	}
	best := ""
	for seg := range strings.SplitSeq(rest, ".") {
		if len(seg) > len(best) {
			best = seg
		}
	}
	return best
}

// synthesized reports fields some adapter fills with values that are not in
// the raw text.
func synthesized(field string) bool { return rawSynthesized(field) || gkeSynthesized[field] }
