package report

import (
	"strings"

	"github.com/k8sexec/k8sexec/triage"
)

// Headline says in one sentence what a finding is about: who did what
// where. SARIF messages and CSV rows use it. The text is not cleaned;
// callers that print to a terminal must clean it.
func Headline(f *triage.Finding) string {
	var b strings.Builder
	place := ""
	if f.Orch != nil {
		place = f.Orch.Namespace
		if f.Orch.Resource != nil && f.Orch.Resource.Name != "" {
			if place != "" {
				place += "/"
			}
			place += f.Orch.Resource.Name
		}
	}
	container := ""
	if f.Container != nil {
		container = f.Container.Name
		if container == "" {
			container = shortID(f.Container.ID)
		}
	}
	switch f.Kind {
	case triage.KindAudit:
		who := "someone"
		if f.User != nil && f.User.Name != "" {
			who = f.User.Name
		}
		b.WriteString(who)
		if f.User != nil && f.User.Impersonated != nil {
			b.WriteString(" (as " + f.User.Impersonated.Name + ")")
		}
		sub := ""
		if f.Audit != nil {
			sub = f.Audit.Subresource
		}
		switch {
		case sub == "attach":
			b.WriteString(byOutcome(f, " was refused an attach to ", " failed to attach to ", " attached to "))
			b.WriteString(orUnknown(place, "a pod"))
		case sub == "ephemeralcontainers":
			b.WriteString(byOutcome(f, " was refused an ephemeral container in ", " failed to add an ephemeral container to ", " added an ephemeral container to "))
			b.WriteString(orUnknown(place, "a pod"))
		case sub == "exec":
			// Failed: an error, such as the pod not found.
			b.WriteString(byOutcome(f, " was refused an exec", " failed to exec", " exec'd"))
			if f.Process != nil && len(f.Process.Args) > 0 {
				b.WriteString(" `" + triage.Command(f.Process.Args) + "`")
			}
			b.WriteString(" into " + orUnknown(place, "a pod"))
		default:
			// Any other request a rule matched: a secret read, an RBAC
			// change, a pod created.
			act := action(f)
			switch {
			case triage.Refused(f) && act == "request":
				b.WriteString(" was refused a request")
			case triage.Refused(f):
				b.WriteString(" was refused " + act)
			case triage.Failed(f) && act == "request":
				b.WriteString(" made a request that failed")
			case triage.Failed(f):
				b.WriteString(" failed to " + act)
			case act == "request":
				b.WriteString(" made a request")
			default:
				b.WriteString(" " + act)
			}
			switch {
			case f.Orch != nil && f.Orch.Resource != nil && f.Orch.Resource.Name != "":
				b.WriteString(" " + place)
			case place != "":
				b.WriteString(" in " + place)
			}
		}
		if container != "" {
			b.WriteString(" (container " + container + ")")
		}
		if f.Exec != nil && f.Exec.TTY && f.Exec.Stdin {
			b.WriteString(" with an interactive terminal")
		}
		if triage.Streams(f) && f.Audit.Verb == "get" {
			b.WriteString(" over WebSocket")
		}
		if f.Source != nil && len(f.Source.IP) > 0 {
			b.WriteString(" from " + f.Source.IP[0])
		}
	case triage.KindProcess:
		what := "a process"
		if f.Process != nil {
			what = orUnknown(f.Process.Executable, orUnknown(f.Process.Name, what))
			if f.Process.Interactive != nil && *f.Process.Interactive {
				what = "interactive " + what
			}
		}
		b.WriteString(what + " started inside " + orUnknown(place, "a container"))
		if container != "" {
			b.WriteString(" (container " + container + ")")
		}
		if f.Host != nil {
			b.WriteString(" on node " + f.Host.Name)
		}
	default:
		b.WriteString(f.Rule.Name)
		if place != "" {
			b.WriteString(" in " + place)
		}
		if f.User != nil && f.User.Name != "" {
			b.WriteString(" by " + f.User.Name)
		}
	}
	if f.Timestamp != "" {
		b.WriteString(" at " + f.Timestamp)
	}
	return b.String()
}

// action names what an audit finding's request did, in a few words:
// "exec", "attach", "add ephemeral container", else its verb and
// resource ("get secrets", "create pods", "get pods/log"), or "request"
// when the record says neither.
// byOutcome picks the words for what a request did: refused, failed
// (triage.Failed), or done.
func byOutcome(f *triage.Finding, refused, failed, done string) string {
	switch {
	case triage.Refused(f):
		return refused
	case triage.Failed(f):
		return failed
	}
	return done
}

func action(f *triage.Finding) string {
	a := f.Audit
	if a == nil {
		return "request"
	}
	switch a.Subresource {
	case "exec", "attach":
		return a.Subresource
	case "ephemeralcontainers":
		return "add ephemeral container"
	}
	return orUnknown(strings.TrimSpace(a.Verb+" "+a.Path()), "request")
}

func orUnknown(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
