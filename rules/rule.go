package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Rule is a loaded, compiled detection rule.
type Rule struct {
	ID          string
	Name        string
	Description string
	Severity    string // low, medium, high, critical
	RiskScore   int
	Language    string // kuery or eql
	Type        string // query or eql
	Query       string
	Tags        []string
	// Index holds the rule's index patterns: a document that names its
	// data stream matches only when the stream is among them (indexScope).
	Index      []string
	Threat     []Threat
	References []string
	Author     []string
	// Maturity is the file's metadata maturity in Elastic's repository:
	// "production", "development" or "deprecated" (empty when unset).
	Maturity string
	// NameFrom, when set (rule_name_override), is the field whose value
	// names each finding instead of Name, as Elastic names the alert:
	// a rule that promotes another product's alerts takes their titles.
	NameFrom *Field

	// Note is the investigation guide. When NoteTemplate is set it is a
	// text/template filled with each finding's values (k8sexec's own
	// guides); otherwise it is shown as written.
	Note         string
	NoteTemplate bool

	// Complements is the rule_id of the rule whose known gap this rule
	// fills (k8sexec's WebSocket rule fills the seed exec rule's). When
	// the rule of that ID, whichever version a scan runs, also finds what
	// this rule found, that finding stands alone: each thing is reported
	// once.
	Complements string

	// Origin says whose detection logic this is: "elastic" for Elastic's
	// rules (including the built-in seed rules), "k8sexec" for ours, or
	// "user" for any other file.
	Origin string
	// Source is where the rule was loaded from: "builtin:<file>" or a path.
	Source string

	Expr    Expr
	Matcher Matcher
	// NewTerms is set for a new_terms rule: its Matcher is the rule's
	// query, and a scan reports only the matches whose values NewTerms
	// finds new (TermsHistory).
	NewTerms *NewTerms
}

// Threat is one ATT&CK mapping of a rule.
type Threat struct {
	Framework  string
	Tactic     ThreatRef
	Techniques []Technique
}

// Technique is an ATT&CK technique with its sub-techniques.
type Technique struct {
	ThreatRef
	Subtechniques []ThreatRef
}

// ThreatRef names an ATT&CK tactic, technique or sub-technique.
type ThreatRef struct {
	ID        string `toml:"id"`
	Name      string `toml:"name"`
	Reference string `toml:"reference"`
}

// Builtin reports whether the rule ships inside the binary.
func (r *Rule) Builtin() bool { return strings.HasPrefix(r.Source, "builtin:") }

// AttackIDs returns the rule's ATT&CK tactic, technique and sub-technique
// IDs in file order, without duplicates.
func (r *Rule) AttackIDs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, t := range r.Threat {
		add(t.Tactic.ID)
		for _, tech := range t.Techniques {
			add(tech.ID)
			for _, sub := range tech.Subtechniques {
				add(sub.ID)
			}
		}
	}
	return out
}

// Matches reports whether the rule matches doc.
func (r *Rule) Matches(doc Document) bool { return r.Matcher.Match(doc) }

