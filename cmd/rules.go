package cmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/k8sexec/k8sexec/report"
	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/triage"
	"github.com/spf13/cobra"
)

// ruleFlags select the rules a command runs.
type ruleFlags struct {
	paths   []string
	only    []string
	disable []string
	// read lists every rule file the last load read, whether its rule
	// runs, was skipped or was left out by --only-rule or --disable-rule.
	read []string
}

func (f *ruleFlags) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.paths, "rules", nil, "load more rules from a TOML file or folder (repeatable)")
	c.Flags().StringArrayVar(&f.only, "only-rule", nil, "run only the rule with this rule_id (repeatable)")
	c.Flags().StringArrayVar(&f.disable, "disable-rule", nil, "do not run the rule with this rule_id (repeatable)")
}

// loadRules builds the rule set: built-ins, then files, then the
// --only-rule and --disable-rule filters. Rules that cannot run offline are
// skipped and reported on warn; a broken rule file or an unknown rule_id is
// an error.
func (f *ruleFlags) load(warn io.Writer) (*rules.Set, []string, error) {
	set, skipped, _, err := f.loadSkips(warn)
	return set, skipped, err
}

// loadSkips is load, also returning why each skipped rule_id was skipped
// ("path: reason"), for the commands that name a rule.
func (f *ruleFlags) loadSkips(warn io.Writer) (*rules.Set, []string, map[string]string, error) {
	builtin, err := rules.Builtin()
	if err != nil {
		return nil, nil, nil, err
	}
	var loaded []*rules.Rule
	var skipped []string
	skippedIDs := map[string]string{}
	files := rules.NewLoader(f.paths)
	for _, p := range f.paths {
		results, err := files.Load(p)
		if err != nil {
			return nil, nil, nil, usageError("--rules %s: %v", p, err)
		}
		for _, r := range results {
			f.read = append(f.read, r.Path)
			switch {
			case r.Err == nil:
				loaded = append(loaded, r.Rule)
			case r.Skipped():
				msg := fmt.Sprintf("%s: %s", r.Path, r.Reason())
				skipped = append(skipped, msg)
				if id := r.RuleID(); id != "" {
					skippedIDs[id] = msg
				}
				if warn != nil {
					fmt.Fprintln(warn, "k8sexec: rule skipped: "+report.Clean(msg))
				}
			default:
				return nil, nil, nil, usageError("rule file %v", r.Err)
			}
		}
	}
	set, err := rules.NewSet(builtin, loaded)
	if err != nil {
		return nil, nil, nil, usageError("%v", err)
	}
	for _, id := range f.only {
		if set.ByID(id) == nil {
			return nil, nil, nil, unknownRule(id, skippedIDs)
		}
	}
	for _, id := range f.disable {
		// Disabling a rule that was skipped asks for what is so: a job
		// that disables a rule keeps working when an update of the rules
		// makes that one unsupported.
		if why, skipped := skippedIDs[id]; skipped && set.ByID(id) == nil {
			if warn != nil {
				fmt.Fprintf(warn, "k8sexec: warning: --disable-rule %s: that rule was skipped, so it does not run anyway: %s\n", report.Clean(id), report.Clean(why))
			}
		} else if set.ByID(id) == nil {
			return nil, nil, nil, unknownRule(id, skippedIDs)
		}
	}
	if len(f.only) > 0 {
		set.Filter(func(r *rules.Rule) bool { return contains(f.only, r.ID) })
	}
	if len(f.disable) > 0 {
		set.Filter(func(r *rules.Rule) bool { return !contains(f.disable, r.ID) })
	}
	return set, skipped, skippedIDs, nil
}

// unknownRule is the error for a rule_id that no rule of the scan has: one
// that was skipped says why.
func unknownRule(id string, skipped map[string]string) error {
	if why, ok := skipped[id]; ok {
		return usageError("rule_id %q was skipped, so it does not run: %s", id, report.Clean(why))
	}
	return usageError("no rule with rule_id %q (see k8sexec rules list)", id)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func newRulesCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "rules",
		Short: "List, show and check detection rules",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRun,
	}
	c.AddCommand(newRulesListCmd(e), newRulesShowCmd(e), newRulesCheckCmd(e))
	return c
}

func newRulesListCmd(e *env) *cobra.Command {
	var rf ruleFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List the rules a scan would run",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			set, _, err := rf.load(e.stderr)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			// The source, a path as long as the user's, goes last, so the
			// columns before it stay narrow.
			fmt.Fprintln(tw, "RULE ID\tSEVERITY\tRISK\tLANGUAGE\tNAME\tSOURCE")
			for _, r := range set.Rules {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", report.Clean(r.ID), r.Severity, r.RiskScore, report.Clean(r.Language), report.Clean(r.Name), report.Clean(origin(r)))
			}
			for _, rr := range set.Replaced() {
				fmt.Fprintf(e.stderr, "k8sexec: built-in rule %s\n", report.Clean("replaced: "+rr))
			}
			return tw.Flush()
		},
	}
	rf.register(c)
	return c
}

func origin(r *rules.Rule) string {
	switch {
	case r.Builtin() && r.Origin == "k8sexec":
		return "built-in (k8sexec)"
	case r.Builtin():
		return "built-in (" + r.Origin + ")"
	}
	if abs, err := filepath.Abs(r.Source); err == nil {
		if cwd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(cwd, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return rel
			}
		}
	}
	return r.Source
}

