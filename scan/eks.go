package scan

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"
)

// EKS sends the API server's audit log to CloudWatch Logs (log group
// /aws/eks/<cluster>/cluster, streams kube-apiserver-audit-*), where each
// event is the message of a log record, as a JSON string. Users bring it
// as aws logs filter-log-events output ({"events":[{"message":..}]}), Logs
// Insights exports ({"@message":..}) or subscription and Firehose
// payloads ({"messageType":..,"logEvents":[..]}); wrapperOf recognises
// them, and embedded reads the message. AKS's properties.log (aks.go) is
// read the same way.

// eksTruncated is how CloudWatch Logs ends a message it cut at its size
// limit (256 KiB).
const eksTruncated = "[Truncated...]"

// cutRequest is what the text of an audit event cut short still says of
// its request, for the responder (the event could have been a finding)
// and for triage: nil when the cut left no auditID, else the request and
// what to add to the problem ("; auditID 1f2e (ResponseComplete of create
// pods/exec by alice)").
func cutRequest(text []byte) (*CutRequest, string) {
	id := gjson.GetBytes(text, "auditID")
	if id.Type != gjson.String || id.Str == "" {
		return nil, ""
	}
	say := "; auditID " + id.Str
	if what := cutWhat(text); what != "" {
		say += " (" + what + ")"
	}
	return &CutRequest{AuditID: id.Str, Stage: gjson.GetBytes(text, "stage").Str}, say
}

// cutWhat says what request the text of a cut audit event is, from the
// members before the cut: "ResponseComplete of create pods/exec by alice".
func cutWhat(text []byte) string {
	get := func(path string) string { return gjson.GetBytes(text, path).Str }
	var parts []string
	if st := get("stage"); st != "" {
		parts = append(parts, st+" of")
	}
	if verb := get("verb"); verb != "" {
		parts = append(parts, verb)
	}
	if res := get("objectRef.resource"); res != "" {
		if sub := get("objectRef.subresource"); sub != "" {
			res += "/" + sub
		}
		parts = append(parts, res)
	}
	if user := get("user.username"); user != "" {
		parts = append(parts, "by "+user)
	}
	if len(parts) == 1 && strings.HasSuffix(parts[0], " of") {
		return strings.TrimSuffix(parts[0], " of")
	}
	return strings.Join(parts, " ")
}

// embedded decodes the event that log record v, of a wrapper that starts
// base bytes into rec, carries at path as a JSON string (EKS messages, AKS
// log properties), and adapts it. A record without one is located where
// the record starts.
func embedded(rec []byte, base int, v gjson.Result, path string, shape Shape) Unit {
	if !v.IsObject() {
		raw, at := locate(rec, base, v)
		return Unit{Raw: raw, Offset: at, Problem: "record is not a JSON object"}
	}
	msg := v.Get(path)
	off := base + msg.Index
	switch {
	case !msg.Exists():
		raw, at := locate(rec, base, v)
		return Unit{Raw: raw, Offset: at, Problem: "record has no message"}
	case msg.IsObject():
		raw := []byte(msg.Raw)
		doc, _ := Adapt(raw) // checks raw for repeated keys
		return Unit{Raw: raw, Offset: off, Doc: doc, Shape: shape}
	case msg.Type != gjson.String:
		return Unit{Offset: off, Problem: "message is not a string or an object"}
	}
	text := bytes.TrimSpace([]byte(msg.Str))
	if len(text) == 0 || text[0] != '{' {
		// Plain-text lines share the log group with audit events (the
		// API server's own log, the authenticator): not events.
		return Unit{Offset: off, Skip: "plain-text message"}
	}
	if bytes.HasSuffix(text, []byte(eksTruncated)) {
		by := "by CloudWatch Logs"
		if shape == ShapeAKS {
			by = "in the export"
		}
		reason := "message cut " + by + " (ends in " + eksTruncated + "), not evaluated"
		cut, say := cutRequest(text)
		return Unit{Raw: text, Offset: off, Problem: reason + say, Cut: cut}
	}
	u := embeddedEvent(text, off)
	if u.Doc != nil {
		u.Shape = shape
	}
	return u
}

// carriedEvent is embeddedEvent with a raw audit event's shape named for
// what carried it (a Docker line, a shipper's record, an OTLP record);
// another event keeps its own.
func carriedEvent(text []byte, off int, shape Shape) Unit {
	u := embeddedEvent(text, off)
	if u.Shape == ShapeRawAudit {
		u.Shape = shape
	}
	return u
}

// embeddedEvent reads an event carried as a JSON string, whose text starts
// with '{', at off in the outermost record. The unit's shape is the
// event's own.
func embeddedEvent(text []byte, off int) Unit {
	check := checkJSON(text)
	switch {
	case check.deep:
		return Unit{Raw: text, Offset: off, Problem: fmt.Sprintf("embedded JSON nested deeper than %d levels", maxDepth)}
	case !check.valid:
		// Cut at a size limit of the store or shipper that held it: what
		// is left of an audit event names its request.
		var cut *CutRequest
		say := ""
		if bytes.HasPrefix(text, rawAuditPrefix) {
			cut, say = cutRequest(text)
		}
		return Unit{Raw: text, Offset: off, Problem: "embedded event is not valid JSON" + say, Cut: cut}
	}
	doc, shape := adapt(text, resolver{lastWins: check.dupKeys})
	return Unit{Raw: text, Offset: off, Doc: doc, Shape: shape}
}

func isEKSEvent(v gjson.Result) bool {
	return v.IsObject() && v.Get("message").Exists() && (v.Get("logStreamName").Exists() || v.Get("timestamp").Exists())
}

// eksCluster is the cluster an EKS control-plane log group is for
// (/aws/eks/<cluster>/cluster), or "" for another group.
func eksCluster(group string) string {
	name, ok := strings.CutPrefix(group, "/aws/eks/")
	if !ok {
		return ""
	}
	name, ok = strings.CutSuffix(name, "/cluster")
	if !ok || name == "" || strings.Contains(name, "/") {
		return ""
	}
	return name
}