// SeverityRank orders severities: low 1, medium 2, high 3, critical 4, and 0
// for anything else.
func SeverityRank(severity string) int {
	switch strings.ToLower(severity) {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 0
}

// defaultRiskScore is the risk score Kibana's rule editor suggests for
// each severity.
var defaultRiskScore = map[string]int{"low": 21, "medium": 47, "high": 73, "critical": 99}

// ruleFile mirrors the parts of Elastic's detection-rules TOML layout that
// k8sexec reads, plus an optional [k8sexec] table for our own extensions.
type ruleFile struct {
	Metadata map[string]any `toml:"metadata"`
	Rule     struct {
		RuleID      string   `toml:"rule_id"`
		Name        string   `toml:"name"`
		Description string   `toml:"description"`
		Severity    string   `toml:"severity"`
		RiskScore   *int     `toml:"risk_score"`
		Language    string   `toml:"language"`
		Type        string   `toml:"type"`
		Query       string   `toml:"query"`
		Note        string   `toml:"note"`
		Tags        []string `toml:"tags"`
		Index       []string `toml:"index"`
		NameFrom    string   `toml:"rule_name_override"`
		References  []string `toml:"references"`
		Author      []string `toml:"author"`
		Threat      []struct {
			Framework string    `toml:"framework"`
			Tactic    ThreatRef `toml:"tactic"`
			Technique []struct {
				ThreatRef
				Subtechnique []ThreatRef `toml:"subtechnique"`
			} `toml:"technique"`
		} `toml:"threat"`
		NewTerms newTermsSpec `toml:"new_terms"`
	} `toml:"rule"`
	K8sexec struct {
		// NoteFormat "template" marks a note written for k8sexec, with
		// placeholders filled from each finding.
		NoteFormat string `toml:"note_format"`
		// Origin overrides the origin derived from the author list.
		Origin string `toml:"origin"`
		// Complements names the rule whose gap this rule fills.
		Complements string `toml:"complements"`
	} `toml:"k8sexec"`
}

// Parse decodes and compiles one rule file. source names it in messages and
// in findings. An *UnsupportedError means the file is a valid rule that
// k8sexec cannot run offline.
func Parse(data []byte, source string) (*Rule, error) {
	var f ruleFile
	if err := CheckTOMLNesting(data); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	meta, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	// Elastic's tables hold many keys k8sexec has no use for; ours are
	// checked, as exceptions files are: a misspelt key would be ignored.
	for _, k := range meta.Undecoded() {
		if len(k) > 1 && k[0] == "k8sexec" {
			return nil, fmt.Errorf("%s: unknown key %s in [k8sexec] (note_format, origin, complements)", source, strings.Join(k[1:], "."))
		}
	}
	if nf := f.K8sexec.NoteFormat; nf != "" && nf != "template" {
		return nil, fmt.Errorf("%s: [k8sexec] note_format %q: the one format is \"template\" (leave it out for a note as written)", source, nf)
	}
	switch f.K8sexec.Origin {
	case "", "elastic", "k8sexec", "user":
	default:
		return nil, fmt.Errorf("%s: [k8sexec] origin %q: it must be \"elastic\", \"k8sexec\" or \"user\"", source, f.K8sexec.Origin)
	}
	spec := f.Rule
	r := &Rule{
		ID:           strings.TrimSpace(spec.RuleID),
		Name:         strings.TrimSpace(spec.Name),
		Description:  strings.TrimSpace(spec.Description),
		Severity:     strings.ToLower(strings.TrimSpace(spec.Severity)),
		Language:     spec.Language,
		Type:         spec.Type,
		Query:        strings.TrimSpace(spec.Query),
		Note:         strings.TrimSpace(spec.Note),
		NoteTemplate: f.K8sexec.NoteFormat == "template",
		Tags:         spec.Tags,
		Index:        spec.Index,
		References:   spec.References,
		Author:       spec.Author,
		Source:       source,
	}
	if m, ok := f.Metadata["maturity"].(string); ok {
		r.Maturity = strings.ToLower(strings.TrimSpace(m))
	}
	if f := strings.TrimSpace(spec.NameFrom); f != "" {
		r.NameFrom = NewField(f)
	}
	for _, t := range spec.Threat {
		th := Threat{Framework: t.Framework, Tactic: t.Tactic}
		for _, tech := range t.Technique {
			th.Techniques = append(th.Techniques, Technique{ThreatRef: tech.ThreatRef, Subtechniques: tech.Subtechnique})
		}
		r.Threat = append(r.Threat, th)
	}
	r.Origin = f.K8sexec.Origin
	r.Complements = strings.TrimSpace(f.K8sexec.Complements)
	if r.Origin == "" {
		r.Origin = "user"
		for _, a := range r.Author {
			if strings.EqualFold(a, "Elastic") {
				r.Origin = "elastic"
			}
		}
	}

	switch {
	case r.ID == "":
		return nil, fmt.Errorf("%s: rule has no rule_id", source)
	case r.Name == "":
		return nil, fmt.Errorf("%s: rule %s has no name", source, r.ID)
	case r.Query == "" && (r.Type == "machine_learning" || r.Type == "saved_query"):
		// A machine learning job's anomalies, or a query saved in
		// Kibana (saved_id): a valid rule that cannot run offline.
		return nil, &loadError{source: source, rule: r, err: unsupported("%s rule without a query of its own", r.Type)}
	case r.Query == "":
		return nil, fmt.Errorf("%s: rule %s (type %q) has no query", source, r.ID, r.Type)
	case strings.TrimSpace(spec.Severity) == "":
		return nil, fmt.Errorf("%s: rule %s has no severity (low, medium, high or critical)", source, r.ID)
	case SeverityRank(r.Severity) == 0:
		return nil, fmt.Errorf("%s: rule %s has unknown severity %q (low, medium, high or critical)", source, r.ID, spec.Severity)
	case spec.RiskScore != nil && (*spec.RiskScore < 0 || *spec.RiskScore > 100):
		return nil, fmt.Errorf("%s: rule %s has risk_score %d; it must be from 0 to 100", source, r.ID, *spec.RiskScore)
	}
	// Reports rank and scale by the risk score (SARIF's security-severity
	// is risk_score / 10): a rule without one takes the score Kibana
	// suggests for its severity, not 0.
	r.RiskScore = defaultRiskScore[r.Severity]
	if spec.RiskScore != nil {
		r.RiskScore = *spec.RiskScore
	}
	if r.Language == "" {
		// Kibana's default for a rule created without one.
		r.Language = "kuery"
		if r.Type == "eql" {
			r.Language = "eql"
		}
	}

	switch {
	case r.Type == "threshold", r.Type == "machine_learning", r.Type == "threat_match", r.Type == "esql" || r.Language == "esql":
		err = unsupported("%s rule", r.Type)
	case r.Language == "kuery":
		r.Expr, err = ParseKQL(r.Query)
	case r.Language == "eql":
		r.Expr, err = ParseEQL(r.Query)
	case r.Language == "lucene":
		err = unsupported("Lucene query syntax")
	default:
		// A typo, not a rule k8sexec cannot run.
		return nil, fmt.Errorf("%s: rule %s has unknown query language %q (kuery, eql, lucene or esql)", source, r.ID, r.Language)
	}
	if err == nil && r.Type == "new_terms" {
		r.NewTerms, err = parseNewTerms(spec.NewTerms)
	}
	if err == nil {
		r.Matcher, err = Compile(r.Expr)
	}
	if err == nil {
		r.Matcher = scoped(r.Matcher, r.Index)
	}
	if err != nil {
		le := &loadError{source: source, rule: r, err: err}
		var se *SyntaxError
		if errors.As(err, &se) {
			se.locate(r.Query)
			// A query in a literal string is in the file as it is: name
			// the file's line too.
			if at := bytes.Index(data, []byte(r.Query)); at >= 0 && se.Offset <= len(r.Query) {
				le.line = bytes.Count(data[:at+se.Offset], []byte("\n")) + 1
			}
		}
		return nil, le
	}
	return r, nil
}

// loadError ties a failure to the rule it happened in, so callers can name
// the rule (ID and name) when they skip it.
type loadError struct {
	source string
	rule   *Rule
	err    error
	line   int // the file's line of a syntax error, when known
}

func (e *loadError) Error() string {
	source := e.source
	if e.line > 0 {
		source += ":" + strconv.Itoa(e.line)
	}
	return fmt.Sprintf("%s: rule %s (%s): %v", source, e.rule.ID, e.rule.Name, e.err)
}

func (e *loadError) Unwrap() error { return e.err }

// LoadResult is the outcome of loading one rule file.
type LoadResult struct {
	Path string
	Rule *Rule // nil when Err is set
	Err  error
}

// Skipped reports whether the file is a rule k8sexec does not run: one it
// cannot run offline, or a deprecated rule in a folder (as opposed to a
// broken file).
func (r LoadResult) Skipped() bool {
	return r.Err != nil && (IsUnsupported(r.Err) || errors.Is(r.Err, errDeprecated))
}

// errDeprecated skips a rule of metadata maturity "deprecated" found in a
// folder. Elastic keeps retired rules in its repository (rules/_deprecated)
// but does not ship them, and each has a successor, so loading the
// repository's rules folder would run both and report the same activity
// twice. A deprecated rule file named on its own still loads.
var errDeprecated = errors.New(`deprecated rule (metadata maturity "deprecated"): Elastic no longer ships it; give its file itself to --rules to run it`)

// RuleID is the rule_id of the file's rule, loaded or skipped, or "" when
// the file is too broken to say.
func (r LoadResult) RuleID() string {
	if r.Rule != nil {
		return r.Rule.ID
	}
	var le *loadError
	if errors.As(r.Err, &le) {
		return le.rule.ID
	}
	return ""
}

// Reason is the one-line reason a rule was skipped or failed.
func (r LoadResult) Reason() string {
	var u *UnsupportedError
	if errors.As(r.Err, &u) {
		return u.Reason
	}
	if errors.Is(r.Err, errDeprecated) {
		return errDeprecated.Error()
	}
	if r.Err != nil {
		return r.Err.Error()
	}
	return ""
}

// ErrNoRuleFiles is the error for a folder without rule files.
var ErrNoRuleFiles = errors.New("no .toml rule files found")

// A Loader loads the rule paths of one command, each file once however
// many of the paths reach it (--rules rules/ --rules
// rules/integrations/kubernetes). A file named on its own is loaded where
// it is named, not as part of a folder also named: a folder skips its
// deprecated rules, a file named does not.
type Loader struct {
	seen  map[string]bool
	named map[string]bool // the files among the paths
}

// NewLoader prepares to load paths.
func NewLoader(paths []string) *Loader {
	l := &Loader{seen: map[string]bool{}, named: map[string]bool{}}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			l.named[fileKey(p)] = true
		}
	}
	return l
}

