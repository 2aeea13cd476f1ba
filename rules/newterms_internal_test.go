package rules

import (
	"testing"
	"time"
)

// TestTermsHistoryStaysThin: a combination seen at every second keeps a
// few times per window, not one per match, in and out of order.
func TestTermsHistoryStaysThin(t *testing.T) {
	r := &Rule{Name: "nt", NewTerms: &NewTerms{Fields: []*Field{NewField("a")}, History: 10 * time.Second}}
	for _, reversed := range []bool{false, true} {
		h := NewTermsHistory(r)
		const n = 100000
		for i := range n {
			s := i
			if reversed {
				s = n - 1 - i
			}
			h.Observe(i, int64(s)*int64(time.Second), []string{"k"}, true)
		}
		// 100,000 s span 10,000 windows: at most two times each.
		if got := len(h.times["k"]); got > 2*n/10+2 {
			t.Errorf("reversed=%v: %d times kept for %d matches", reversed, got, n)
		}
		if ids, _ := h.Final(); len(ids) != 0 {
			t.Errorf("reversed=%v: %d new, want none", reversed, len(ids))
		}
	}
}
