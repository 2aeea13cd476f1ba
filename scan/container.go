package scan

import (
	"bytes"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
)

// Container logs: kube-apiserver run with --audit-log-path=- prints its
// audit events to stdout, so they reach disk as the container runtime
// stores a container's output, between the server's own log lines on
// stderr. Two formats are read: CRI's (containerd, CRI-O), a prefix on
// each line, and Docker's json-file, a JSON object per line (shape
// docker-json-file). Both split a line longer than 16 KiB into pieces.
// In an input that starts as a container log (LayoutCRI, LayoutDocker,
// containerSplitter) the pieces are joined again; elsewhere they are not:
// the first is malformed, naming its request, and the rest is output that
// is not JSON.

// The CRI container log format is what containerd and CRI-O write to
// /var/log/pods/*/*/N.log (and /var/log/containers/*.log) for everything
// a container prints: one line per line of output,
//
//	2026-11-20T09:41:07.160199123Z stdout F {"kind":"Event",...}
//
// the time the runtime read it, the stream, a tag and the output itself.
// The tag is F for a whole line and P for a piece of one longer
// than the runtime's limit (16 KiB by default), which the next lines
// continue up to an F.

// outputOf returns the line of output a line holds after what a container
// log or kubectl logs puts before it: the time, stream and tag of the CRI
// format, or the pod and container kubectl logs --prefix writes, then the
// time kubectl logs --timestamps writes,
//
//	[pod/kube-apiserver-cp-1/kube-apiserver] 2026-11-20T09:41:07.160199123Z {"kind":"Event",...}
//
// or the line itself when it has neither.
func outputOf(line []byte) []byte {
	rest := line
	if tag, ok := kubectlPrefix(rest); ok {
		rest = rest[tag:]
	}
	if len(rest) == 0 || rest[0] < '0' || rest[0] > '9' {
		return rest
	}
	if out, ok := criLine(rest); ok {
		return out.content
	}
	if sp := bytes.IndexByte(rest, ' '); sp > 0 && criTime(rest[:sp]) {
		return rest[sp+1:]
	}
	return rest
}

// kubectlPrefix returns the length of the "[pod/NAME/CONTAINER] " kubectl
// logs --prefix writes before each line, if the line starts with one. No
// JSON value starts so.
func kubectlPrefix(line []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("[pod/"))
	if !ok {
		return 0, false
	}
	end := bytes.Index(rest, []byte("] "))
	if end < 0 {
		return 0, false
	}
	name := rest[:end]
	if bytes.Count(name, []byte("/")) != 1 || name[0] == '/' || name[len(name)-1] == '/' || bytes.ContainsAny(name, " ]") {
		return 0, false
	}
	return len("[pod/") + end + len("] "), true
}

func isKubectlLine(line []byte) bool {
	_, ok := kubectlPrefix(line)
	return ok
}

// criOutput is what a line of the CRI format holds.
type criOutput struct {
	content []byte // the line of output
	stderr  bool   // printed on stderr, not stdout
	partial bool   // a piece of a longer line (tag P)
}

// criLine splits a line of the CRI format; ok is false for a line of any
// other form.
func criLine(line []byte) (out criOutput, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || !criTime(line[:sp]) {
		return out, false
	}
	rest := line[sp+1:]
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
	case bytes.HasPrefix(rest, []byte("stderr ")):
		out.stderr = true
	default:
		return out, false
	}
	rest = rest[len("stdout "):]
	tag := rest
	if j := bytes.IndexByte(rest, ' '); j >= 0 {
		tag, out.content = rest[:j], rest[j+1:]
	}
	// The tag is a list of flags separated by colons, the first P or F;
	// none other is defined yet.
	first, _, _ := bytes.Cut(tag, []byte(":"))
	switch string(first) {
	case "P":
		out.partial = true
		return out, true
	case "F":
		return out, true
	}
	return criOutput{}, false
}

// criTime reports whether b is an RFC 3339 time as the runtimes write it:
// 2026-11-20T09:41:07.160199123Z, or with an offset (+01:00) for a node
// whose clock is not in UTC.
func criTime(b []byte) bool {
	const date = "dddd-dd-ddTdd:dd:dd"
	if len(b) < len(date)+1 {
		return false
	}
	for i := 0; i < len(date); i++ {
		if date[i] == 'd' && (b[i] < '0' || b[i] > '9') || date[i] != 'd' && b[i] != date[i] {
			return false
		}
	}
	b = b[len(date):]
	if b[0] == '.' {
		n := 1
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		b = b[n:]
	}
	switch {
	case len(b) == 1 && b[0] == 'Z':
		return true
	case len(b) == 6 && (b[0] == '+' || b[0] == '-') && b[3] == ':':
		for _, i := range []int{1, 2, 4, 5} {
			if b[i] < '0' || b[i] > '9' {
				return false
			}
		}
		return true
	}
	return false
}

