package rules

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// dateFields are the date fields of the ECS events k8sexec reads (ECS's
// date fields and the Kubernetes integration's audit timestamps).
// Elasticsearch indexes their values as instants, in milliseconds, read
// with its default format, strict_date_optional_time||epoch_millis, which
// changes what a query on them means:
//
//   - a range compares instants. A bound that leaves out parts of the
//     date ("2026-11-20", "2026-11-20T09:41") stands for the first
//     millisecond it covers, or for gt and lte the last, so
//     @timestamp <= "2026-11-20" takes in the whole day;
//   - a term is a range over what its value covers: @timestamp:"2026-11-20"
//     holds on that whole day (UTC), and "…07.160199Z" equals
//     "…07.160Z";
//   - a document value that is no date is not indexed (ignore_malformed),
//     so it is no value, and epoch milliseconds (a number or a string of
//     digits) are a date.
//
// A query value that is no date fails the query, as it does in
// Elasticsearch; date math (now-1d, ||+1d) is not supported offline.
// Wildcards, regular expressions and string functions keep their keyword
// meaning on the text.
var dateFields = map[string]bool{
	"@timestamp":                                true,
	"event.created":                             true,
	"event.ingested":                            true,
	"event.start":                               true,
	"event.end":                                 true,
	"process.start":                             true,
	"process.end":                               true,
	"process.parent.start":                      true,
	"process.parent.end":                        true,
	"process.entry_leader.start":                true,
	"process.session_leader.start":              true,
	"process.group_leader.start":                true,
	"process.parent.group_leader.start":         true,
	"process.entry_leader.parent.start":         true,
	"process.session_leader.parent.start":       true,
	"file.created":                              true,
	"file.ctime":                                true,
	"file.mtime":                                true,
	"file.accessed":                             true,
	"kubernetes.audit.requestReceivedTimestamp": true,
	"kubernetes.audit.stageTimestamp":           true,
}

// ErrNotDate is why a query on a date field fails to compile: its value is
// no date in Elasticsearch's default format.
var ErrNotDate = errors.New("not a date (strict_date_optional_time or epoch milliseconds; date math such as now-1d is not supported offline)")

// A dateSpan is the milliseconds a date value covers: one for a full
// timestamp, a day for "2026-11-20".
type dateSpan struct{ first, last int64 }

// parseDate reads s as strict_date_optional_time (yyyy[-MM[-dd]]
// [THH[:mm[:ss[.fraction]]]][Z|±HH[:]mm|±HH], without a zone UTC) or
// else as epoch milliseconds, to the millisecond.
func parseDate(s string) (dateSpan, bool) {
	if d, ok := parseISODate(s); ok {
		return d, true
	}
	return parseEpochMillis(s)
}

func parseEpochMillis(s string) (dateSpan, bool) {
	if s == "" {
		return dateSpan{}, false
	}
	digits := s
	if s[0] == '-' {
		digits = s[1:]
	}
	if digits == "" {
		return dateSpan{}, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return dateSpan{}, false
		}
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return dateSpan{}, false
	}
	return dateSpan{ms, ms}, true
}

