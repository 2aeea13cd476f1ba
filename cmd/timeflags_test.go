package cmd

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTimeWindow(t *testing.T) {
	clock := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		w            timeWindow
		since, until string
		err          bool
	}{
		{timeWindow{since: "6h"}, "2026-11-20T06:00:00Z", "", false},
		{timeWindow{since: "7d"}, "2026-11-13T12:00:00Z", "", false},
		{timeWindow{since: "1d12h", until: "1h"}, "2026-11-19T00:00:00Z", "2026-11-20T11:00:00Z", false},
		{timeWindow{since: "2h", now: "2026-11-21T00:00:00Z"}, "2026-11-20T22:00:00Z", "", false},
		{timeWindow{since: "2026-11-20T09:00:00+02:00"}, "2026-11-20T07:00:00Z", "", false},
		{timeWindow{since: "2026-11-19", until: "2026-11-20"}, "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z", false},
		{timeWindow{since: "yesterday"}, "", "", true},
		{timeWindow{since: "-3h"}, "", "", true},
		{timeWindow{now: "soon"}, "", "", true},
		{timeWindow{since: "1h", until: "2h"}, "", "", true}, // until before since
	}
	for _, tc := range tests {
		since, until, _, err := tc.w.resolve(clock)
		if (err != nil) != tc.err {
			t.Errorf("%+v: err %v", tc.w, err)
			continue
		}
		if tc.err {
			continue
		}
		if got := fmtTime(since); got != tc.since {
			t.Errorf("%+v: since %s, want %s", tc.w, got, tc.since)
		}
		if got := fmtTime(until); got != tc.until {
			t.Errorf("%+v: until %s, want %s", tc.w, got, tc.until)
		}
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// TestTimeWindowDurationLimits: a duration back from --now that a
// time.Duration cannot hold is a usage error naming the flag and the
// value, for days as for hours, instead of wrapping around to some other
// time.
func TestTimeWindowDurationLimits(t *testing.T) {
	const now = "2026-03-01T12:00:00Z"
	tests := []struct {
		ago  string
		want string // the time back from now; "" when refused
		err  string // what the message says when refused
	}{
		{"106751d", "1733-11-21T12:00:00Z", ""},
		{"106751d23h", "1733-11-20T13:00:00Z", ""},
		{"2562047h", "1733-11-20T13:00:00Z", ""}, // the same as 106751d23h
		{"106752d", "", "duration too long"},
		{"106751d24h", "", "duration too long"},
		{"200000d", "", "duration too long"},
		{"300000d", "", "duration too long"},
		{"9223372036854775808d", "", "duration too long"},
		{strings.Repeat("9", 400) + "d", "", "duration too long"},
		{"2562048h", "", "want RFC 3339"}, // time.ParseDuration refuses it, as before
		{"-3d", "", "want RFC 3339"},
	}
	for _, tc := range tests {
		for _, flag := range []string{"--since", "--until"} {
			w := timeWindow{now: now}
			if flag == "--since" {
				w.since = tc.ago
			} else {
				w.until = tc.ago
			}
			since, until, _, err := w.resolve(time.Time{})
			got := since
			if flag == "--until" {
				got = until
			}
			if tc.want != "" {
				if err != nil || fmtTime(got) != tc.want {
					t.Errorf("%s %s: %s, %v; want %s", flag, tc.ago, fmtTime(got), err, tc.want)
				}
				continue
			}
			var usage *exitError
			if !errors.As(err, &usage) || usage.code != ExitError {
				t.Errorf("%s %s: err %v (%T), want a usage error", flag, tc.ago, err, err)
				continue
			}
			if msg := err.Error(); !strings.HasPrefix(msg, fmt.Sprintf("%s %q: ", flag, tc.ago)) || !strings.Contains(msg, tc.err) {
				t.Errorf("%s %s: message %q, want the flag, the value and %q", flag, tc.ago, msg, tc.err)
			}
		}
	}

	// A bound before the year 1 would be the zero time, read as no bound.
	if _, _, _, err := (timeWindow{now: "0100-01-01T00:00:00Z", since: "36600d"}).resolve(time.Time{}); err == nil || !strings.Contains(err.Error(), "before 0001-01-01") {
		t.Errorf("since before the year 1: err %v", err)
	}
}

// TestDurationTooLongExitCode: from the command line the refusal is exit
// code 2 and the message names the flag and the value.
func TestDurationTooLongExitCode(t *testing.T) {
	for _, flag := range []string{"--since", "--until"} {
		_, errOut, code := run(t, nil, "scan", "--now", "2026-03-01T12:00:00Z", flag, "106752d", "../testdata/demo/")
		if want := flag + ` "106752d": duration too long`; code != ExitError || !strings.Contains(errOut, want) {
			t.Errorf("%s 106752d: exit %d, want %d and %q; stderr:\n%s", flag, code, ExitError, want, errOut)
		}
	}
}

// --now says what it takes, not which layouts Go tried.
func TestNowErrorSaysWhatItTakes(t *testing.T) {
	for _, v := range []string{"1h", "2026-11-20T10:00:00", "soon"} {
		_, stderr, code := run(t, nil, "scan", "--now", v, "../testdata/demo/")
		if want := `--now "` + v + `": want RFC 3339 (2026-11-20T09:00:00Z) or a date (2026-11-20)`; code != ExitError || !strings.Contains(stderr, want) || strings.Contains(stderr, "parsing time") {
			t.Errorf("--now %s: exit %d, %q; want %q", v, code, stderr, want)
		}
	}
}