// skipOutputText is why a line of container output that is not JSON is
// skipped, in either format, or after kubectl's prefix or time: the API
// server's own log lines on stderr, or the rest of a line the runtime
// split (criSplit, dockerSplit).
const skipOutputText = "container output that is not JSON"

// textOutput reports whether a line a container printed, trimmed, is text
// rather than JSON: it does not start as an object, and if it starts as an
// array ("[INFO] ...", as many programs log), it is not one.
func textOutput(line []byte) bool {
	switch {
	case len(line) == 0 || line[0] == '{':
		return false
	case line[0] == '[':
		return !checkJSON(line).valid
	}
	return true
}

// textSkip says why a line that is neither blank nor starts like an
// object, as it stands in the input (raw) and trimmed (line), is skipped
// rather than malformed: text a container printed, after a CRI or kubectl
// prefix. It is "" for any other line: text alone (a klog line, an error
// message) in a log of events is malformed.
func textSkip(raw, line []byte) string {
	if len(line) == 0 || !textOutput(line) {
		return ""
	}
	if isCRI(raw) {
		// The runtime's own format: output that does not start as JSON,
		// or the rest of a line it split.
		return skipOutputText
	}
	if bytes.Contains(line, []byte(`{"`)) {
		// Text that holds an object may be an event behind more than
		// k8sexec reads past: malformed, to be seen.
		return ""
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimRight(raw, " \t\r"), utf8BOM), " \t")
	if len(t) > 0 && (t[0] >= '0' && t[0] <= '9' || t[0] == '[') && len(outputOf(t)) < len(t) {
		return skipOutputText // after kubectl's prefix or time
	}
	return ""
}

// criSplit is why the first piece of a line the runtime split is not
// evaluated.
const criSplit = "a line the container runtime split (longer than its limit, 16 KiB by default; tag P), in an input that does not start as a container log, where k8sexec does not join the pieces: not evaluated"

// isCRI reports whether a line as it stands in the input is in the CRI
// format.
func isCRI(line []byte) bool {
	_, ok := criOf(line)
	return ok
}

// criPartial reports whether a line as it stands in the input is a piece
// of a longer one in the CRI format.
func criPartial(line []byte) bool {
	out, ok := criOf(line)
	return ok && out.partial
}

// criOf is criLine of a line as it stands in the input, with what
// trimLine strips around it.
func criOf(line []byte) (criOutput, bool) {
	line = bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimRight(line, " \t\r"), utf8BOM), " \t")
	if len(line) == 0 || line[0] < '0' || line[0] > '9' {
		return criOutput{}, false
	}
	return criLine(line)
}

// shippedPrefix is how a raw audit event starts written as a JSON string,
// up to the slash after the group, which Fluent Bit escapes (\/).
var shippedPrefix = []byte(`"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io`)

// shippedMember returns where, in a record of no other shape, the string
// that holds a raw audit event starts and ends, the way log shippers
// carry a line they read with what they know of it (Fluent Bit's log,
// Fluentd's and Vector's message, Loki's line, journald's MESSAGE,
// Filebeat's and Elastic Agent's message or event.original), or one
// object down (Splunk's export, {"result":{"_raw":...}}), or the object a
// shipper parsed the line into ({"attributes":{"kind":"Event",...}}); ok
// is false when there is none. A record with audit fields of its own
// (kubernetes.audit: Elastic's integration read the event into them) has
// none: those fields are what Elasticsearch matches.
func shippedMember(rec []byte, members []rootMember) (start, end int, ok bool) {
	// Every event names its apiVersion, which rules out most records
	// (process events, apps' logs) at once.
	if !hasAuditGroup(rec) {
		return 0, 0, false
	}
	found := slices.IndexFunc(members, func(m rootMember) bool { return shippedEvent(rec[m.start:m.end]) })
	switch {
	case found >= 0:
		start, end = members[found].start, members[found].end
	case auditObject(rec, members) || slices.ContainsFunc(members, func(m rootMember) bool { return m.key == "protoPayload" }):
		// A record that is an event of its own (a raw audit event whose
		// keys are not in kube-apiserver's order, a GKE entry) holds none.
		return 0, 0, false
	default:
		if start, end, ok = shippedObject(rec, members); !ok {
			return 0, 0, false
		}
	}
	if auditFieldsIn(rec, members) {
		return 0, 0, false
	}
	return start, end, true
}

