package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fatih/color"
	"github.com/k8sexec/k8sexec/triage"
)

// Table is the human-readable report: one block per finding, most severe
// first, then a summary.
type Table struct {
	Color bool
	// Guide is "full" (default), "short" (first paragraph) or "none". A
	// guide already printed for an earlier finding is not printed again:
	// the finding points back to it (a published rule's note is the same
	// for every finding of the rule, and a noisy rule has thousands).
	Guide string
}

func (t *Table) Write(w io.Writer, r *Result) error {
	bw := bufio.NewWriter(w)
	p := &tablePrinter{w: bw, color: t.Color, guides: map[string]string{}}
	byID := make(map[string]*triage.Finding, len(r.Findings))
	for _, f := range r.Findings {
		byID[f.ID] = f
	}
	p.byID, p.hidden = byID, r.Hidden
	for i, f := range r.Findings {
		if i > 0 {
			p.line("")
		}
		p.finding(f, t.Guide)
	}
	if len(r.Findings) == 0 {
		p.line(p.paint(color.FgGreen, "No findings."))
	}
	if len(r.Suppressed) > 0 {
		p.line("")
		p.line(p.paint(color.Bold, fmt.Sprintf("Suppressed (%d)", len(r.Suppressed))))
		for _, f := range r.Suppressed {
			p.line(fmt.Sprintf("  [%s] %s  %s", strings.ToUpper(f.Rule.Severity), f.ID, Clean(Headline(f))))
			if s := f.SuppressedBy; s != nil {
				p.line("    by " + Clean(s.Exception) + ": " + Clean(s.Reason) + " (" + Clean(s.Source) + ")")
			}
		}
	}
	p.line("")
	p.summary(r)
	return bw.Flush()
}

type tablePrinter struct {
	w     *bufio.Writer
	color bool
	byID  map[string]*triage.Finding
	// hidden are findings the report leaves out, which those shown may
	// still name.
	hidden map[string]Hidden
	// guides maps each guide printed to the finding it was printed for.
	guides map[string]string
}

func (p *tablePrinter) line(s string) {
	p.w.WriteString(s)
	p.w.WriteByte('\n')
}

