package scan

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// OpenTelemetry's collector writes logs as OTLP/JSON, one export request a
// line when its file exporter writes them:
//
//	{"resourceLogs":[{"resource":{"attributes":[{"key":"k8s.cluster.name","value":{"stringValue":"prod"}}]},
//	  "scopeLogs":[{"scope":{},"logRecords":[{"timeUnixNano":"...","body":{"stringValue":"<event>"},...}]}]}]}
//
// Its filelog receiver reading the audit log puts each line in a record's
// body as a string. Each record is an event, numbered across the request.

// otlpRecords emits the events of an OTLP/JSON export request that starts
// base bytes into its record.
func (w wrapper) otlpRecords(rec []byte, base int, emit func(Unit)) {
	w.each("resourceLogs", func(res gjson.Result) {
		cluster := otlpAttribute(res.Get("resource.attributes"), "k8s.cluster.name")
		res.Get("scopeLogs").ForEach(func(_, scope gjson.Result) bool {
			scope.Get("logRecords").ForEach(func(_, lr gjson.Result) bool {
				u := otlpRecord(rec, base, lr)
				if u.Doc != nil {
					u.Cluster = cluster
				}
				emit(u)
				return true
			})
			return true
		})
	})
}

// otlpRecord reads one log record: a body that is a string holding JSON is
// the event; another body is not one the rules can read.
func otlpRecord(rec []byte, base int, lr gjson.Result) Unit {
	raw, off := locate(rec, base, lr)
	if !lr.IsObject() {
		return Unit{Raw: raw, Offset: off, Problem: "OTLP log record is not a JSON object"}
	}
	body := lr.Get("body")
	str := body.Get("stringValue")
	switch {
	case str.Type == gjson.String:
	case body.Get("kvlistValue").Exists():
		// The collector parsed the line into key-value lists: k8sexec
		// does not rebuild the event from them.
		return Unit{Offset: off, Skip: "OTLP log record with a parsed (kvlist) body"}
	default:
		return Unit{Offset: off, Skip: "OTLP log record without a string body"}
	}
	text := bytes.TrimSpace([]byte(str.Str))
	if len(text) == 0 || text[0] != '{' {
		return Unit{Offset: off, Skip: "plain-text message"}
	}
	return carriedEvent(text, off, ShapeOTLP)
}

// otlpAttribute is the string value of the attribute key in an OTLP list
// of attributes, or "".
func otlpAttribute(attrs gjson.Result, key string) string {
	out := ""
	attrs.ForEach(func(_, a gjson.Result) bool {
		if a.Get("key").Str == key {
			out = a.Get("value.stringValue").Str
			return false
		}
		return true
	})
	return out
}