func newRulesShowCmd(e *env) *cobra.Command {
	var rf ruleFlags
	c := &cobra.Command{
		Use:   "show RULE_ID",
		Short: "Show a rule: metadata, query, how k8sexec reads it",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			set, _, skipped, err := rf.loadSkips(e.stderr)
			if err != nil {
				return err
			}
			r := set.ByID(args[0])
			switch {
			case r == nil && contains(rf.disable, args[0]):
				return usageError("rule_id %q is left out by --disable-rule", args[0])
			case r == nil && len(rf.only) > 0 && !contains(rf.only, args[0]):
				return usageError("rule_id %q is left out by --only-rule", args[0])
			case r == nil:
				return unknownRule(args[0], skipped)
			}
			w := e.stdout
			fmt.Fprintf(w, "%s\n\n", report.Clean(r.Name))
			fmt.Fprintf(w, "rule_id     %s\n", report.Clean(r.ID))
			fmt.Fprintf(w, "source      %s\n", origin(r))
			fmt.Fprintf(w, "severity    %s (risk %d)\n", r.Severity, r.RiskScore)
			fmt.Fprintf(w, "language    %s\n", r.Language)
			if r.Maturity != "" {
				fmt.Fprintf(w, "maturity    %s\n", report.Clean(r.Maturity))
			}
			if len(r.Index) > 0 {
				fmt.Fprintf(w, "index       %s (documents from other data streams never match)\n", report.Clean(strings.Join(r.Index, ", ")))
			}
			if ids := r.AttackIDs(); len(ids) > 0 {
				fmt.Fprintf(w, "att&ck      %s\n", report.Clean(strings.Join(ids, " ")))
			}
			if len(r.Tags) > 0 {
				fmt.Fprintf(w, "tags        %s\n", report.Clean(strings.Join(r.Tags, ", ")))
			}
			fmt.Fprintf(w, "\n%s\n", report.Clean(r.Description))
			fmt.Fprintf(w, "\nQuery:\n%s\n", indent(r.Query))
			fmt.Fprintf(w, "\nAs k8sexec evaluates it:\n%s\n", indent(r.Expr.String()))
			if r.NewTerms != nil {
				fmt.Fprintf(w, "\nNew terms (new_terms rule): a match is reported only for\n%s\n", indent(report.Clean(r.NewTerms.String())))
			}
			if r.Note != "" {
				kind := "Investigation guide"
				if r.NoteTemplate {
					kind += " (filled in with each finding's values)"
				}
				fmt.Fprintf(w, "\n%s:\n%s\n", kind, indent(r.Note))
			}
			return nil
		},
	}
	rf.register(c)
	return c
}

// indent is cleanLines with each line indented by two spaces.
func indent(s string) string {
	return "  " + strings.ReplaceAll(cleanLines(strings.TrimSpace(s)), "\n", "\n  ")
}

func newRulesCheckCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check PATH...",
		Short: "Check rule files: which load, which are skipped and why",
		Long: `Loads every .toml rule file under each PATH and prints one line per file: "loaded",
"skipped" with the reason k8sexec cannot run it offline, or "error" for a broken file.
Exits 0 when no file is broken, 2 otherwise.`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError("rules check needs at least one PATH")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			builtin, err := rules.Builtin()
			if err != nil {
				return err
			}
			builtins := map[string]bool{}
			for _, r := range builtin {
				builtins[r.ID] = true
			}
			var loadedN, skippedN, brokenN int
			files := rules.NewLoader(args)
			definedIn := map[string]string{} // rule_id -> file, as scan refuses a second
			for _, p := range args {
				results, err := files.Load(p)
				if err != nil {
					fmt.Fprintf(e.stdout, "error    %s: %v\n", report.Clean(p), err)
					brokenN++
					continue
				}
				for _, r := range results {
					switch {
					case r.Err == nil && definedIn[r.Rule.ID] != "":
						brokenN++
						fmt.Fprintf(e.stdout, "error    %s: rule_id %s is also defined in %s (a scan refuses both)\n", report.Clean(r.Path), report.Clean(r.Rule.ID), report.Clean(definedIn[r.Rule.ID]))
					case r.Err == nil:
						loadedN++
						definedIn[r.Rule.ID] = r.Path
						replaces := ""
						if builtins[r.Rule.ID] {
							replaces = "  (replaces the built-in rule of that rule_id)"
						}
						fmt.Fprintf(e.stdout, "loaded   %s  %s  %s%s\n", report.Clean(r.Path), report.Clean(r.Rule.ID), report.Clean(r.Rule.Name), replaces)
						if err := triage.CheckGuide(r.Rule); err != nil {
							fmt.Fprintf(e.stdout, "         its guide template cannot be filled in, so findings show the note as written: %s\n", report.Clean(err.Error()))
						}
					case r.Skipped():
						skippedN++
						fmt.Fprintf(e.stdout, "skipped  %s  %s\n", report.Clean(r.Path), report.Clean(r.Reason()))
					default:
						brokenN++
						fmt.Fprintf(e.stdout, "error    %s\n", report.Clean(r.Err.Error()))
					}
				}
			}
			fmt.Fprintf(e.stdout, "\n%d loaded, %d skipped, %d broken\n", loadedN, skippedN, brokenN)
			if brokenN > 0 {
				return &exitError{code: ExitError}
			}
			return nil
		},
	}
}
