package triage

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/tidwall/gjson"

	"github.com/k8sexec/k8sexec/rules"
)

// sessions gathers the container sessions the events describe: one per
// entry leader seen, as a rule finding about the leader or as context, with
// the commands run in it. overflow counts, per entry leader ID, commands
// the scanner saw but did not keep.
func sessions(events []Event, findings []*Finding, overflow map[string]int64) []*session {
	byID := map[string]*session{}
	var order []*session
	get := func(id string) *session {
		s := byID[id]
		if s == nil {
			s = &session{id: id}
			byID[id] = s
			order = append(order, s)
		}
		return s
	}
	for _, f := range findings {
		if f.Kind == KindProcess && f.Process != nil && f.Process.EntityID != "" &&
			(f.Process.EntryLeaderID == "" || f.Process.EntryLeaderID == f.Process.EntityID) {
			s := get(f.Process.EntityID)
			s.leader, s.finding = f, f
			s.findings = append(s.findings, f)
		}
	}
	kept := map[string]bool{}     // sessions ContextQuiet kept, by leader
	ends := map[string]endEvent{} // the earliest end of each command's process, by entry leader and entity ID
	for _, ev := range events {
		quiet := hasContext(ev, ContextQuiet)
		if quiet {
			// The scan keeps a session's events together, or none.
			if id := str(ev.Doc, fEntryLeader); id != "" {
				kept[id] = true
			}
		}
		// An event that is an end may be a start too: Defend merges the
		// events of a short-lived process into one.
		leaderEnd := hasContext(ev, ContextShellEnds) || hasContext(ev, ContextQuietEnds)
		if commandEnd := hasContext(ev, ContextCommandEnds); leaderEnd || commandEnd {
			if id := str(ev.Doc, fEntityID); id != "" {
				e := readEnd(ev)
				if leaderEnd {
					s := get(id)
					s.ends = append(s.ends, e)
				}
				// Entity IDs are unique, but a command's end is looked
				// for in its own session only.
				k := str(ev.Doc, fEntryLeader) + "\x00" + id
				if had, ok := ends[k]; commandEnd && (!ok || e.before(had)) {
					ends[k] = e
				}
			}
		}
		switch {
		case hasContext(ev, ContextShells) || quiet && isLeader(ev):
			id := str(ev.Doc, fEntityID)
			if id == "" {
				continue
			}
			if s := get(id); s.leader == nil {
				s.leader = leaderOf(ev)
			}
		case hasContext(ev, ContextCommands) || quiet:
			id := str(ev.Doc, fEntryLeader)
			if id == "" {
				continue
			}
			s := get(id)
			s.commands = append(s.commands, commandOf(ev))
		}
	}
	var out []*session
	for _, s := range order {
		if s.leader == nil {
			continue // commands of a session whose start is not in the logs
		}
		// A rule reported the first process of a session without a
		// terminal that the scan did not keep (Context.Group): its
		// commands are unknown, not none.
		p := s.leader.Process
		s.dropped = s.finding != nil && p.entryType == "container" && (p.Interactive == nil || !*p.Interactive) && !kept[s.id]
		s.commands = distinctCommands(s.commands)
		sort.SliceStable(s.commands, func(i, j int) bool { return timeBefore(s.commands[i].Time, s.commands[j].Time) })
		commandEnds(s.id, s.commands, ends)
		s.end = firstEnd(s.leader, s.ends)
		s.more = overflow[s.id]
		if s.finding == nil && s.end != nil {
			ended(s.leader, *s.end) // the leader read as context
		}
		for _, f := range s.findings {
			if s.end != nil {
				ended(f, *s.end)
			}
			f.Commands, f.MoreCommands = s.commands, s.more
		}
		out = append(out, s)
	}
	return out
}

// endEvent is what an end event says of its process's end.
type endEvent struct {
	ev   Event
	at   string // when, normalized; "" when the event holds no date
	t    time.Time
	code *int64
}

// readEnd reads an end event: when (process.end, or the event's
// @timestamp where that is missing or no date) and process.exit_code.
func readEnd(ev Event) endEvent {
	e := endEvent{ev: ev}
	e.at, e.t = firstDate(ev.Doc, fProcEnd, fTimestamp)
	if code, ok := long(rules.First(ev.Doc, fExitCode)); ok {
		e.code = &code
	}
	return e
}

// before orders the ends of one process (a log read twice, a rule's match
// besides the context's): the earliest first, those without a date last,
// equal ones by where they were read, so the input order does not choose.
func (e endEvent) before(o endEvent) bool {
	switch {
	case (e.at == "") != (o.at == ""):
		return e.at != ""
	case !e.t.Equal(o.t):
		return e.t.Before(o.t)
	case e.ev.File != o.ev.File:
		return e.ev.File < o.ev.File
	case e.ev.Line != o.ev.Line:
		return e.ev.Line < o.ev.Line
	}
	return e.ev.Index < o.ev.Index
}

// known reports whether the end says anything: a time or an exit code.
func (e endEvent) known() bool { return e.at != "" || e.code != nil }

