package triage

import (
	"strconv"
	"strings"

	"github.com/k8sexec/k8sexec/rules"
)

// EventSummary is one event reduced to what a person scanning a list of
// hits needs: when, who, did what, where. Used by `k8sexec search`.
type EventSummary struct {
	Time   string
	Who    string
	Action string
	Where  string
	What   string
}

var (
	fEventAction = rules.NewField("event.action")
	fEventType   = rules.NewField("event.type")
)

// Summarize describes an audit event, a process event, or any ECS event.
func Summarize(doc rules.Document) EventSummary {
	var s EventSummary
	if auditID := str(doc, fAuditID); auditID != "" {
		s.Time = normTime(str(doc, fReceived))
		s.Who = str(doc, fUsername)
		if imp := str(doc, fImpUser); imp != "" {
			s.Who += " as " + imp
		}
		res := str(doc, fResource)
		if sub := str(doc, fSubresource); sub != "" {
			res += "/" + sub
		}
		s.Action = strings.TrimSpace(str(doc, fVerb) + " " + res)
		s.Where = joinNonEmpty("/", str(doc, fNamespace), str(doc, fObjName))
		var what []string
		if d := str(doc, fDecision); d != "" {
			what = append(what, d)
		}
		if code := str(doc, fCode); code != "" {
			what = append(what, code)
		}
		if st := str(doc, fStage); st != "" {
			what = append(what, st)
		}
		if cmd, ok := parseExecURI(str(doc, fRequestURI)); ok && len(cmd.Args) > 0 {
			what = append(what, Command(cmd.Args))
		}
		s.What = strings.Join(what, " ")
		if s.Time == "" {
			s.Time = normTime(str(doc, fTimestamp))
		}
		return s
	}
	s.Time = eventTime(doc)
	s.Who = str(doc, fUserName)
	if s.Who == "" {
		if id := str(doc, fUserID); id != "" {
			s.Who = "uid " + id
		}
	}
	s.Action = joinNonEmpty(" ", str(doc, fEventAction), strings.Join(strs(doc, fEventType), ","))
	cont := str(doc, fContName)
	if cont != "" {
		cont = "container " + cont
	}
	s.Where = joinNonEmpty("  ", joinNonEmpty("/", str(doc, fOrchNS), str(doc, fOrchName)), cont, hostPart(doc))
	exe := str(doc, fExecutable)
	args := strs(doc, fArgs)
	switch {
	case len(args) > 0:
		s.What = Command(args)
	case exe != "":
		s.What = exe
	}
	if pid := str(doc, fPID); pid != "" {
		if _, err := strconv.ParseInt(pid, 10, 64); err == nil {
			s.What = joinNonEmpty(" ", s.What, "(pid "+pid+")")
		}
	}
	return s
}

func hostPart(doc rules.Document) string {
	if h := str(doc, fHost); h != "" {
		return "node " + h
	}
	return ""
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
