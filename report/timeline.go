package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/k8sexec/k8sexec/triage"
)

// Timeline writes every finding and the events linked to it (request
// stages, the process an exec started, the commands run in the session) in
// time order, one line each: the story of a scan at a glance. Strings from
// the logs are cleaned; events without a time come last.
type Timeline struct{}

type timelineEntry struct {
	at      time.Time
	hasTime bool
	text    string
	order   int // first seen, for a stable order among equal times
}

func (Timeline) Write(w io.Writer, r *Result) error {
	var entries []timelineEntry
	seen := map[string]bool{} // evidence places already on the timeline
	add := func(ts, place, text string) {
		if place != "" {
			if seen[place] {
				return
			}
			seen[place] = true
		}
		e := timelineEntry{text: text, order: len(entries)}
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			e.at, e.hasTime = t, true
			e.text = t.UTC().Format("2006-01-02T15:04:05.000Z") + "  " + text
		} else {
			e.text = fmt.Sprintf("%-24s  %s", orUnknown(Clean(ts), "(no time)"), text)
		}
		entries = append(entries, e)
	}
	for _, f := range r.Findings {
		short := f.ID[:min(8, len(f.ID))]
		ref := fmt.Sprintf("[%s %s]", short, Clean(f.Rule.Name))
		where := Clean(placeOf(f))
		switch {
		case f.Kind == triage.KindAudit:
			who := "someone"
			if f.User != nil && f.User.Name != "" {
				who = Clean(f.User.Name)
			}
			what := requestNoun(f)
			if f.Process != nil && len(f.Process.Args) > 0 {
				what += " " + Clean(triage.Command(f.Process.Args))
			}
			stages := append(append([]triage.Evidence(nil), f.Evidence...), f.Context...)
			sort.SliceStable(stages, func(i, j int) bool { return stageRank(stages[i].Stage) < stageRank(stages[j].Stage) })
			if len(stages) == 0 {
				add(f.Timestamp, "", fmt.Sprintf("%-9s %s  %s  %s  %s", "request", who, where, what, ref))
			}
			for _, ev := range stages {
				stage := stageText(f, ev)
				if ev.Note != "" {
					stage = Clean(ev.Note)
				}
				add(orUnknown(ev.Time, f.Timestamp), ev.Place(),
					fmt.Sprintf("%-9s %s  %s  %s  %s  %s", "request", who, where, what, stage, ref))
			}
			if p := f.Started; p != nil {
				add(p.Time, "process:"+p.EntityID, fmt.Sprintf("%-9s %s  %s  (started by %s)", "process", where, processSummary(p), short))
			}
		case f.Kind == triage.KindProcess:
			add(f.Timestamp, "process:"+processID(f), fmt.Sprintf("%-9s %s  %s  %s", "process", where, processText(f), ref))
		default:
			for _, ev := range f.Evidence {
				add(orUnknown(ev.Time, f.Timestamp), ev.Place(), fmt.Sprintf("%-9s %s  %s  %s", "event", where, Clean(Headline(f)), ref))
			}
		}
		for _, c := range f.Commands {
			add(c.Time, c.Evidence.Place(), fmt.Sprintf("%-9s %s  %s  (session of %s)", "command", where, Clean(triage.Command(commandArgs(c))), short))
		}
		if f.MoreCommands > 0 {
			add("", "more:"+f.ID, fmt.Sprintf("%-9s %s  %d more commands not kept  (session of %s)", "command", where, f.MoreCommands, short))
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.hasTime != b.hasTime {
			return a.hasTime
		}
		if a.hasTime && !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.order < b.order
	})
	for _, e := range entries {
		if _, err := io.WriteString(w, strings.TrimRight(e.text, " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func requestNoun(f *triage.Finding) string {
	if triage.Refused(f) {
		return Clean(action(f)) + " (refused)"
	}
	return Clean(action(f))
}

func stageRank(stage string) int {
	switch stage {
	case "RequestReceived":
		return 1
	case "ResponseStarted":
		return 2
	case "ResponseComplete":
		return 3
	}
	return 4
}

// stageText says what one stage of a request means for the session.
func stageText(f *triage.Finding, ev triage.Evidence) string {
	switch ev.Stage {
	case "RequestReceived":
		return "received"
	case "ResponseStarted":
		if f.Audit != nil && f.Audit.ResponseCode == 101 {
			return "stream opened"
		}
		return "response started"
	case "ResponseComplete":
		session := triage.Streams(f)
		out := "done"
		if session {
			out = "ended"
		}
		if triage.Refused(f) {
			out = "refused"
			if f.Audit.ResponseCode != 0 {
				out += " " + strconv.Itoa(f.Audit.ResponseCode)
			}
		}
		if s := f.Session; s != nil && s.DurationMS != nil && !triage.Refused(f) && session {
			out += ", lasted " + triage.FormatDuration(time.Duration(*s.DurationMS)*time.Millisecond)
		}
		return out
	}
	return Clean(orUnknown(ev.Stage, "logged"))
}

func placeOf(f *triage.Finding) string {
	var out string
	if f.Orch != nil {
		out = f.Orch.Namespace
		if f.Orch.Resource != nil && f.Orch.Resource.Name != "" {
			out += "/" + f.Orch.Resource.Name
		}
	}
	if f.Container != nil && f.Container.Name != "" {
		out += "/" + f.Container.Name
	}
	return orUnknown(strings.TrimPrefix(out, "/"), "-")
}

func processID(f *triage.Finding) string {
	if f.Process != nil && f.Process.EntityID != "" {
		return f.Process.EntityID
	}
	return f.ID
}

func processText(f *triage.Finding) string {
	if f.Process == nil {
		return "a process"
	}
	return processSummary(f.Process)
}