// parseISODate reads strict_date_optional_time.
func parseISODate(s string) (dateSpan, bool) {
	i := 0
	num := func(n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		i += n
		return v, true
	}
	next := func(c byte) bool {
		if i < len(s) && s[i] == c {
			i++
			return true
		}
		return false
	}
	year, ok := num(4)
	if !ok {
		return dateSpan{}, false
	}
	// The parts after the year, each after its separator, as far as the
	// value gives them: month, day, hour, minute, second.
	parts := [5]int{1, 1, 0, 0, 0}
	given := 0
	for given < len(parts) && next("--T::"[given]) {
		if parts[given], ok = num(2); !ok {
			return dateSpan{}, false
		}
		given++
	}
	nanos, fraction := 0, false
	if given == len(parts) && (next('.') || next(',')) {
		start := i
		for i < len(s) && i-start < 9 && s[i] >= '0' && s[i] <= '9' {
			nanos = nanos*10 + int(s[i]-'0')
			i++
		}
		if i == start {
			return dateSpan{}, false
		}
		for k := i - start; k < 9; k++ {
			nanos *= 10
		}
		fraction = true
	}
	month, day, hour, min, sec := parts[0], parts[1], parts[2], parts[3], parts[4]
	offset := 0                   // seconds east of UTC
	if given >= 3 && i < len(s) { // a zone only after a time
		switch s[i] {
		case 'Z':
			i++
		case '+', '-':
			sign := 1
			if s[i] == '-' {
				sign = -1
			}
			i++
			oh, ok := num(2)
			if !ok {
				return dateSpan{}, false
			}
			om := 0
			if next(':') {
				if om, ok = num(2); !ok {
					return dateSpan{}, false
				}
			} else if i < len(s) {
				if om, ok = num(2); !ok {
					return dateSpan{}, false
				}
			}
			if oh > 18 || om > 59 {
				return dateSpan{}, false
			}
			offset = sign * (oh*3600 + om*60)
		}
	}
	if i != len(s) || month < 1 || month > 12 || hour > 23 || min > 59 || sec > 59 {
		return dateSpan{}, false
	}
	if day < 1 || day > daysIn(year, month) {
		return dateSpan{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nanos, time.UTC).Add(-time.Duration(offset) * time.Second)
	first := t.UnixMilli()
	if fraction {
		return dateSpan{first, first}, true
	}
	// A value without a fraction covers the whole of its last part.
	end := [...]time.Time{t.AddDate(1, 0, 0), t.AddDate(0, 1, 0), t.AddDate(0, 0, 1), t.Add(time.Hour), t.Add(time.Minute), t.Add(time.Second)}[given]
	return dateSpan{first, end.UnixMilli() - 1}, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ParseDate reads s as Elasticsearch's default date format does
// (strict_date_optional_time, else epoch milliseconds), to the
// millisecond: the first instant it covers.
func ParseDate(s string) (time.Time, bool) {
	d, ok := parseDate(s)
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMilli(d.first).UTC(), true
}

// dateOf is the instant a document value indexes as in a date field: a
// string in the default format, or a number of epoch milliseconds.
func dateOf(v gjson.Result) (int64, bool) {
	switch v.Type {
	case gjson.String:
		d, ok := parseDate(v.Str)
		return d.first, ok
	case gjson.Number:
		if math.IsInf(v.Num, 0) || math.IsNaN(v.Num) || math.Abs(v.Num) > 1<<62 {
			return 0, false
		}
		return int64(math.Floor(v.Num)), true
	}
	return 0, false
}

// dateQueryValue reads a query's value for a date field.
func dateQueryValue(f *Field, l Literal) (dateSpan, error) {
	if l.Kind == LitString || l.Kind == LitNumber {
		if d, ok := parseDate(l.Text); ok {
			return d, nil
		}
	}
	return dateSpan{}, fmt.Errorf("%s is a date field: %q is %w", f.Name, l.Text, ErrNotDate)
}

// dateEqualTest is a term or terms query on a date field: a range over
// what each value covers.
func dateEqualTest(p *Pred) (func(gjson.Result) bool, error) {
	var spans []dateSpan
	for _, l := range p.Values {
		d, err := dateQueryValue(p.Field, l)
		if err != nil {
			return nil, err
		}
		spans = append(spans, d)
	}
	return func(v gjson.Result) bool {
		ms, ok := dateOf(v)
		if !ok {
			return false
		}
		for _, d := range spans {
			if d.first <= ms && ms <= d.last {
				return true
			}
		}
		return false
	}, nil
}

// dateExistsTest holds for a value a date field indexes.
func dateExistsTest(v gjson.Result) bool {
	_, ok := dateOf(v)
	return ok
}

// dateRangeTest is a range query on a date field. As Elasticsearch rounds
// a bound's left-out parts: up for gt and lte, down for gte and lt.
func dateRangeTest(p *Pred) (func(gjson.Result) bool, error) {
	d, err := dateQueryValue(p.Field, p.Values[0])
	if err != nil {
		return nil, err
	}
	bound := d.first
	if p.Op == OpGreater || p.Op == OpLessEq {
		bound = d.last
	}
	return func(v gjson.Result) bool {
		ms, ok := dateOf(v)
		if !ok {
			return false
		}
		cmp := 0
		switch {
		case ms < bound:
			cmp = -1
		case ms > bound:
			cmp = 1
		}
		return holds(p.Op, cmp)
	}, nil
}
