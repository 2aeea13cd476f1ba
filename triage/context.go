package triage

import (
	"cmp"
	"fmt"

	"github.com/k8sexec/k8sexec/rules"
)

// Context is a query for events triage reads besides rule hits. With Keys
// and Limit set, the scanner keeps at most Limit events per combination of
// the Keys' values and counts the rest, so context stays bounded on large
// logs.
type Context struct {
	Name  string
	Expr  rules.Expr
	Keys  []*rules.Field
	Limit int
	// Group and GroupLimit, with Keys and Limit, keep the events of only
	// the GroupLimit keys earliest by GroupOrder among those whose events
	// share the Group fields' values (scan.Selector).
	Group      []*rules.Field
	GroupLimit int
	GroupOrder *rules.Field
	// OnlyFor, when set, says the context is only needed if some rule hit
	// h has OnlyFor(h): the scanner may then look for it only afterwards,
	// and only if such a hit was found.
	OnlyFor func(hit rules.Document) bool
	// Order, with a Limit, asks for the earliest events by this field
	// rather than the first read.
	Order *rules.Field
}

// Names of the context queries.
const (
	// ContextStages: every stage of every exec and attach request, whatever
	// its verb or decision, to list the stages and measure the session.
	ContextStages = "request stages"
	// ContextQuiet: the container sessions entered from outside without a
	// terminal (kubectl exec -- ls, kubectl cp, kubectl exec -i -- sh <
	// script.sh), first process and commands: the process such an exec
	// request started and the programs it ran. Exec probes enter the same
	// way and repeat one command: only the first MaxRepeatedSessions
	// sessions of each command in each container are kept, whole, and
	// MaxSessionCommands commands of each.
	ContextQuiet = "sessions without a terminal"
	// ContextShells: the first process of interactive container sessions,
	// every one. Elastic's rule 2 reports them, but a scan may run another
	// version of that rule, or none, and still link them.
	ContextShells = "interactive session leaders"
	// ContextCommands: the programs run inside interactive sessions.
	ContextCommands = "session commands"
	// ContextShellEnds: the end of the first process of interactive
	// container sessions, every one: when the shell ended, and its exit
	// code.
	ContextShellEnds = "interactive session ends"
	// ContextQuietEnds: the end of the first process of container
	// sessions without a terminal, kept for the sessions ContextQuiet
	// keeps (the same keys, groups and order): the exit code of the
	// command an exec request ran.
	ContextQuietEnds = "ends of sessions without a terminal"
	// ContextCommandEnds: the ends of the processes run inside
	// interactive sessions, for the commands' exit codes. (Those of
	// sessions without a terminal are not read: a probe's children end
	// every few seconds, and reading them would cost more than the codes
	// are worth.)
	ContextCommandEnds = "session command ends"
)

// MaxSessionCommands is how many commands of one session are kept (the
// earliest); the rest are counted.
const MaxSessionCommands = 50

// MaxRepeatedSessions is how many non-interactive sessions of the same
// command in the same container are kept for linking.
const MaxRepeatedSessions = 3

var contextQueries = []struct {
	name, query string
	keys        []*rules.Field
	limit       int
	onlyFor     func(rules.Document) bool
	order       *rules.Field
	group       []*rules.Field // by fLeaderStart
	groupLimit  int            // MaxRepeatedSessions where 0
}{
	{ContextStages, `kubernetes.audit.objectRef.subresource:("exec" or "attach")`, nil, 0, nil, nil, nil, 0},
	// Sessions without a terminal are only linked to exec requests
	// (correlate), and every exec probe starts one: they are not worth
	// reading without an exec finding. One selector keeps the leader and
	// the commands of each, so that the commands kept are those of the
	// leaders kept: grouped by container and the leader's args, which
	// every child carries too, the earliest sessions by their start.
	{ContextQuiet, `process.entry_leader.entry_meta.type:"container" and event.action:"exec" and (process.entry_leader.same_as_process:true and not process.interactive:true or not process.entry_leader.same_as_process:true and not process.entry_leader.interactive:true)`,
		[]*rules.Field{fEntryLeader}, MaxSessionCommands + 1, isExecRequest, fTimestamp, []*rules.Field{fOrchNS, fOrchName, fContName, fLeaderArgs}, 0},
	{ContextShells, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.same_as_process:true and event.action:"exec" and process.interactive:true`,
		[]*rules.Field{fEntityID}, MaxEvidence, isExecRequest, nil, nil, 0},
	{ContextCommands, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.interactive:true and not process.entry_leader.same_as_process:true and event.action:"exec"`,
		[]*rules.Field{fEntryLeader}, MaxSessionCommands, nil, fTimestamp, nil, 0},
	// A session's end is its first process's end event. One per
	// process: a copy of the log read twice repeats it.
	// Whether a session had a terminal is its entry leader's
	// interactive, as for its commands (an end event may not repeat
	// process.interactive; and a condition on either of two fields gives
	// the prefilter no literal). Those without one are grouped as
	// ContextQuiet groups them, but with twice its places: a session
	// whose start is before the logs begin takes one here and none there.
	{ContextShellEnds, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.same_as_process:true and event.type:"end" and process.entry_leader.interactive:true`,
		[]*rules.Field{fEntityID}, 1, nil, fTimestamp, nil, 0},
	{ContextQuietEnds, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.same_as_process:true and event.type:"end" and not process.entry_leader.interactive:true`,
		[]*rules.Field{fEntityID}, 1, isExecRequest, fTimestamp, []*rules.Field{fOrchNS, fOrchName, fContName, fLeaderArgs}, 2 * MaxRepeatedSessions},
	// Twice as many ends as commands: a subshell or a pipeline forks
	// processes that end without an exec of their own.
	{ContextCommandEnds, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.interactive:true and not process.entry_leader.same_as_process:true and event.type:"end"`,
		[]*rules.Field{fEntryLeader}, 2 * MaxSessionCommands, nil, fTimestamp, nil, 0},
}

// isExecRequest reports whether a hit is an exec request, which correlate
// links to the session it started.
func isExecRequest(doc rules.Document) bool { return str(doc, fSubresource) == "exec" }

// ContextQueries returns the context triage needs from the scan.
func ContextQueries() []Context {
	var out []Context
	for _, q := range contextQueries {
		e, err := rules.ParseKQL(q.query)
		if err != nil {
			panic(fmt.Sprintf("triage: context query %q: %v", q.name, err))
		}
		c := Context{Name: q.name, Expr: e, Keys: q.keys, Limit: q.limit, OnlyFor: q.onlyFor, Order: q.order}
		if q.group != nil {
			c.Group, c.GroupLimit, c.GroupOrder = q.group, cmp.Or(q.groupLimit, MaxRepeatedSessions), fLeaderStart
		}
		out = append(out, c)
	}
	return out
}

// sessionContext reports whether an event is context sessions reads once
// the findings are built.
func sessionContext(ev Event) bool {
	for _, c := range ev.Context {
		switch c {
		case ContextQuiet, ContextShells, ContextCommands, ContextShellEnds, ContextQuietEnds, ContextCommandEnds:
			return true
		}
	}
	return false
}

func hasContext(ev Event, name string) bool {
	for _, c := range ev.Context {
		if c == name {
			return true
		}
	}
	return false
}
