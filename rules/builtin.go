package rules

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"sync"
)

//go:embed builtin/*.toml
var builtinFS embed.FS

// Builtin returns the rules compiled into the binary, sorted by file name.
// A broken built-in rule is a bug in k8sexec, so it is an error here rather
// than a skipped rule.
func Builtin() ([]*Rule, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	// Parsed in parallel: every scan starts with this, and the TOML of the
	// investigation guides is most of a small scan's start-up time.
	out := make([]*Rule, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			data, err := builtinFS.ReadFile(name)
			if err == nil {
				out[i], err = Parse(data, "builtin:"+name[len("builtin/"):])
			}
			if err != nil {
				errs[i] = fmt.Errorf("built-in rule: %w", err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Set is the ordered list of rules a scan evaluates.
type Set struct {
	Rules []*Rule
	// replacements are the built-in rules that a loaded rule with the
	// same rule_id replaced, while the loaded rule is in the set.
	replacements []replacement
}

type replacement struct{ builtin, by *Rule }

func (r replacement) String() string {
	return fmt.Sprintf("%s (%s) by %s", r.by.ID, r.builtin.Name, r.by.Source)
}

// Replaced lists the built-in rules that loaded rules in the set
// replaced, as "<rule_id> (<built-in name>) by <source>".
func (s *Set) Replaced() []string {
	var out []string
	for _, rp := range s.replacements {
		out = append(out, rp.String())
	}
	return out
}

// ReplacedBuiltins returns the built-in rules that loaded rules in the set
// replaced, in Replaced's order.
func (s *Set) ReplacedBuiltins() []*Rule {
	var out []*Rule
	for _, r := range s.replacements {
		out = append(out, r.builtin)
	}
	return out
}

// NewSet combines built-in and loaded rules. A loaded rule whose rule_id
// equals a built-in's takes the built-in's place; among loaded rules with
// the same rule_id the first wins and the rest are an error, since running
// both would report every hit twice.
func NewSet(builtin, loaded []*Rule) (*Set, error) {
	s := &Set{}
	byID := map[string]int{}
	for _, r := range builtin {
		byID[r.ID] = len(s.Rules)
		s.Rules = append(s.Rules, r)
	}
	fromFile := map[string]string{}
	for _, r := range loaded {
		if prev, dup := fromFile[r.ID]; dup {
			return nil, fmt.Errorf("rule_id %s is defined twice: %s and %s", r.ID, prev, r.Source)
		}
		fromFile[r.ID] = r.Source
		if i, ok := byID[r.ID]; ok {
			s.replacements = append(s.replacements, replacement{builtin: s.Rules[i], by: r})
			s.Rules[i] = r
			continue
		}
		byID[r.ID] = len(s.Rules)
		s.Rules = append(s.Rules, r)
	}
	return s, nil
}

// Filter keeps the rules for which keep returns true. A replacement it
// drops is no longer listed in Replaced: neither version runs.
func (s *Set) Filter(keep func(*Rule) bool) {
	s.Rules = slices.DeleteFunc(s.Rules, func(r *Rule) bool { return !keep(r) })
	s.replacements = slices.DeleteFunc(s.replacements, func(rp replacement) bool { return !slices.Contains(s.Rules, rp.by) })
}

// ByID returns the rule with the given rule_id, or nil.
func (s *Set) ByID(id string) *Rule {
	for _, r := range s.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}