func (p *tablePrinter) paint(attr color.Attribute, s string, more ...color.Attribute) string {
	c := color.New(append([]color.Attribute{attr}, more...)...)
	if p.color {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c.Sprint(s)
}

func (p *tablePrinter) severity(sev string) string {
	label := "[" + strings.ToUpper(sev) + "]"
	switch sev {
	case "critical":
		return p.paint(color.FgMagenta, label, color.Bold)
	case "high":
		return p.paint(color.FgRed, label, color.Bold)
	case "medium":
		return p.paint(color.FgYellow, label, color.Bold)
	case "low":
		return p.paint(color.FgBlue, label)
	}
	return label
}

// field prints "  label     value" when value is not empty. value is
// already clean.
func (p *tablePrinter) field(label, value string) {
	if value == "" {
		return
	}
	p.line(fmt.Sprintf("  %-9s %s", label, value))
}

func (p *tablePrinter) finding(f *triage.Finding, guide string) {
	p.line(p.severity(f.Rule.Severity) + " " + p.paint(color.Bold, Clean(f.Rule.Name)))
	ruleLine := Clean(f.Rule.ID)
	var meta []string
	if f.Rule.Origin == "k8sexec" {
		meta = append(meta, "k8sexec rule")
	} else if f.Rule.Origin == "elastic" {
		meta = append(meta, "Elastic rule")
	}
	meta = append(meta, "risk "+strconv.Itoa(f.Rule.RiskScore))
	if len(f.Rule.Techniques) > 0 {
		meta = append(meta, Clean(strings.Join(f.Rule.Techniques, " ")))
	}
	p.field("finding", f.ID+"  rule "+ruleLine+" ("+strings.Join(meta, ", ")+")")
	p.field("time", Clean(f.Timestamp))

	if f.User != nil {
		who := Clean(f.User.Name)
		if len(f.User.Groups) > 0 {
			who += "  groups: " + Clean(strings.Join(f.User.Groups, ", "))
		}
		if imp := f.User.Impersonated; imp != nil {
			who += "  impersonating: " + Clean(imp.Name)
			if len(imp.Groups) > 0 {
				who += " (groups: " + Clean(strings.Join(imp.Groups, ", ")) + ")"
			}
		}
		if f.User.TokenPod != "" {
			who += "  token of pod " + Clean(f.User.TokenPod)
			if f.User.TokenNode != "" {
				who += " on node " + Clean(f.User.TokenNode)
			}
		}
		p.field("who", who)
	}
	var from []string
	if f.Source != nil {
		from = append(from, Clean(strings.Join(f.Source.IP, ", ")))
	}
	if f.UserAgent != nil {
		from = append(from, Clean(f.UserAgent.Original))
	}
	p.field("from", strings.Join(from, "  "))
	p.field("where", where(f))
	p.field("what", what(f))
	if f.Kind == triage.KindProcess && f.Process != nil {
		p.field("ended", endText(f.Timestamp, f.Process))
	}
	if f.Audit != nil {
		var out []string
		if f.Audit.Decision != "" {
			out = append(out, Clean(f.Audit.Decision))
		}
		if f.Audit.ResponseCode != 0 {
			out = append(out, "response "+strconv.Itoa(f.Audit.ResponseCode))
		}
		out = append(out, "verb "+Clean(f.Audit.Verb))
		if f.Audit.Reason != "" {
			out = append(out, Clean(f.Audit.Reason))
		}
		// Why it failed, unless authorization said so already.
		if f.Audit.ResponseMessage != "" && triage.Failed(f) && f.Audit.Decision != "forbid" {
			out = append(out, Clean(f.Audit.ResponseMessage))
		}
		p.field("outcome", strings.Join(out, "  "))
	}
	if s := f.Session; s != nil {
		var out []string
		switch {
		case s.DurationMS != nil:
			out = append(out, "lasted "+triage.FormatDuration(time.Duration(*s.DurationMS)*time.Millisecond))
		case s.Ongoing && !triage.Failed(f): // a refusal or an error is its own end
			out = append(out, "no end seen")
		}
		if len(s.Stages) > 0 {
			out = append(out, "stages "+Clean(strings.Join(s.Stages, ", ")))
		}
		label := "session"
		if !triage.Streams(f) || triage.Failed(f) {
			label = "request" // a refused or failed exec opened no session
		}
		p.field(label, strings.Join(out, "  "))
	}
	for _, id := range p.byTime(f.Related) {
		p.field("linked", p.describe(id))
	}
	if f.Started != nil && !p.relatesProcess(f) {
		p.field("started", startedText(f.Started))
	}
	p.commands(f)
	if len(f.Candidates) > 0 {
		p.field("maybe", "several findings fit this session equally well, none linked:")
		for _, id := range f.Candidates {
			p.field("", p.describe(id))
		}
	}
	p.field("evidence", listedEvidence(f.Evidence))
	p.field("context", listedEvidence(f.Context))
	for _, n := range f.Notes {
		p.field("note", Clean(n))
	}
	if guide == "none" || f.Guidance == "" {
		return
	}
	text := f.Guidance
	if guide == "short" {
		text = firstParagraph(text)
	}
	if first, ok := p.guides[text]; ok {
		p.field("guide", "as for finding "+first+" above")
		return
	}
	p.guides[text] = f.ID
	p.line("  guide")
	for _, l := range strings.Split(text, "\n") {
		l = Clean(l)
		if l == "" {
			p.line("")
			continue
		}
		p.line("    " + l)
	}
}

// firstParagraph is the first paragraph of a guide that is neither a
// Markdown heading nor a quote: Elastic's notes open with "## Triage and
// analysis", most then with a quoted disclaimer. It is the first
// paragraph when every one is.
func firstParagraph(text string) string {
	paras := strings.Split(text, "\n\n")
	for _, p := range paras {
		if t := strings.TrimSpace(p); t != "" && t[0] != '#' && t[0] != '>' {
			return strings.Trim(p, "\n")
		}
	}
	return paras[0]
}

// tableCommands is how many session commands the table lists; JSON has
// every one the scan kept.
const tableCommands = 20

// commands lists the programs run in the finding's container session.
func (p *tablePrinter) commands(f *triage.Finding) {
	label := "commands"
	day := dayOf(f.Timestamp)
	for i, c := range f.Commands {
		if i == tableCommands {
			break
		}
		at := clock(c.Time)
		if d := dayOf(c.Time); d != "" && d != day {
			at = d + " " + at // a session past midnight: the clock alone would go back
		}
		p.field(label, at+"  "+Clean(triage.Command(commandArgs(c)))+failedText(c))
		label = ""
	}
	listed := int64(len(f.Commands) - min(len(f.Commands), tableCommands))
	switch {
	case f.MoreCommands > 0 && listed > 0:
		p.field(label, fmt.Sprintf("... %d more (%d of them in --format json; every one: k8sexec search on the session's entry leader)", listed+f.MoreCommands, listed))
	case f.MoreCommands > 0:
		p.field(label, fmt.Sprintf("... %d more (every one: k8sexec search on the session's entry leader)", f.MoreCommands))
	case listed > 0:
		p.field(label, fmt.Sprintf("... %d more (every one: --format json, or k8sexec search on the session's entry leader)", listed))
	}
}

func commandArgs(c triage.SessionCommand) []string {
	if len(c.Args) > 0 {
		return c.Args
	}
	return []string{c.Executable}
}

// dayOf is a log time's date (UTC), or "" if it is not RFC 3339.
func dayOf(ts string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// clock renders a log time as hh:mm:ss.mmm (UTC), or as written if it is
// not RFC 3339.
func clock(ts string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Clean(ts)
	}
	return t.UTC().Format("15:04:05.000")
}

// lookup finds a finding the report names: one shown, or one left out,
// with why it is not shown; nil when the report has neither.
func (p *tablePrinter) lookup(id string) (f *triage.Finding, whyNotShown string) {
	if f := p.byID[id]; f != nil {
		return f, ""
	}
	h := p.hidden[id]
	return h.Finding, h.Why
}

// byTime orders the IDs of related findings by the time of each (then by
// ID), as the story goes; an ID the report cannot resolve goes last.
func (p *tablePrinter) byTime(ids []string) []string {
	out := slices.Clone(ids)
	at := func(id string) (time.Time, bool) {
		o, _ := p.lookup(id)
		if o == nil {
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, o.Timestamp)
		return t, err == nil
	}
	slices.SortStableFunc(out, func(a, b string) int {
		ta, oka := at(a)
		tb, okb := at(b)
		switch {
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		case oka && !ta.Equal(tb):
			return ta.Compare(tb)
		}
		return strings.Compare(a, b)
	})
	return out
}

// relatesProcess reports whether the finding is linked to a process
// finding (which then describes the started process).
func (p *tablePrinter) relatesProcess(f *triage.Finding) bool {
	for _, id := range f.Related {
		if o, _ := p.lookup(id); o != nil && o.Kind == triage.KindProcess {
			return true
		}
	}
	return false
}

func startedText(pr *triage.Process) string {
	out := processSummary(pr)
	if pr.Time != "" {
		out += "  at " + Clean(pr.Time)
	}
	if end := endText(pr.Time, pr); end != "" {
		out += "  ended " + end
	}
	return out
}

// failedText marks a session command that exited with a code other
// than 0: "  (exit 1)", "" otherwise.
func failedText(c triage.SessionCommand) string {
	if c.ExitCode == nil || *c.ExitCode == 0 {
		return ""
	}
	return "  (exit " + strconv.FormatInt(*c.ExitCode, 10) + ")"
}

// endText says when a session's first process ended, how long after
// start, and its exit code: "" when its end is not in the logs (an end
// event without a date still has its code).
func endText(start string, pr *triage.Process) string {
	if pr.End == "" && pr.ExitCode == nil {
		return ""
	}
	out := Clean(cmp.Or(pr.End, "at an unknown time"))
	if lasted, ok := triage.Lasted(start, pr.End); ok {
		out += "  after " + triage.FormatDuration(lasted)
	}
	if pr.ExitCode != nil {
		out += "  exit " + strconv.FormatInt(*pr.ExitCode, 10)
	}
	return out
}

// processSummary is a process's command, pid and whether it had a
// terminal.
func processSummary(pr *triage.Process) string {
	out := Clean(triage.Command(pr.Args))
	if out == "" || out == "''" {
		out = Clean(pr.Executable)
	}
	if pr.PID != 0 {
		out += "  pid " + strconv.FormatInt(pr.PID, 10)
	}
	if pr.Interactive != nil && *pr.Interactive {
		out += "  [interactive]"
	}
	return out
}

// describe names another finding in a few words: who exec'd for a
// request, which process for a process finding.
func (p *tablePrinter) describe(id string) string {
	o, why := p.lookup(id)
	label := "finding " + id
	switch {
	case o == nil:
		return id
	case why != "":
		label += ", not shown: " + Clean(why)
	}
	switch o.Kind {
	case triage.KindAudit:
		what := Clean(action(o))
		if o.Audit != nil && o.Audit.Subresource == "ephemeralcontainers" {
			what = "ephemeral container"
		}
		who := what + " request"
		if o.User != nil && o.User.Name != "" {
			who = what + " by " + Clean(o.User.Name)
			if imp := o.User.Impersonated; imp != nil && imp.Name != "" {
				who += " as " + Clean(imp.Name)
			}
		}
		if o.Source != nil && len(o.Source.IP) > 0 {
			who += " from " + Clean(o.Source.IP[0])
		}
		if o.Process != nil && len(o.Process.Args) > 0 {
			who += ": " + Clean(triage.Command(o.Process.Args))
		}
		return who + " at " + Clean(o.Timestamp) + " (" + label + ")"
	case triage.KindProcess:
		what := "process"
		if o.Process != nil {
			if o.Process.Interactive != nil && *o.Process.Interactive {
				what = "interactive "
			} else {
				what = ""
			}
			what += Clean(o.Process.Executable)
			if o.Process.PID != 0 {
				what += " pid " + strconv.FormatInt(o.Process.PID, 10)
			}
		}
		out := what + " started at " + Clean(o.Timestamp)
		if p := o.Process; p != nil && p.EntryLeaderID != "" && p.EntryLeaderID != p.EntityID {
			// A command run in the session: say what the rule saw in it.
			out += ", " + Clean(o.Rule.Name)
		}
		return out + " (" + label + ")"
	}
	return id
}

func where(f *triage.Finding) string {
	var parts []string
	if o := f.Orch; o != nil {
		loc := Clean(o.Namespace)
		if o.Resource != nil && o.Resource.Name != "" {
			if loc != "" {
				loc += "/"
			}
			loc += Clean(o.Resource.Name)
		}
		if loc != "" {
			parts = append(parts, loc)
		}
	}
	if c := f.Container; c != nil {
		switch {
		case c.Name != "":
			parts = append(parts, "container "+Clean(c.Name))
		case c.ID != "":
			parts = append(parts, "container "+Clean(shortID(c.ID)))
		}
		if c.Image != "" {
			parts = append(parts, "image "+Clean(c.Image))
		}
	}
	if f.Host != nil {
		parts = append(parts, "node "+Clean(f.Host.Name))
	}
	if f.Orch != nil && f.Orch.Cluster != nil {
		parts = append(parts, "cluster "+Clean(f.Orch.Cluster.Name))
	}
	return strings.Join(parts, "  ")
}

func what(f *triage.Finding) string {
	var out []string
	if f.Kind == triage.KindAudit && f.Process == nil && !triage.Streams(f) {
		// A request about an object: what it did to it.
		out = append(out, Clean(action(f)))
	}
	if pr := f.Process; pr != nil {
		switch {
		case f.Kind == triage.KindAudit:
			out = append(out, Clean(triage.Cut(triage.Command(pr.Args), triage.MaxCommandText)))
		default:
			exe := pr.Executable
			if exe == "" {
				exe = pr.Name
			}
			if exe != "" {
				out = append(out, Clean(exe))
			}
			// Show argv unless it only repeats the program's name.
			if cmd := triage.Command(pr.Args); len(pr.Args) > 0 && cmd != exe && cmd != pr.Name && cmd != path.Base(exe) {
				out = append(out, "args: "+Clean(triage.Cut(cmd, triage.MaxCommandText)))
			}
			if pr.PID != 0 {
				out = append(out, "pid "+strconv.FormatInt(pr.PID, 10))
			}
			if pr.Interactive != nil && *pr.Interactive {
				out = append(out, "[interactive]")
			}
		}
	}
	if e := f.Exec; e != nil {
		var flags []string
		for _, fl := range []struct {
			on   bool
			name string
		}{{e.TTY, "tty"}, {e.Stdin, "stdin"}, {e.Stdout, "stdout"}, {e.Stderr, "stderr"}} {
			if fl.on {
				flags = append(flags, fl.name)
			}
		}
		if len(flags) > 0 {
			out = append(out, "["+strings.Join(flags, " ")+"]")
		}
		if e.TTY && e.Stdin {
			out = append(out, "interactive")
		}
	}
	return strings.Join(out, "  ")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// tableEvidence is how many evidence or context places the table lists
// for one finding; JSON has every one the scan kept (a log that repeats a
// request keeps a hundred or more).
const tableEvidence = 20

// listedEvidence is evidenceText of the first tableEvidence places, and
// how many more there are.
func listedEvidence(evs []triage.Evidence) string {
	if len(evs) <= tableEvidence {
		return evidenceText(evs)
	}
	return fmt.Sprintf("%s ... %d more (--format json)", evidenceText(evs[:tableEvidence]), len(evs)-tableEvidence)
}

// evidenceText renders locations compactly: "a.log:3,7 b.log:12".
func evidenceText(evs []triage.Evidence) string {
	var parts []string
	for i := 0; i < len(evs); {
		j := i
		var lines []string
		for j < len(evs) && evs[j].File == evs[i].File {
			l := strconv.FormatInt(evs[j].Line, 10)
			if evs[j].Index > 0 {
				l += "#" + strconv.Itoa(evs[j].Index)
			}
			switch {
			case evs[j].Note != "":
				l += " (" + evs[j].Note + ")"
			case evs[j].Stage != "":
				l += " (" + evs[j].Stage + ")"
			}
			lines = append(lines, l)
			j++
		}
		parts = append(parts, Clean(evs[i].File)+":"+Clean(strings.Join(lines, ", ")))
		i = j
	}
	return strings.Join(parts, "  ")
}

// listEveryRule is the most rules the summary lists one by one; above it
// (a whole folder of published rules runs nearly a hundred), the rules
// without a finding share one line.
const listEveryRule = 10

func (p *tablePrinter) summary(r *Result) {
	s := r.Summary
	t := s.Totals
	p.line(p.paint(color.Bold, "Summary"))
	var compressed, utf16 int
	for _, in := range s.Inputs {
		if in.Compression != "" {
			compressed++
		}
		if in.Encoding != "" {
			utf16++
		}
	}
	inputs := plural(t.Inputs, "input")
	switch {
	case compressed > 0 && utf16 > 0:
		inputs += fmt.Sprintf(" (%d compressed, %d decoded from UTF-16)", compressed, utf16)
	case compressed > 0:
		inputs += fmt.Sprintf(" (%d compressed)", compressed)
	case utf16 > 0:
		inputs += fmt.Sprintf(" (%d decoded from UTF-16)", utf16)
	}
	inputs += ", " + HumanBytes(t.Bytes) + " scanned"
	if t.RawBytes != t.Bytes {
		inputs += " (" + HumanBytes(t.RawBytes) + " read)"
	}
	p.field("inputs", inputs)
	p.readAs(s.Inputs)
	lines := fmt.Sprintf("%s, %s", plural64(t.Lines, "line"), plural64(t.Events, "event"))
	if t.Malformed > 0 {
		lines += ", " + p.paint(color.FgYellow, plural64(t.Malformed, "malformed line"))
	}
	if t.Overlong > 0 {
		lines += ", " + p.paint(color.FgYellow, plural64(t.Overlong, "overlong line")+" skipped")
	}
	if t.Blank > 0 {
		lines += fmt.Sprintf(", %d blank", t.Blank)
	}
	p.field("lines", lines)

	findings := plural(t.Findings, "finding")
	if len(s.BySeverity) > 0 {
		var parts []string
		for _, sc := range s.BySeverity {
			parts = append(parts, fmt.Sprintf("%d %s", sc.Count, sc.Severity))
		}
		findings += ": " + strings.Join(parts, ", ")
	}
	p.field("findings", findings)
	quiet := 0 // rules with no finding, which share a line when many ran
	for _, rc := range s.ByRule {
		if rc.Count == 0 {
			quiet++
		}
	}
	collapse := len(s.ByRule) > listEveryRule && quiet > 1
	for _, rc := range s.ByRule {
		if rc.Count > 0 || !collapse {
			p.line(fmt.Sprintf("  %-9s %4d  %-8s %s", "", rc.Count, rc.Severity, Clean(rc.Name)))
		}
	}
	if collapse {
		p.line(fmt.Sprintf("  %-9s %4d  in each of the other %d rules (--format json lists them)", "", 0, quiet))
	}
	// After the rows, which count the findings shown.
	if hidden := NotShown(s); hidden != "" {
		p.field("not shown", hidden)
	}
	p.field("unused", Clean(IdleExceptions(s)))
	for _, n := range r.Notes {
		p.field("note", Clean(n))
	}
	for _, rr := range s.RulesReplaced {
		p.field("rules", "replaced "+Clean(rr))
	}
	if len(s.RulesSkipped) > 0 {
		p.field("rules", fmt.Sprintf("%d skipped (see stderr or k8sexec rules check)", len(s.RulesSkipped)))
	}
	for _, in := range s.Inputs {
		if in.Error != "" {
			p.field("incomplete", p.paint(color.FgRed, Clean(in.Error)))
		} else if w := InputWarning(in, s.Interrupted); w != "" {
			p.field("warning", Clean(w))
		}
	}
	if len(s.Problems) > 0 {
		first := s.Problems[0]
		p.field("malformed", Clean(fmt.Sprintf("first at %s: %s (more on stderr and in --format json)", first.Place(), first.Reason)))
	}
	if s.Interrupted {
		p.field("stopped", p.paint(color.FgRed, "interrupted: the report covers only what was read before"))
	}
}

// maxInputsListed is how many inputs the summary describes one by one;
// past that it adds them up by shape.
const maxInputsListed = 8

// readAs says how each input was understood: the shapes of its events,
// whole-file JSON, envelopes, skipped records.
func (p *tablePrinter) readAs(inputs []InputSummary) {
	var read []InputSummary
	for _, in := range inputs {
		if in.Error == "" || in.Lines > 0 {
			read = append(read, in)
		}
	}
	if len(read) == 0 {
		return
	}
	label := "read as"
	if len(read) <= maxInputsListed {
		for _, in := range read {
			p.field(label, Clean(in.Name)+": "+describeInput(in))
			label = ""
		}
		return
	}
	total := InputSummary{Shapes: map[string]int64{}, SkipReasons: map[string]int64{}}
	for _, in := range read {
		for k, v := range in.Shapes {
			total.Shapes[k] += v
		}
		for k, v := range in.SkipReasons {
			total.SkipReasons[k] += v
		}
		total.add(in.Counts)
	}
	p.field(label, fmt.Sprintf("%s over %d inputs (per input: --format json)", describeInput(total), len(read)))
}

// describeInput renders an input's shapes, most events first.
func describeInput(in InputSummary) string {
	type count struct {
		shape string
		n     int64
	}
	var counts []count
	for k, v := range in.Shapes {
		if k != "unparsed" && v > 0 {
			counts = append(counts, count{k, v})
		}
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].n != counts[j].n {
			return counts[i].n > counts[j].n
		}
		return counts[i].shape < counts[j].shape
	})
	var parts []string
	for _, c := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", c.shape, c.n))
	}
	if n := in.Shapes["unparsed"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d more not parsed (no rule literal in them)", n))
	}
	if len(parts) == 0 {
		parts = append(parts, "no events")
	}
	out := strings.Join(parts, ", ")
	switch in.Layout {
	case "json":
		out += " (whole-file JSON)"
	case "csv":
		out += " (CSV export)"
	case "cri":
		out += " (CRI container log)"
	case "docker":
		out += " (Docker container log)"
	}
	if wrappers := in.Envelopes - in.Joined; wrappers > 0 {
		out += fmt.Sprintf(" in %s", plural64(wrappers, "envelope"))
	}
	if in.Joined > 0 {
		out += fmt.Sprintf("; %s held several JSON values one after another", plural64(in.Joined, "line"))
	}
	if in.Skipped > 0 {
		var reasons []string
		for k, v := range in.SkipReasons {
			reasons = append(reasons, fmt.Sprintf("%d %s", v, k))
		}
		sort.Strings(reasons)
		out += fmt.Sprintf("; %d skipped (%s)", in.Skipped, strings.Join(reasons, ", "))
	}
	return out
}

