package cmd

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeWindow holds --since, --until and --now as given.
type timeWindow struct {
	since, until, now string
}

// resolve turns the flags into times. A value is RFC 3339
// (2026-11-20T09:00:00Z), a date (2026-11-20, midnight UTC), or a duration
// back from now (90m, 6h, 7d, 1d12h). now is --now, or the clock.
func (w timeWindow) resolve(clock time.Time) (since, until, now time.Time, err error) {
	now = clock
	if w.now != "" {
		if now, err = parseInstant(w.now); err != nil {
			// Go's parse error names layouts; say what the flag takes.
			return since, until, now, usageError("--now %q: want RFC 3339 (2026-11-20T09:00:00Z) or a date (2026-11-20)", w.now)
		}
	}
	if w.since != "" {
		if since, err = parseWhen(w.since, now); err != nil {
			return since, until, now, usageError("--since %q: %v", w.since, err)
		}
	}
	if w.until != "" {
		if until, err = parseWhen(w.until, now); err != nil {
			return since, until, now, usageError("--until %q: %v", w.until, err)
		}
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return since, until, now, usageError("--until (%s) must be after --since (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	return since, until, now, nil
}

func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := parseInstant(s); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if errors.Is(err, errAgoTooLong) {
		return time.Time{}, err
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 (2026-11-20T09:00:00Z), a date (2026-11-20) or a duration back from now (6h, 7d)")
	}
	// A bound at or before the zero time would read as no bound at all.
	t := now.Add(-d)
	if !t.After(time.Time{}) {
		return time.Time{}, fmt.Errorf("reaches back before 0001-01-01 from %s", now.Format(time.RFC3339))
	}
	return t, nil
}

func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// maxAgoDays is the most whole days a time.Duration holds.
const maxAgoDays = math.MaxInt64 / int64(24*time.Hour)

// errAgoTooLong is a duration too long for a time.Duration: unchecked, its
// days would wrap around to a time after now, or any time at all.
var errAgoTooLong = fmt.Errorf("duration too long: at most %dd (about 292 years)", maxAgoDays)

// parseAgo reads a Go duration with days allowed: 7d, 1d12h, 90m.
func parseAgo(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange) && n > 0, err == nil && n > maxAgoDays:
			return 0, errAgoTooLong
		case err != nil || n < 0: // -3d is no time back, as -3h is not
			return 0, fmt.Errorf("bad duration")
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration")
	}
	if d > math.MaxInt64-days {
		return 0, errAgoTooLong
	}
	return days + d, nil
}
