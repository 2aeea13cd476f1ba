package triage

import (
	"fmt"
	"strings"
	"time"

	"github.com/k8sexec/k8sexec/rules"
)

// newTermsNotes says, for each new_terms rule that matched, what its
// condition did: how many matches were new, from when values were only
// learned, and why none could be new when the matches span less than the
// rule's history window.
func newTermsNotes(sums []rules.TermsSummary) []string {
	var notes []string
	for _, s := range sums {
		nt := s.Rule.NewTerms
		var b strings.Builder
		fmt.Fprintf(&b, "new_terms rule %q: %d of its %d match(es) had %s not seen in the %s before them",
			s.Rule.Name, s.New, s.Matches, nt.What(), nt.Window())
		if !s.First.IsZero() {
			fmt.Fprintf(&b, "; the first %s of matches (%s to %s) only taught values",
				nt.Window(), s.First.Format(time.RFC3339), s.LearnedUntil.Format(time.RFC3339))
			if span := s.Last.Sub(s.First); span < nt.History {
				fmt.Fprintf(&b, ", and the matches span %s, so none could be new: scan at least %s of logs for this rule",
					span.Round(time.Second), nt.Window())
			}
		}
		if s.Untimed > 0 {
			fmt.Fprintf(&b, "; %d without a @timestamp could not be placed and were left out", s.Untimed)
		}
		if s.Valueless > 0 {
			fmt.Fprintf(&b, "; %d without a value of every new_terms field were left out", s.Valueless)
		}
		notes = append(notes, b.String())
	}
	return notes
}