// InputWarning says what is odd about an input that was read without an
// error, or "": it was empty (a pipe fed nothing, a path given by a script
// that wrote nothing, a gzip of nothing), held no JSON, or held JSON no
// rule can read.
func InputWarning(in InputSummary, interrupted bool) string {
	switch {
	case in.Error != "":
		return ""
	case in.Lines == 0 && in.RawBytes == 0 && !interrupted:
		if in.Name == "-" {
			return "standard input was empty: nothing was scanned"
		}
		return in.Name + ": empty: nothing was scanned"
	case in.Lines == 0 && in.Bytes == 0 && (in.Compression != "" || in.Encoding != "") && !interrupted:
		// A gzip of nothing, or a byte order mark alone (PowerShell's
		// output of nothing).
		what := "an empty " + in.Compression + " stream"
		if in.Compression == "" {
			what = "a " + in.Encoding + " byte order mark and nothing else"
		}
		if in.Name == "-" {
			return "standard input was " + what + ": nothing was scanned"
		}
		return in.Name + ": " + what + ": nothing was scanned"
	case in.Events == 0 && in.Lines > 0:
		return in.Name + ": no JSON events found"
	case unrecognised(in):
		return in.Name + ": its events are JSON of no shape k8sexec knows (no audit or ECS fields); no rule looks at them"
	}
	return ""
}

