package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/k8sexec/k8sexec/triage"
)

// Timeline writes every finding and the events linked to it (request
// stages, the process an exec started, the commands run in the session) in
// time order, one line each: the story of a scan at a glance. Suppressed
// findings shown (--show-suppressed) are on it too, each named with the
// exception that suppressed it. Strings from the logs are cleaned; events
// without a time come last.
type Timeline struct{}

type timelineEntry struct {
	at      time.Time
	hasTime bool
	stamp   string // the time as printed
	text    string
	// finding: text is a finding's own line (not a command or process
	// that a finding about its session lists); refs are the findings
	// about the event ("[1abd4f8e Rule name]"), note the session it
	// belongs to, as the first finding listing it says ("session of
	// 1abd4f8e").
	finding bool
	refs    []string
	note    string
	order   int // first seen, for a stable order among equal times
}

// timeline collects one entry per event: an event several findings are
// about (two rules on one request, a command that is also a finding) is
// one line naming all of them.
type timeline struct {
	entries []*timelineEntry
	byKey   map[string]*timelineEntry
}

// add puts an event on the timeline. key identifies the event (its
// evidence place, or the process's entity ID), "" when nothing else can
// be about it; more are other keys of the same event (a process
// finding's evidence places, which its session's command list names);
// ref is the finding the line is for, note the session it belongs to,
// either empty. An event any of whose keys is on the timeline already is
// merged into that line.
func (tl *timeline) add(ts, key, text, ref, note string, more ...string) {
	// The more precise keys first: two findings about two execs of one
	// process share its entity ID, not their places.
	keys := append(slices.Clone(more), key)
	var e *timelineEntry
	for _, k := range keys {
		if k != "" && tl.byKey[k] != nil {
			e = tl.byKey[k]
			break
		}
	}
	if e != nil {
		if ref != "" && !e.finding {
			e.text, e.finding = text, true
		}
		e.refs = appendNew(e.refs, ref)
		if e.note == "" {
			e.note = note
		}
	} else {
		e = &timelineEntry{text: text, finding: ref != "", note: note, order: len(tl.entries)}
		e.refs = appendNew(e.refs, ref)
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			e.at, e.hasTime = t, true
			e.stamp = t.UTC().Format("2006-01-02T15:04:05.000Z")
		} else {
			e.stamp = fmt.Sprintf("%-24s", orUnknown(Clean(ts), "(no time)"))
		}
		tl.entries = append(tl.entries, e)
	}
	for _, k := range keys {
		if k != "" && tl.byKey[k] == nil {
			tl.byKey[k] = e
		}
	}
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func (e *timelineEntry) String() string {
	out := e.stamp + "  " + e.text
	if len(e.refs) > 0 {
		out += "  " + strings.Join(e.refs, " ")
	}
	if e.note != "" {
		out += "  (" + e.note + ")"
	}
	return strings.TrimRight(out, " ")
}

