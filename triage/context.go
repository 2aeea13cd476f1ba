package triage

import (
	"fmt"

	"github.com/k8sexec/k8sexec/rules"
)

// Context is a query for events triage reads besides rule hits. With Key
// and Limit set, the scanner keeps at most Limit events per value of Key
// and counts the rest, so context stays bounded on large logs.
type Context struct {
	Name  string
	Expr  rules.Expr
	Key   *rules.Field
	Limit int
}

// Names of the context queries.
const (
	// ContextStages: every stage of every exec and attach request, whatever
	// its verb or decision, to list the stages and measure the session.
	ContextStages = "request stages"
	// ContextLeaders: the first process of every container session that
	// entered from outside (kubectl exec, crictl exec), interactive or
	// not: the process an exec request started.
	ContextLeaders = "session leaders"
	// ContextCommands: the programs run inside such sessions.
	ContextCommands = "session commands"
)

// MaxSessionCommands is how many commands of one session are kept; the rest
// are counted.
const MaxSessionCommands = 50

var contextQueries = []struct {
	name, query string
	key         *rules.Field
	limit       int
}{
	{ContextStages, `kubernetes.audit.objectRef.subresource:("exec" or "attach")`, nil, 0},
	{ContextLeaders, `process.entry_leader.entry_meta.type:"container" and process.entry_leader.same_as_process:true and event.type:"start"`, fEntityID, 4},
	{ContextCommands, `process.entry_leader.entry_meta.type:"container" and not process.entry_leader.same_as_process:true and event.action:"exec"`, fEntryLeader, MaxSessionCommands},
}

// ContextQueries returns the context triage needs from the scan.
func ContextQueries() []Context {
	var out []Context
	for _, q := range contextQueries {
		e, err := rules.ParseKQL(q.query)
		if err != nil {
			panic(fmt.Sprintf("triage: context query %q: %v", q.name, err))
		}
		out = append(out, Context{Name: q.name, Expr: e, Key: q.key, Limit: q.limit})
	}
	return out
}

func hasContext(ev Event, name string) bool {
	for _, c := range ev.Context {
		if c == name {
			return true
		}
	}
	return false
}