// unrecognised reports an input whose parsed events are all of no known
// shape.
func unrecognised(in InputSummary) bool {
	known := int64(0)
	for k, v := range in.Shapes {
		if k != "unparsed" && k != "unrecognised" {
			known += v
		}
	}
	return known == 0 && in.Shapes["unrecognised"] > 0
}

func plural(n int, word string) string { return plural64(int64(n), word) }

func plural64(n int64, word string) string {
	s := strconv.FormatInt(n, 10) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}

// HumanBytes renders a size in B, KiB, MiB or GiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

// Clean makes text from a log safe to print: what a terminal would act on
// rather than print, or would not show at all (triage.TerminalUnsafe: C0
// and C1 controls, DEL, bidirectional and zero-width characters), is shown
// as <U+XXXX>, so that "alice\u200b" cannot pass for "alice"; tabs and
// line breaks become spaces. Invalid UTF-8 becomes U+FFFD.
func Clean(s string) string {
	// Most text is printable ASCII, which needs no decoding to be safe.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	clean := utf8.ValidString(s)
	for _, r := range s {
		if isUnsafe(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case isUnsafe(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// NotShown says how many findings each of the report's filters left out
// ("1 suppressed by exceptions, 4 outside --since/--until"), or "".
func NotShown(s Summary) string {
	var hidden []string
	for _, h := range []struct {
		n    int
		what string
	}{{s.Suppressed, "suppressed by exceptions"}, {s.Baselined, "in the baseline"}, {s.BelowMinSeverity, "below --min-severity (they still count for --fail-on)"}, {s.OutsideWindow, "outside --since/--until"}} {
		if h.n > 0 {
			hidden = append(hidden, fmt.Sprintf("%d %s", h.n, h.what))
		}
	}
	return strings.Join(hidden, ", ")
}

// isUnsafe: a character Clean shows as <U+XXXX> (triage.TerminalUnsafe),
// except the replacement character, which is what invalid UTF-8 becomes.
func isUnsafe(r rune) bool { return r != unicode.ReplacementChar && triage.TerminalUnsafe(r) }
