package triage

import (
	"fmt"
	"strings"
	"time"

	"github.com/k8sexec/k8sexec/rules"
)

// newTermsNotes says what each new_terms rule that matched did with its
// matches: how many were new, and which period only taught values. The
// rules whose matches span less than their history window, which can
// find nothing new, share one note that says so and how much log they
// need, since a scan of a short log with Elastic's rules has several.
func newTermsNotes(sums []rules.TermsSummary) []string {
	var notes, short []string
	for _, s := range sums {
		nt := s.Rule.NewTerms
		var left strings.Builder
		if s.Untimed > 0 {
			fmt.Fprintf(&left, "; %d without a @timestamp could not be placed and were left out", s.Untimed)
		}
		if s.Valueless > 0 {
			fmt.Fprintf(&left, "; %d without a value of every new_terms field were left out", s.Valueless)
		}
		if span := s.Last.Sub(s.First); !s.First.IsZero() && span < nt.History {
			short = append(short, fmt.Sprintf("%q (%d match(es) over %s, window %s%s)",
				s.Rule.Name, s.Matches, span.Round(time.Second), nt.Window(), left.String()))
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "new_terms rule %q: %d of its %d match(es) had %s not seen in the %s before them",
			s.Rule.Name, s.New, s.Matches, nt.What(), nt.Window())
		if !s.First.IsZero() {
			fmt.Fprintf(&b, "; its matches from %s to %s only taught values",
				s.First.Format(time.RFC3339), s.LearnedUntil.Format(time.RFC3339))
		}
		notes = append(notes, b.String()+left.String())
	}
	if len(short) > 0 {
		notes = append(notes, fmt.Sprintf("%d new_terms rule(s) could find nothing new: the first history window of a rule's matches only "+
			"teaches values, and these rules' matches span less than theirs (scan at least that much log for them): %s",
			len(short), strings.Join(short, "; ")))
	}
	return notes
}