// Load is LoadPath, less the files already loaded and those named on
// their own elsewhere; a folder without rule files is ErrNoRuleFiles.
func (l *Loader) Load(path string) ([]LoadResult, error) {
	results, err := LoadPath(path)
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, ErrNoRuleFiles
	}
	whole := fileKey(path)
	kept := results[:0]
	for _, r := range results {
		key := fileKey(r.Path)
		if l.seen[key] || key != whole && l.named[key] {
			continue
		}
		l.seen[key] = true
		kept = append(kept, r)
	}
	return kept, nil
}

// fileKey identifies a file however it is named: its real absolute path.
func fileKey(path string) string {
	key := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		key = real
	}
	if abs, err := filepath.Abs(key); err == nil {
		key = abs
	}
	return key
}

// LoadPath loads a rule file, or every *.toml file under a folder in lexical
// order, skipping the folder's deprecated rules (errDeprecated). Each file
// gets a LoadResult; only an unreadable path is an error.
func LoadPath(path string) ([]LoadResult, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var files []string
	if !info.IsDir() {
		files = []string{path}
	} else {
		// A folder named through a symlink is walked where it is, and
		// its files keep the name they were reached by.
		root := path
		if real, err := filepath.EvalSymlinks(path); err == nil {
			root = real
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".toml") {
				if rel, err := filepath.Rel(root, p); err == nil {
					p = filepath.Join(path, rel)
				}
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
	}
	var out []LoadResult
	for _, f := range files {
		data, err := ReadLimited(f, MaxRuleFile)
		if err != nil {
			out = append(out, LoadResult{Path: f, Err: err})
			continue
		}
		r, err := Parse(data, f)
		if err == nil && info.IsDir() && r.Maturity == "deprecated" {
			r, err = nil, &loadError{source: f, rule: r, err: errDeprecated}
		}
		out = append(out, LoadResult{Path: f, Rule: r, Err: err})
	}
	return out, nil
}
