package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/triage"
)

// EventRow is one event found by `k8sexec search`.
type EventRow struct {
	File    string
	Line    int64
	Index   int // position inside a record holding several events, or 0
	Summary triage.EventSummary
	Raw     []byte // the event's JSON, as read
}

// EventFormats lists the formats WriteEvents accepts.
var EventFormats = []string{"table", "ndjson"}

// WriteEvents renders search hits: "table" is one aligned line per event
// with its location first; "ndjson" is {"file","line","event"} per line,
// where event is the original JSON, untouched.
// validUTF8 is b with each byte that is no UTF-8 replaced by U+FFFD, as
// encoding/json decodes it, and as a wildcard counts it: one character
// each (bytes.ToValidUTF8 makes a run of them one).
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}

func WriteEvents(w io.Writer, rows []EventRow, format string) error {
	bw := bufio.NewWriter(w)
	switch format {
	case "ndjson":
		for _, r := range rows {
			bw.WriteString(`{"file":`)
			name, err := json.Marshal(r.File)
			if err != nil {
				return err
			}
			bw.Write(appendTerminalSafe(nil, name))
			bw.WriteString(`,"line":` + strconv.FormatInt(r.Line, 10))
			if r.Index > 0 {
				bw.WriteString(`,"index":` + strconv.Itoa(r.Index))
			}
			bw.WriteString(`,"event":`)
			// Invalid UTF-8 can only sit inside strings of a valid event;
			// replacing it keeps the line valid for every JSON reader, and
			// escaping terminal controls keeps a terminal safe, with the
			// same values.
			bw.Write(appendTerminalSafe(nil, validUTF8(r.Raw)))
			bw.WriteString("}\n")
		}
	case "table":
		for _, r := range rows {
			s := r.Summary
			place := triage.Evidence{File: r.File, Line: r.Line, Index: r.Index}.Place()
			line := fmt.Sprintf("%s  %s  %s  %s  %s  %s", Clean(place),
				orDash(Clean(s.Time)), orDash(Clean(s.Who)), orDash(Clean(s.Action)), orDash(Clean(s.Where)), Clean(s.What))
			bw.WriteString(strings.TrimRight(line, " "))
			bw.WriteByte('\n')
		}
	default:
		return fmt.Errorf("unknown format %q (want table or ndjson)", format)
	}
	return bw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
