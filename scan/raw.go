package scan

import (
	"strings"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// rawAuditDoc is a Kubernetes audit.k8s.io Event as kube-apiserver writes it
// (audit.log). It exposes the event the way Elastic's kubernetes.audit_logs
// integration would have ingested it, so rules written for Elasticsearch run
// unmodified on raw files:
//
//   - every raw field under kubernetes.audit.* with its original camelCase
//     name (kubernetes.audit.objectRef.subresource -> objectRef.subresource);
//   - annotation keys with dots turned into underscores
//     (kubernetes.audit.annotations.authorization_k8s_io/decision ->
//     annotations["authorization.k8s.io/decision"]);
//   - empty strings, objects and arrays treated as missing, as the ingest
//     pipeline removes them;
//   - the fields the agent and pipeline add: event.dataset and
//     data_stream.dataset ("kubernetes.audit_logs"), event.kind, event.action
//     (verb), event.outcome (from the authorization decision), user.name,
//     user.id, source.ip, client.ip, related.ip, related.user,
//     user_agent.original, orchestrator.* and @timestamp (stageTimestamp).
//
// Any other field is missing, exactly as it would be in Elasticsearch.
type rawAuditDoc struct {
	root gjson.Result
	resolver
}

// auditDataset is the dataset Elastic's agent stamps on audit documents.
const auditDataset = "kubernetes.audit_logs"

type rawMapping struct {
	constant string       // a fixed value
	value    gjson.Result // constant as a JSON string
	paths    [][]string   // raw paths whose values the field takes, in order
	dotted   []string     // the same, as dotted names
	derive   func(d rawMembers) (string, bool)
}

// rawMembers is what the computed fields of a raw event read: a member of
// the event's root object, and an annotation by its dedotted key.
type rawMembers interface {
	member(key string) gjson.Result
	annotation(key string) gjson.Result
}

// constant is the mapping of a field with a fixed value.
func constant(s string) rawMapping {
	return rawMapping{constant: s, value: gjson.Result{Type: gjson.String, Str: s, Raw: quoteJSON(s)}}
}

func rawPaths(paths ...string) rawMapping {
	var m rawMapping
	for _, p := range paths {
		m.paths = append(m.paths, strings.Split(p, "."))
		m.dotted = append(m.dotted, p)
	}
	return m
}

// rawECSFields maps agent-added ECS fields to their source in a raw event.
var rawECSFields = map[string]rawMapping{
	"event.dataset":              constant(auditDataset),
	"data_stream.dataset":        constant(auditDataset),
	"data_stream.type":           constant("logs"),
	"event.kind":                 constant("event"),
	"orchestrator.type":          constant("kubernetes"),
	"event.action":               rawPaths("verb"),
	"event.outcome":              {derive: auditOutcome},
	"user.name":                  rawPaths("user.username"),
	"user.id":                    rawPaths("user.uid"),
	"source.ip":                  rawPaths("sourceIPs"),
	"client.ip":                  rawPaths("sourceIPs"),
	"related.ip":                 rawPaths("sourceIPs"),
	"related.user":               rawPaths("user.uid", "user.username"),
	"user_agent.original":        rawPaths("userAgent"),
	"orchestrator.api_version":   rawPaths("apiVersion"),
	"orchestrator.namespace":     rawPaths("objectRef.namespace"),
	"orchestrator.resource.name": rawPaths("objectRef.name"),
	"orchestrator.resource.type": rawPaths("objectRef.resource"),
	"@timestamp":                 {derive: auditTimestamp},
}

// rawSynthesized reports the fields whose values a raw event does not hold
// verbatim, so the prefilter must not demand their literals.
func rawSynthesized(field string) bool {
	m, ok := rawECSFields[field]
	return ok && (m.constant != "" || m.derive != nil)
}

// outcomeAnnotation is the annotation event.outcome comes from, dedotted.
const outcomeAnnotation = "authorization_k8s_io/decision"

func auditOutcome(d rawMembers) (string, bool) {
	switch d.annotation(outcomeAnnotation).Str {
	case "allow":
		return "success", true
	case "forbid":
		return "failure", true
	}
	return "", false
}

// timestampKeys are the members @timestamp comes from, first present first.
var timestampKeys = []string{"stageTimestamp", "requestReceivedTimestamp", "timestamp"}

func auditTimestamp(d rawMembers) (string, bool) {
	for _, k := range timestampKeys {
		if v := d.member(k); v.Type == gjson.String && v.Str != "" {
			return v.Str, true
		}
	}
	return "", false
}

func (d *rawAuditDoc) member(key string) gjson.Result { return d.get(d.root, key) }

// annotation returns the annotation whose key, dedotted, equals key.
func (d *rawAuditDoc) annotation(key string) gjson.Result {
	var out gjson.Result
	d.each(d.get(d.root, "annotations"), func(k, v gjson.Result) bool {
		if dedot(k.Str) == key {
			out = v
			return false
		}
		return true
	})
	return out
}

func dedot(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	return strings.ReplaceAll(s, ".", "_")
}

// nonEmpty wraps a test so that empty values, which the ingest pipeline
// drops, never satisfy it.
func nonEmpty(test func(gjson.Result) bool) func(gjson.Result) bool {
	return func(v gjson.Result) bool {
		if v.Type == gjson.String && v.Str == "" || v.IsObject() && v.Raw == "{}" {
			return false
		}
		return test(v)
	}
}

func (d *rawAuditDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	segs := f.Segments
	if len(segs) > 2 && segs[0] == "kubernetes" && segs[1] == "audit" {
		rest := segs[2:]
		if rest[0] == "annotations" && len(rest) > 1 {
			// Dedotted keys hold no dots, so the remainder is one key.
			if len(rest) != 2 {
				return false
			}
			found := false
			d.each(d.get(d.root, "annotations"), func(k, v gjson.Result) bool {
				if dedot(k.Str) == rest[1] {
					found = anyValue(v, nonEmpty(test))
				}
				return !found
			})
			return found
		}
		return d.anyPath(d.root, rest, nonEmpty(test))
	}
	m, ok := rawECSFields[f.Name]
	if !ok {
		return false
	}
	if found, computed := m.computed(d, test); computed {
		return found
	}
	for _, p := range m.paths {
		if d.anyPath(d.root, p, nonEmpty(test)) {
			return true
		}
	}
	return false
}

// computed tests the field's value where the mapping computes it (a
// constant or a derivation); computed is false for a field read from
// paths.
func (m rawMapping) computed(d rawMembers, test func(gjson.Result) bool) (found, computed bool) {
	switch {
	case m.constant != "":
		return test(m.value), true
	case m.derive != nil:
		s, ok := m.derive(d)
		return ok && test(gjson.Result{Type: gjson.String, Str: s, Raw: quoteJSON(s)}), true
	}
	return false, false
}

// quoteJSON renders s as a JSON string; only Raw-reading tests look at it.
func quoteJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