// shippedObject is shippedMember one object down: a member that is an
// audit event, or holds one as a string.
func shippedObject(rec []byte, members []rootMember) (start, end int, ok bool) {
	for _, m := range members {
		v := rec[m.start:m.end]
		// The same test rules out the other members without reading
		// theirs (kubernetes holds a shipper's pod metadata, or the audit
		// fields Elastic's integration wrote).
		if len(v) == 0 || v[0] != '{' || m.key == "kubernetes" || !hasAuditGroup(v) {
			continue
		}
		inner := appendRoot(nil, v)
		if m.key != "_source" && auditObject(v, inner) {
			// The line parsed into an object (a shipper's JSON parser;
			// keys perhaps reordered). A search hit's _source that is
			// an event is the search hit's reader's.
			return m.start, m.end, true
		}
		for _, im := range inner {
			if shippedEvent(v[im.start:im.end]) {
				if auditFieldsIn(v, inner) {
					return 0, 0, false
				}
				return m.start + im.start, m.start + im.end, true
			}
		}
	}
	return 0, 0, false
}

// hasAuditGroup reports whether b holds audit.k8s.io, which every audit
// event's apiVersion does, as an object or as a string. It looks for the
// rarer k8s.io first, which is several times faster on ECS documents,
// full of a's.
func hasAuditGroup(b []byte) bool {
	const group, domain = "audit.", "k8s.io"
	for i := len(group); i <= len(b)-len(domain); {
		j := bytes.Index(b[i:], []byte(domain))
		if j < 0 {
			return false
		}
		if i += j; string(b[i-len(group):i]) == group {
			return true
		}
		i += len(domain)
	}
	return false
}

// auditFieldsIn reports whether an object, whose members are listed, has
// audit fields of its own: kubernetes.audit, nested or dotted.
func auditFieldsIn(obj []byte, members []rootMember) bool {
	for _, m := range members {
		switch {
		case m.key == "kubernetes.audit" || strings.HasPrefix(m.key, "kubernetes.audit."):
			return true
		case m.key == "kubernetes" && gjson.GetBytes(obj[m.start:m.end], "audit").Exists():
			return true
		}
	}
	return false
}

// auditObject reports whether an object, whose members are listed, is a
// raw audit event: kind Event and an audit.k8s.io apiVersion, in whatever
// order its keys are.
func auditObject(obj []byte, members []rootMember) bool {
	kind, version := false, false
	for _, m := range members {
		switch v := obj[m.start:m.end]; m.key {
		case "kind":
			kind = string(v) == `"Event"`
		case "apiVersion":
			version = bytes.HasPrefix(v, []byte(`"audit.k8s.io/`))
		}
	}
	return kind && version
}

// shippedUnit reads the event in v, the JSON text of the string, or the
// object, a shipper's record holds it in (shippedMember), placed at off.
func shippedUnit(v []byte, off int) Unit {
	text := v
	if v[0] == '"' {
		text = bytes.TrimSpace([]byte(gjson.ParseBytes(v).Str))
	}
	return carriedEvent(text, off, ShapeShipped)
}

// shippedEvent reports whether the JSON text of a value is a string that
// holds a raw audit event.
func shippedEvent(v []byte) bool {
	if !bytes.HasPrefix(v, shippedPrefix) {
		return false
	}
	rest := v[len(shippedPrefix):]
	return bytes.HasPrefix(rest, []byte("/")) || bytes.HasPrefix(rest, []byte(`\/`))
}

// Docker's json-file log driver writes each line of output as
//
//	{"log":"{\"kind\":\"Event\",...}\n","stream":"stdout","time":"2026-11-20T09:41:07.160199123Z"}
//
// the line in log with its newline; a piece of a line longer than 16 KiB
// has none, and the next objects continue it. Newer versions may add
// attrs.

// dockerSplit is why the first piece of a line Docker split is not
// evaluated.
const dockerSplit = "a line Docker split (longer than 16 KiB; its log value does not end in a newline), in an input that does not start as a Docker log, where k8sexec does not join the pieces: not evaluated"

// dockerKeys are the members of a line of Docker's json-file log.
var dockerKeys = map[string]bool{"log": true, "stream": true, "time": true, "attrs": true}

// dockerOnly reports whether a record's members are those of a line of
// Docker's json-file log and no others: an ECS document with a log and a
// stream of its own is still ECS.
func dockerOnly(members []rootMember) bool {
	for _, m := range members {
		if !dockerKeys[m.key] {
			return false
		}
	}
	return len(members) > 0
}

