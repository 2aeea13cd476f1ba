package scan

import (
	"bytes"
	"strings"
	"sync"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// Unit is one event found in a record: the record itself, or one of the
// events a wrapper (an EventList, a search response, a cloud log export)
// holds. Exactly one of Doc, Problem and Skip describes it.
type Unit struct {
	Raw   []byte // the event's JSON
	Doc   rules.Document
	Shape Shape
	// Index is the event's 1-based position among the events of its
	// record, or 0 when the record is the event.
	Index int
	// Offset is where the event starts in its record, in bytes (for an
	// event carried as a JSON string, where the string starts).
	Offset int
	// Problem says why the unit could not be evaluated.
	Problem string
	// Cut is, for an audit event a wrapper cut short, the request it was
	// a stage of, as far as the text before the cut says.
	Cut *CutRequest
	// Skip names a record deliberately not evaluated because it is not
	// an event the rules are about (another log category, a control
	// message), counted per input.
	Skip string
	// Cluster is the cluster the wrapper names (an EKS log group, an AKS
	// resource ID), for triage: the rules see the event alone.
	Cluster string
}

// maxWrapDepth bounds how deep wrappers may nest (an array of search
// responses of ...): real exports nest at most two levels.
const maxWrapDepth = 4

// Units calls fn for every event in one parsed record, in order. A record
// that is one event (possibly inside a single-event wrapper such as a Logs
// Insights row) is one unit with Index 0; the events of a record that holds
// several (an array, an EventList, an export page) are numbered from 1.
func Units(rec []byte, fn func(Unit)) {
	unitsAt(rec, 0, resolver{lastWins: checkJSON(rec).dupKeys}, fn)
}

// unitsAt is Units for a checked record that starts base bytes into a
// line; r says how to read keys it repeats.
func unitsAt(rec []byte, base int, r resolver, fn func(Unit)) {
	n := 0
	numbered := func(u Unit) {
		n++
		u.Index = n
		fn(u)
	}
	if len(rec) > 0 && rec[0] == '[' {
		if !holdsObjects(rec) {
			fn(Unit{Raw: rec, Offset: base, Problem: "a JSON array of values, not of events"})
			return
		}
		eachElement(rec, base, 0, r, numbered)
		return
	}
	// The wrapper and shape tests read the same top-level members, in a
	// reused list (growing a new one for every record was half of
	// listing them).
	var members []rootMember
	if !bytes.HasPrefix(rec, rawAuditPrefix) {
		list := rootLists.Get().(*[]rootMember)
		members = appendRoot((*list)[:0], rec)
		defer func() {
			clear(members) // let go of the record's text
			*list = members[:0]
			rootLists.Put(list)
		}()
	}
	w := wrapperFrom(rec, r, members)
	switch {
	case w.kind == wrapNone:
		doc, shape := adaptFrom(rec, r, members)
		fn(Unit{Raw: rec, Offset: base, Doc: doc, Shape: shape})
	case w.single():
		w.expand(rec, base, fn)
	default:
		w.expand(rec, base, numbered)
	}
}

var rootLists = sync.Pool{New: func() any { return new([]rootMember) }}

// holdsObjects reports whether an array has an object or array element.
func holdsObjects(rec []byte) bool {
	found := false
	gjson.ParseBytes(rec).ForEach(func(_, v gjson.Result) bool {
		found = v.IsObject() || v.IsArray()
		return !found
	})
	return found
}

// eachElement emits the events of a JSON array that starts base bytes into
// its record: its objects, and the events of any wrapper among them.
func eachElement(rec []byte, base, depth int, r resolver, emit func(Unit)) {
	gjson.ParseBytes(rec).ForEach(func(_, v gjson.Result) bool {
		child, off := locate(rec, base, v)
		switch {
		case v.IsArray() && depth+1 < maxWrapDepth:
			eachElement(child, off, depth+1, r, emit)
		case !v.IsObject():
			emit(Unit{Raw: child, Offset: off, Problem: "array element is not a JSON object"})
		default:
			w := wrapperOf(child, r)
			if w.kind == wrapNone || depth+1 >= maxWrapDepth {
				doc, shape := adapt(child, r)
				emit(Unit{Raw: child, Offset: off, Doc: doc, Shape: shape})
			} else {
				w.expand(child, off, emit)
			}
		}
		return true
	})
}

// locate returns the bytes of a value parsed out of rec (without copying
// when gjson located it) and its offset in the outermost record, rec
// itself starting at base.
func locate(rec []byte, base int, v gjson.Result) ([]byte, int) {
	if i := v.Index; i > 0 && i+len(v.Raw) <= len(rec) && string(rec[i:i+len(v.Raw)]) == v.Raw {
		return rec[i : i+len(v.Raw)], base + i
	}
	return []byte(v.Raw), base
}

// Shapes of wrapped events. Each names where the events came from, so the
// summary shows at once whether an export was understood.
const (
	ShapeEventList      Shape = "audit-eventlist"   // {"kind":"EventList","items":[...]}
	ShapeSearchResponse Shape = "search-response"   // {"hits":{"hits":[{"_source":...}]}}
	ShapeEKSCloudWatch  Shape = "eks-cloudwatch"    // aws logs filter-log-events: {"events":[{"message":"<event>"}]}
	ShapeEKSInsights    Shape = "eks-logs-insights" // Logs Insights rows: {"@message":"<event>"}
	ShapeEKSFirehose    Shape = "eks-subscription"  // subscription/Firehose: {"messageType":..,"logEvents":[...]}
	ShapeAKS            Shape = "aks-diagnostic"    // {"records":[{"category":"kube-audit","properties":{"log":..}}]}
	ShapeGKE            Shape = "gke-audit"         // Cloud Audit Logs LogEntry with a k8s.io protoPayload
	ShapeDocker         Shape = "docker-json-file"  // Docker's container log: {"log":"<event>\n","stream":"stdout","time":...}
	ShapeShipped        Shape = "shipped-audit"     // a log shipper's record: {"log":"<event>","kubernetes":{...},...}
	ShapeOTLP           Shape = "otlp-logs"         // OTLP/JSON (otlp.go): {"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"<event>"}}]}]}]}
)

type wrapKind int

const (
	wrapNone wrapKind = iota
	wrapEventList
	wrapSearchResponse
	wrapEKSEvents
	wrapEKSEvent   // one of them: --query events, or jq -c '.events[]'
	wrapEKSResults // aws logs get-query-results: rows of field/value pairs
	wrapEKSInsights
	wrapEKSFirehose
	wrapAKSRecords
	wrapAKSRecord
	wrapDocker
	wrapShipped
	wrapOTLP
)

type wrapper struct {
	kind wrapKind
	root gjson.Result
	r    resolver
	// shippedAt and shippedEnd are where the string holding the event of
	// a wrapShipped record is in it.
	shippedAt, shippedEnd int
}

// single reports whether the wrapper holds exactly one event.
func (w wrapper) single() bool {
	return w.kind == wrapEKSInsights || w.kind == wrapAKSRecord || w.kind == wrapEKSEvent || w.kind == wrapDocker || w.kind == wrapShipped
}

// cloudWatchEventKeys are the members of a CloudWatch Logs event, as
// filter-log-events writes it.
var cloudWatchEventKeys = map[string]bool{"logStreamName": true, "timestamp": true, "message": true, "ingestionTime": true, "eventId": true, "logGroupName": true}

// wrapperOf recognises a wrapper from the record's top-level keys.
func wrapperOf(rec []byte, r resolver) wrapper {
	if bytes.HasPrefix(rec, rawAuditPrefix) {
		return wrapper{}
	}
	return wrapperFrom(rec, r, rootOf(rec))
}

// wrapperFrom is wrapperOf for a record whose top-level members are
// known.
func wrapperFrom(rec []byte, r resolver, members []rootMember) wrapper {
	if bytes.HasPrefix(rec, rawAuditPrefix) {
		return wrapper{}
	}
	root := gjson.Parse(unsafeString(rec))
	if !root.IsObject() {
		return wrapper{}
	}
	// The last of repeated names wins, as resolver.each has it.
	var kind, items, hits, events, logEvents, messageType, records, message, category, properties, cwMessage, logStream, ingestion, results, log, stream, resourceLogs gjson.Result
	for _, m := range members {
		v := &kind
		switch m.key {
		case "kind":
		case "items":
			v = &items
		case "hits":
			v = &hits
		case "events":
			v = &events
		case "logEvents":
			v = &logEvents
		case "messageType":
			v = &messageType
		case "records":
			v = &records
		case "@message":
			v = &message
		case "category":
			v = &category
		case "properties":
			v = &properties
		case "message":
			v = &cwMessage
		case "logStreamName":
			v = &logStream
		case "ingestionTime":
			v = &ingestion
		case "results":
			v = &results
		case "log":
			v = &log
		case "stream":
			v = &stream
		case "resourceLogs":
			v = &resourceLogs
		default:
			continue
		}
		*v = gjson.Parse(unsafeString(rec[m.start:m.end]))
	}
	// A CloudWatch event holds its own few members only: an ECS document
	// with a message and a log stream of its own is still ECS.
	cwOnly := len(members) > 0
	for _, m := range members {
		if !cloudWatchEventKeys[m.key] {
			cwOnly = false
			break
		}
	}
	w := wrapper{root: root, r: r}
	switch {
	case log.Type == gjson.String && (stream.Str == "stdout" || stream.Str == "stderr") && dockerOnly(members):
		w.kind = wrapDocker
	case kind.Str == "EventList" && items.IsArray():
		w.kind = wrapEventList
	case hits.IsObject() && hits.Get("hits").IsArray():
		w.kind = wrapSearchResponse
	case logEvents.IsArray() && messageType.Exists():
		w.kind = wrapEKSFirehose
	case events.IsArray() && isEKSEvent(events.Get("0")):
		w.kind = wrapEKSEvents
	case cwOnly && cwMessage.Exists() && (logStream.Type == gjson.String || ingestion.Type == gjson.Number):
		w.kind = wrapEKSEvent
	case results.IsArray() && results.Get("0").IsArray() && results.Get("0.0.field").Exists():
		w.kind = wrapEKSResults
	case message.Type == gjson.String:
		w.kind = wrapEKSInsights
	case records.IsArray():
		w.kind = wrapAKSRecords
	case category.Type == gjson.String && properties.IsObject():
		w.kind = wrapAKSRecord
	case resourceLogs.IsArray():
		w.kind = wrapOTLP
	default:
		if start, end, ok := shippedMember(rec, members); ok {
			w.kind, w.shippedAt, w.shippedEnd = wrapShipped, start, end
		}
	}
	return w
}

// expand emits the events of a wrapper that starts base bytes into its
// record.
func (w wrapper) expand(rec []byte, base int, emit func(Unit)) {
	switch w.kind {
	case wrapEventList:
		w.each("items", func(v gjson.Result) {
			child, off := locate(rec, base, v)
			if !v.IsObject() {
				emit(Unit{Raw: child, Offset: off, Problem: "EventList item is not a JSON object"})
				return
			}
			doc, shape := adapt(child, w.r)
			if shape == ShapeRawAudit {
				shape = ShapeEventList
			}
			emit(Unit{Raw: child, Offset: off, Doc: doc, Shape: shape})
		})
	case wrapSearchResponse:
		w.each("hits.hits", func(v gjson.Result) {
			src := v.Get("_source")
			if !src.IsObject() {
				child, off := locate(rec, base, v)
				emit(Unit{Raw: child, Offset: off, Problem: "search hit without a _source object"})
				return
			}
			// The event is the hit's _source; it is placed where the hit
			// starts, which is what a reader looks for.
			_, off := locate(rec, base, v)
			child, _ := locate(rec, base, src)
			if start, end, ok := shippedMember(child, rootOf(child)); ok {
				// A document a log shipper wrote: the event is the line
				// it carries.
				emit(shippedUnit(child[start:end], off))
				return
			}
			emit(Unit{Raw: child, Offset: off, Doc: sourceDoc(src, w.r), Shape: ShapeSearchResponse})
		})
	case wrapEKSEvents:
		w.each("events", func(v gjson.Result) { emit(embedded(rec, base, v, "message", ShapeEKSCloudWatch)) })
	case wrapEKSEvent:
		emit(embedded(rec, base, w.root, "message", ShapeEKSCloudWatch))
	case wrapEKSResults:
		w.each("results", func(row gjson.Result) {
			var msg, group gjson.Result
			row.ForEach(func(_, f gjson.Result) bool {
				switch f.Get("field").Str {
				case "@message":
					msg = f
				case "@log":
					_, g, _ := strings.Cut(f.Get("value").Str, ":")
					group = gjson.Result{Type: gjson.String, Str: g}
				}
				return true
			})
			if !msg.Exists() {
				raw, at := locate(rec, base, row)
				emit(Unit{Raw: raw, Offset: at, Problem: "query result row has no @message field"})
				return
			}
			u := embedded(rec, base, msg, "value", ShapeEKSInsights)
			u.Cluster = eksCluster(group.Str)
			emit(u)
		})
	case wrapEKSInsights:
		u := embedded(rec, base, w.root, "@message", ShapeEKSInsights)
		// @log is "<account>:<log group>".
		_, group, _ := strings.Cut(w.r.get(w.root, "@log").Str, ":")
		u.Cluster = eksCluster(group)
		emit(u)
	case wrapEKSFirehose:
		if mt := w.root.Get("messageType").Str; mt != "DATA_MESSAGE" {
			emit(Unit{Offset: base, Skip: "CloudWatch " + nonEmptyOr(mt, "unknown") + " envelope"})
			return
		}
		cluster := eksCluster(w.r.get(w.root, "logGroup").Str)
		w.each("logEvents", func(v gjson.Result) {
			u := embedded(rec, base, v, "message", ShapeEKSFirehose)
			u.Cluster = cluster
			emit(u)
		})
	case wrapAKSRecords:
		w.each("records", func(v gjson.Result) { emit(aksRecord(rec, base, v)) })
	case wrapAKSRecord:
		emit(aksRecord(rec, base, w.root))
	case wrapDocker:
		emit(dockerLine(base, w.r.get(w.root, "log")))
	case wrapShipped:
		emit(shippedUnit(rec[w.shippedAt:w.shippedEnd], base+w.shippedAt))
	case wrapOTLP:
		w.otlpRecords(rec, base, emit)
	}
}

func (w wrapper) each(path string, fn func(gjson.Result)) {
	w.root.Get(path).ForEach(func(_, v gjson.Result) bool {
		fn(v)
		return true
	})
}

func nonEmptyOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