// ended records on the finding about a session's first process when and
// how the process ended, and lists the end event as its context.
func ended(f *Finding, e endEvent) {
	if !e.known() {
		return
	}
	p := f.Process
	p.End, p.ExitCode = e.at, e.code
	if start, ok := parseTime(f.Timestamp); ok && e.at != "" && e.t.Before(start) {
		f.Notes = append(f.Notes, fmt.Sprintf("The process's end event says it ended at %s, before it started (%s): the node's clock, or the log, is wrong.", e.at, f.Timestamp))
	}
	c := Evidence{File: e.ev.File, Line: e.ev.Line, Index: e.ev.Index, Time: e.at, Note: "process end"}
	for _, had := range f.Evidence {
		if had.Place() == c.Place() {
			return // a rule matched the end event too
		}
	}
	f.Context = append(f.Context, c)
}

// commandEnds sets on each command, in time order, when its process
// ended and its exit code, from the end events by entity ID. A process
// that exec'd several programs (a script that execs its payload) ended
// once: the end is its last program's listed.
func commandEnds(leader string, cmds []SessionCommand, ends map[string]endEvent) {
	if len(ends) == 0 {
		return
	}
	last := map[string]int{}
	for i, c := range cmds {
		if c.EntityID != "" {
			last[c.EntityID] = i
		}
	}
	for id, i := range last {
		if e, ok := ends[leader+"\x00"+id]; ok {
			cmds[i].End, cmds[i].ExitCode = e.at, e.code
		}
	}
}

// firstEnd picks the end of a session's first process among the end
// events with its entity ID: the earliest (before) of those that may be
// in its container, nil when there is none.
func firstEnd(leader *Finding, ends []endEvent) *endEvent {
	var first *endEvent
	for i, e := range ends {
		if sameContainer(leader, e.ev) && (first == nil || e.before(*first)) {
			first = &ends[i]
		}
	}
	return first
}

// sameContainer reports whether an event may be about the container of
// a session's first process: the same container ID, where both name one.
func sameContainer(leader *Finding, ev Event) bool {
	id := str(ev.Doc, fContID)
	return leader.Container == nil || leader.Container.ID == "" || id == "" || id == leader.Container.ID
}

// Lasted is the time from start to end, two log times, when both are
// dates and end is not before start.
func Lasted(start, end string) (time.Duration, bool) {
	s, ok1 := parseTime(start)
	e, ok2 := parseTime(end)
	if !ok1 || !ok2 || e.Before(s) {
		return 0, false
	}
	return e.Sub(s), true
}

// isLeader reports whether a process event is its session's first
// process.
func isLeader(ev Event) bool { return isTrue(rules.First(ev.Doc, fSameAsProcess)) }

// isTrue reads a boolean as Elasticsearch does: true, or the string "true".
func isTrue(v gjson.Result) bool {
	return v.Type == gjson.True || v.Type == gjson.String && v.Str == "true"
}

// leaderOf describes a session's first process from its event.
func leaderOf(ev Event) *Finding {
	f := &Finding{Kind: KindProcess}
	commonFields(f, &ev)
	f.Process = processOf(ev.Doc)
	return f
}

func processOf(doc rules.Document) *Process {
	p := &Process{
		Executable:       str(doc, fExecutable),
		Name:             str(doc, fProcName),
		Args:             strs(doc, fArgs),
		EntityID:         str(doc, fEntityID),
		EntryLeaderID:    str(doc, fEntryLeader),
		entryType:        str(doc, fEntryType),
		WorkingDirectory: str(doc, fWorkDir),
		UserID:           str(doc, fProcUserID),
	}
	if p.UserID == "" {
		p.UserID = str(doc, fUserID)
	}
	if pid, ok := long(rules.First(doc, fPID)); ok {
		p.PID = pid
	}
	if v := rules.First(doc, fInteractive); v.Exists() {
		b := isTrue(v)
		p.Interactive = &b
	}
	return p
}

func commandOf(ev Event) SessionCommand {
	p := processOf(ev.Doc)
	return SessionCommand{
		Time: eventTime(ev.Doc), Args: p.Args, Executable: p.Executable, PID: p.PID,
		EntityID: p.EntityID, UserID: p.UserID, WorkingDirectory: p.WorkingDirectory,
		Evidence: Evidence{File: ev.File, Line: ev.Line, Index: ev.Index},
	}
}

// timeBefore orders RFC 3339 times, with the ones that are none (missing
// or unreadable) after all the others, among themselves in their place.
func timeBefore(a, b string) bool {
	ta, oka := parseTime(a)
	tb, okb := parseTime(b)
	switch {
	case oka && okb:
		return ta.Before(tb)
	case oka:
		return true
	}
	return false
}

// distinctCommands drops the commands that repeat an earlier one: the
// same event read twice (a file given twice, or in two exports), which
// differs only in where it was read.
func distinctCommands(cmds []SessionCommand) []SessionCommand {
	seen := map[string]bool{}
	out := cmds[:0]
	for _, c := range cmds {
		c2 := c
		c2.Evidence = Evidence{}
		key, _ := json.Marshal(c2)
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		out = append(out, c)
	}
	return out
}