// dockerPrefix starts every line of Docker's json-file log, and
// dockerStream follows the line of output in it.
var dockerPrefix, dockerStream = []byte(`{"log":"`), []byte(`","stream":"`)

// dockerForced reports whether a line, trimmed, of Docker's json-file log
// holds no event the prefilter may rule out unparsed: text, which is
// skipped and counted, or a piece of a line Docker split, whose first
// piece holds the start of an event with literals perhaps in the others
// and must be reported (dockerLine).
func dockerForced(line []byte) bool {
	end, ok := dockerLogEnd(line)
	return ok && (line[len(dockerPrefix)] != '{' || !dockerNewline(line, end))
}

// dockerPartial reports whether a line, trimmed, may be a piece of a line
// Docker split: its log does not end in a newline. It is exact for a line
// as Docker writes it (dockerOutput): a quote inside a string is escaped,
// so `","stream":"` occurs only where a string ends before a member named
// stream, which is once, after log.
func dockerPartial(line []byte) bool {
	end, ok := dockerLogEnd(line)
	return ok && !dockerNewline(line, end)
}

// dockerLogEnd returns where the log value of a line of Docker's
// json-file log ends, at its closing quote. Docker writes log first, then
// stream and time, and a quote inside log is escaped, so `","stream":"`
// occurs once, near the end of the line, where log ends.
func dockerLogEnd(line []byte) (int, bool) {
	if !bytes.HasPrefix(line, dockerPrefix) {
		return 0, false
	}
	end := bytes.LastIndex(line, dockerStream)
	return end, end >= 0
}

// dockerNewline reports whether the log value ending at end ends in an
// escaped newline: \n after an even number of backslashes.
func dockerNewline(line []byte, end int) bool {
	i := end - 1
	if i < len(dockerPrefix) || line[i] != 'n' {
		return false
	}
	n := 0
	for j := i - 1; j >= len(dockerPrefix) && line[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// dockerOutput reads a line, trimmed, of Docker's json-file log, as Docker
// writes it (log, then stream, then perhaps attrs and time, each once): the line of
// output in log, decoded, which is partial when it does not end in a
// newline (a piece of a line Docker split), and its stream. ok is false
// for a line in another form.
func dockerOutput(line []byte) (criOutput, bool) {
	if !bytes.HasPrefix(line, dockerPrefix) || !checkJSON(line).valid {
		return criOutput{}, false
	}
	members := rootOf(line)
	if !dockerOnly(members) || len(members) < 2 || members[1].key != "stream" || repeatedKey(members) {
		return criOutput{}, false
	}
	var log, stream gjson.Result
	for _, m := range members {
		switch m.key {
		case "log":
			log = gjson.ParseBytes(line[m.start:m.end])
		case "stream":
			stream = gjson.ParseBytes(line[m.start:m.end])
		}
	}
	if log.Type != gjson.String || stream.Str != "stdout" && stream.Str != "stderr" {
		return criOutput{}, false
	}
	return criOutput{content: []byte(log.Str), partial: !strings.HasSuffix(log.Str, "\n"), stderr: stream.Str == "stderr"}, true
}

// repeatedKey reports whether a name occurs twice among an object's
// members.
func repeatedKey(members []rootMember) bool {
	for i, m := range members {
		for _, o := range members[:i] {
			if o.key == m.key {
				return true
			}
		}
	}
	return false
}

// isDocker reports whether a line, trimmed, is one of Docker's json-file
// log.
func isDocker(line []byte) bool {
	_, ok := dockerOutput(line)
	return ok
}

// dockerJoined is the line of Docker's json-file log that holds a line of
// output whole, on a stream, as Docker writes a line shorter than its
// limit.
func dockerJoined(output []byte, stderr bool) []byte {
	stream := "stdout"
	if stderr {
		stream = "stderr"
	}
	line := append([]byte(`{"log":`), quoteJSON(string(output))...)
	return append(line, `,"stream":"`+stream+`"}`...)
}

// dockerLine reads the output in a line of Docker's json-file log, whose
// record starts base bytes into its line.
func dockerLine(base int, log gjson.Result) Unit {
	off := base + log.Index
	text := bytes.TrimSpace([]byte(log.Str))
	switch {
	case len(text) == 0 || text[0] != '{':
		return Unit{Offset: off, Skip: skipOutputText}
	case !strings.HasSuffix(log.Str, "\n"):
		cut, say := cutRequest(text)
		return Unit{Raw: text, Offset: off, Problem: dockerSplit + say, Cut: cut}
	}
	return carriedEvent(text, off, ShapeDocker)
}
