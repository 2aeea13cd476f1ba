package scan

import "bytes"

// The CRI container log format is what containerd and CRI-O write to
// /var/log/pods/*/*/N.log (and /var/log/containers/*.log) for everything
// a container prints: one line per line of output,
//
//	2026-11-20T09:41:07.160199123Z stdout F {"kind":"Event",...}
//
// the time the runtime read it, the stream, a tag and the output itself.
// kube-apiserver run with --audit-log-path=- prints its audit events to
// stdout, so they reach disk this way, between its own log lines on
// stderr. The tag is F for a whole line and P for a piece of one longer
// than the runtime's limit (16 KiB by default), which the next lines
// continue up to an F.

// criLine splits a line of the CRI format into its output and whether it
// is a piece of a longer line (tag P); ok is false for a line of any
// other form.
func criLine(line []byte) (content []byte, partial, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || !criTime(line[:sp]) {
		return nil, false, false
	}
	rest := line[sp+1:]
	if !bytes.HasPrefix(rest, []byte("stdout ")) && !bytes.HasPrefix(rest, []byte("stderr ")) {
		return nil, false, false
	}
	rest = rest[len("stdout "):]
	tag := rest
	if j := bytes.IndexByte(rest, ' '); j >= 0 {
		tag, content = rest[:j], rest[j+1:]
	}
	// The tag is a list of flags separated by colons, the first P or F;
	// none other is defined yet.
	first, _, _ := bytes.Cut(tag, []byte(":"))
	switch string(first) {
	case "P":
		return content, true, true
	case "F":
		return content, false, true
	}
	return nil, false, false
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

// skipCRIText is why a line of container output that is not JSON is
// skipped: the API server's own log lines on stderr, or the rest of a
// line the runtime split (criSplit).
const skipCRIText = "container output that is not JSON"

// criSplit is why the first piece of a line the runtime split is not
// evaluated.
const criSplit = "a line the container runtime split (longer than its limit, 16 KiB by default; tag P): k8sexec does not join the pieces, so this event is not evaluated"

// isCRI reports whether a line as it stands in the input is in the CRI
// format.
func isCRI(line []byte) bool {
	_, _, ok := criOf(line)
	return ok
}

// criPartial reports whether a line as it stands in the input is a piece
// of a longer one in the CRI format.
func criPartial(line []byte) bool {
	_, partial, ok := criOf(line)
	return ok && partial
}

// criOf is criLine of a line as it stands in the input, with what
// trimLine strips around it.
func criOf(line []byte) (content []byte, partial, ok bool) {
	line = bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimRight(line, " \t\r"), utf8BOM), " \t")
	if len(line) == 0 || line[0] < '0' || line[0] > '9' {
		return nil, false, false
	}
	return criLine(line)
}
