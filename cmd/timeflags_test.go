package cmd

import (
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
