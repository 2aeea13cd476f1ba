package triage

import (
	"encoding/json"
	"sort"

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
		}
	}
	kept := map[string]bool{}  // sessions ContextQuiet kept, by leader
	ends := map[string]Event{} // the first end of each command's process, by entity ID
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
				if leaderEnd && get(id).end == nil {
					get(id).end = &ev
				}
				if _, ok := ends[id]; !ok && commandEnd {
					ends[id] = ev
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
		commandEnds(s.commands, ends)
		s.more = overflow[s.id]
		if s.end != nil {
			ended(s.leader, *s.end)
		}
		if s.finding != nil {
			s.finding.Commands, s.finding.MoreCommands = s.commands, s.more
		}
		out = append(out, s)
	}
	return out
}

// ended records on the finding about a session's first process when and
// how the process ended, from its end event: process.end, or the event's
// time where that is missing or no date, and process.exit_code.
func ended(f *Finding, ev Event) {
	p := f.Process
	p.End = endTime(ev)
	if code, ok := long(rules.First(ev.Doc, fExitCode)); ok {
		p.ExitCode = &code
	}
	e := Evidence{File: ev.File, Line: ev.Line, Index: ev.Index, Time: eventTime(ev.Doc), Note: "process end"}
	for _, had := range f.Evidence {
		if had.File == e.File && had.Line == e.Line && had.Index == e.Index {
			return // a rule matched the end event too
		}
	}
	f.Context = append(f.Context, e)
}

// commandEnds sets on each command, in time order, when its process
// ended and its exit code, from the end events by entity ID. A process
// that exec'd several programs (a script that execs its payload) ended
// once: the end is its last program's.
func commandEnds(cmds []SessionCommand, ends map[string]Event) {
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
		ev, ok := ends[id]
		if !ok {
			continue
		}
		c := &cmds[i]
		c.End = endTime(ev)
		if code, ok := long(rules.First(ev.Doc, fExitCode)); ok {
			c.ExitCode = &code
		}
	}
}

// endTime is when an end event says its process ended: process.end, or
// the event's time where that is missing or no date.
func endTime(ev Event) string {
	at := str(ev.Doc, fProcEnd)
	if _, ok := parseTime(at); !ok {
		at = str(ev.Doc, fTimestamp)
	}
	return normTime(at)
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