func (Timeline) Write(w io.Writer, r *Result) error {
	tl := &timeline{byKey: map[string]*timelineEntry{}}
	for _, f := range append(slices.Clone(r.Findings), r.Suppressed...) {
		short := f.ID[:min(8, len(f.ID))]
		ref := fmt.Sprintf("[%s %s]", short, Clean(f.Rule.Name))
		if by := f.SuppressedBy; by != nil {
			ref = fmt.Sprintf("[%s %s, suppressed by %s]", short, Clean(f.Rule.Name), Clean(by.Exception))
		}
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
				tl.add(f.Timestamp, "", fmt.Sprintf("%-9s %s  %s  %s", "request", who, where, what), ref, "")
			}
			for _, ev := range stages {
				stage := stageText(f, ev)
				if ev.Note != "" {
					stage = Clean(ev.Note)
				}
				tl.add(orUnknown(ev.Time, f.Timestamp), ev.Place(),
					fmt.Sprintf("%-9s %s  %s  %s  %s", "request", who, where, what, stage), ref, "")
			}
			if p := f.Started; p != nil {
				tl.add(p.Time, processKey(p.EntityID, ""), fmt.Sprintf("%-9s %s  %s", "process", where, processSummary(p)), "", "started by "+short)
				tl.ended(p, p.Time, where, "session of "+short)
			}
		case f.Kind == triage.KindProcess:
			place := ""
			if len(f.Evidence) > 0 {
				place = f.Evidence[0].Place()
			}
			entity := ""
			if f.Process != nil {
				entity = f.Process.EntityID
			}
			// The command lines of its session name the same events
			// by where they were read.
			var places []string
			for _, ev := range f.Evidence {
				places = append(places, ev.Place())
			}
			// The request that started it says so on its own line;
			// one the report leaves out is named here, with why.
			note := ""
			for _, id := range f.Related {
				if h, ok := r.Hidden[id]; ok && h.Finding.Kind == triage.KindAudit {
					note = "started by " + id[:min(8, len(id))] + ", not shown: " + Clean(h.Why)
					break
				}
			}
			tl.add(f.Timestamp, processKey(entity, place), fmt.Sprintf("%-9s %s  %s", "process", where, processText(f)), ref, note, places...)
			if f.Process != nil {
				tl.ended(f.Process, f.Timestamp, where, "session of "+short)
			}
		default:
			for _, ev := range f.Evidence {
				tl.add(orUnknown(ev.Time, f.Timestamp), ev.Place(), fmt.Sprintf("%-9s %s  %s", "event", where, Clean(Headline(f))), ref, "")
			}
		}
		for _, c := range f.Commands {
			// By where it was read: a process that execs again (a
			// script exec'ing its payload) runs several commands under
			// one entity ID, each a line of its own.
			tl.add(c.Time, c.Evidence.Place(), fmt.Sprintf("%-9s %s  %s", "command", where, Clean(triage.Command(commandArgs(c)))+failedText(c)), "", "session of "+short)
		}
		if f.MoreCommands > 0 {
			tl.add("", "more:"+f.ID, fmt.Sprintf("%-9s %s  %d more commands not kept", "command", where, f.MoreCommands), "", "session of "+short)
		}
	}
	entries := tl.entries
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
		if _, err := io.WriteString(w, e.String()+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// ended puts a session's first process's end on the timeline, when the
// logs have it: one line, whichever findings name the process.
func (tl *timeline) ended(p *triage.Process, start, where, note string) {
	if p.End == "" && p.ExitCode == nil {
		return
	}
	text := fmt.Sprintf("%-9s %s  %s  ended", "process", where, processSummary(p))
	if p.ExitCode != nil {
		text += ", exit " + strconv.FormatInt(*p.ExitCode, 10)
	}
	if lasted, ok := triage.Lasted(start, p.End); ok {
		text += ", lasted " + triage.FormatDuration(lasted)
	}
	key := ""
	if p.EntityID != "" {
		key = "end:" + p.EntityID
	}
	tl.add(p.End, key, text, "", note)
}

// processKey identifies a process on the timeline: by its entity ID,
// which an exec request's started process and the finding about that
// process share, else by where it was read. (Session commands are keyed
// by where they were read: one process may exec several.)
func processKey(entityID, place string) string {
	if entityID != "" {
		return "process:" + entityID
	}
	return place
}

func requestNoun(f *triage.Finding) string {
	switch {
	case triage.Refused(f):
		return Clean(action(f)) + " (refused)"
	case triage.Failed(f):
		return Clean(action(f)) + " (failed)"
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
		switch {
		case triage.Refused(f):
			out = "refused"
			if f.Audit.ResponseCode != 0 {
				out += " " + strconv.Itoa(f.Audit.ResponseCode)
			}
		case triage.Failed(f):
			out = "failed " + strconv.Itoa(f.Audit.ResponseCode)
		}
		if s := f.Session; s != nil && s.DurationMS != nil && !triage.Failed(f) && session {
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

func processText(f *triage.Finding) string {
	if f.Process == nil {
		return "a process"
	}
	return processSummary(f.Process)
}
