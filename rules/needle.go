package rules

import (
	"bytes"
)

// Needle is a literal that must appear in an event's raw JSON text for some
// condition to hold. Fold needles are lower-case ASCII and match in any
// case.
//
// A member needle (Key set) is more selective: Text must appear as the
// value of a member whose name ends in Key. It matches Key, the name's
// closing quote (after any backslashes: an event embedded in a JSON string
// escapes its quotes), optional blanks, a colon, optional blanks, then the
// value: Text in quotes for a string, bare or in quotes for a boolean (the
// strings "true" and "false" are booleans to Elasticsearch), or an array,
// which may hold it anywhere and so always matches. Names may be dotted or
// nested ("process.interactive":true, "interactive":true): both end in the
// last segment, which is what Key holds.
type Needle struct {
	Text string
	Fold bool
	Key  string
	// Bool marks a member needle whose value is a boolean, written bare or
	// as a string; otherwise a member's value is a quoted string.
	Bool bool
	// Name marks a needle that is a member name (see Literals.Name), not a
	// value.
	Name bool
}

func (n Needle) String() string {
	s := n.Text
	if n.Key != "" {
		s = n.Key + `":` + s
	}
	if n.Fold {
		s += "~"
	}
	return s
}

// Index returns the offset of the first match of the needle in text, or
// -1. (For a member needle, the offset of its anchor part.)
func (n Needle) Index(text []byte) int {
	if n.Key == "" {
		return indexLiteral(text, n.Text, n.Fold)
	}
	return n.indexMember(text)
}

// Anchor is a byte of a needle that a search can look for with IndexByte:
// in the member name (InKey) or in the value, at Off.
type Anchor struct {
	InKey bool
	Off   int
	Byte  byte // lower-case for a folded value
}

// Bytes are the bytes a text may hold for the anchor: both cases of a
// folded letter.
func (a Anchor) Bytes(n Needle) []byte {
	if !a.InKey && n.Fold && a.Byte >= 'a' && a.Byte <= 'z' {
		return []byte{a.Byte, a.Byte - 'a' + 'A'}
	}
	return []byte{a.Byte}
}

// Anchors lists every byte of the needle a search could look for.
func (n Needle) Anchors() []Anchor {
	var out []Anchor
	for i := 0; i < len(n.Key); i++ {
		out = append(out, Anchor{InKey: true, Off: i, Byte: n.Key[i]})
	}
	for i := 0; i < len(n.Text); i++ {
		out = append(out, Anchor{Off: i, Byte: n.Text[i]})
	}
	return out
}

// BestAnchor is the needle's rarest byte: the one that stops a search
// least often.
func (n Needle) BestAnchor() Anchor {
	// The same order as Anchors, without building the list: this runs for
	// every candidate line.
	best, bestScore := Anchor{}, 1<<30
	for i := 0; i < len(n.Key); i++ {
		if score := int(byteFreq[n.Key[i]]); score < bestScore {
			best, bestScore = Anchor{InKey: true, Off: i, Byte: n.Key[i]}, score
		}
	}
	for i := 0; i < len(n.Text); i++ {
		a := Anchor{Off: i, Byte: n.Text[i]}
		if score := a.Freq(n); score < bestScore {
			best, bestScore = a, score
		}
	}
	return best
}

// Freq is how often the anchor's bytes occur in logs (parts per 100,000).
func (a Anchor) Freq(n Needle) int {
	f := int(byteFreq[a.Byte])
	if !a.InKey && n.Fold && a.Byte >= 'a' && a.Byte <= 'z' {
		f += int(byteFreq[a.Byte-'a'+'A'])
	}
	return f
}

// Guard is a second byte of a needle a search can test where it stops at
// an anchor, before MatchAnchor: the rarest other byte of the part the
// anchor is in (member name or value), Off bytes from the anchor. Where
// text[i+Off]|Mask != Byte the needle does not match with its anchor at i.
// Mask is 0x20 for a letter of a folded value, which matches in either case.
type Guard struct {
	Off  int
	Byte byte
	Mask byte
}

// Guard returns the guard for anchor a, and false for a one-byte part.
func (n Needle) Guard(a Anchor) (Guard, bool) {
	part, fold := n.Text, n.Fold
	if a.InKey {
		part, fold = n.Key, false
	}
	best, bestScore := -1, 1<<30
	for i := 0; i < len(part); i++ {
		if i == a.Off {
			continue
		}
		if score := (Anchor{Off: i, Byte: part[i]}).Freq(Needle{Fold: fold}); score < bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return Guard{}, false
	}
	g := Guard{Off: best - a.Off, Byte: part[best]}
	if fold && g.Byte >= 'a' && g.Byte <= 'z' {
		g.Mask = 0x20
	}
	return g, true
}

// MatchAnchor reports whether the needle matches text with its anchor a at
// i (text[i] is one of a's bytes).
func (n Needle) MatchAnchor(text []byte, i int, a Anchor) bool {
	if a.InKey {
		at := i - a.Off
		return at >= 0 && at+len(n.Key) <= len(text) && string(text[at:at+len(n.Key)]) == n.Key && n.valueAfterKey(text, at+len(n.Key))
	}
	at := i - a.Off
	if at < 0 || at+len(n.Text) > len(text) || !equalText(text[at:at+len(n.Text)], n.Text, n.Fold) {
		return false
	}
	return n.Key == "" || n.keyBeforeValue(text, at)
}

// indexMember finds a member match by its best anchor.
func (n Needle) indexMember(text []byte) int {
	a := n.BestAnchor()
	var both [2]byte
	bs := both[:1]
	both[0] = a.Byte
	if !a.InKey && n.Fold && a.Byte >= 'a' && a.Byte <= 'z' {
		both[1], bs = a.Byte-'a'+'A', both[:2]
	}
	best := -1
	for _, b := range bs {
		for from := 0; from < len(text); {
			j := bytes.IndexByte(text[from:], b)
			if j < 0 || best >= 0 && from+j >= best {
				break
			}
			if n.MatchAnchor(text, from+j, a) {
				best = from + j
				break
			}
			from += j + 1
		}
	}
	return best
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// valueAfterKey checks, from just after Key, for `"` (after backslashes),
// a colon between blanks, and a value that may be Text.
func (n Needle) valueAfterKey(text []byte, i int) bool {
	for i < len(text) && text[i] == '\\' {
		i++
	}
	if i >= len(text) || text[i] != '"' {
		return false
	}
	i++
	for i < len(text) && isBlank(text[i]) {
		i++
	}
	if i >= len(text) || text[i] != ':' {
		return false
	}
	i++
	for i < len(text) && isBlank(text[i]) {
		i++
	}
	if i < len(text) && text[i] == '[' {
		return true
	}
	quoted := false
	j := i
	for j < len(text) && text[j] == '\\' {
		j++
	}
	if j < len(text) && text[j] == '"' {
		quoted, i = true, j+1
	}
	if !quoted && !n.Bool {
		return false
	}
	if len(text)-i < len(n.Text) || !equalText(text[i:i+len(n.Text)], n.Text, n.Fold) {
		return false
	}
	i += len(n.Text)
	if !quoted {
		// A bare boolean ends there: true, not trueish.
		return i >= len(text) || !isWordByte(text[i])
	}
	for i < len(text) && text[i] == '\\' {
		i++
	}
	return i < len(text) && text[i] == '"'
}

// keyBeforeValue checks, around a match of Text at i, that it is a whole
// value of a member named ...Key, or may be an element of an array.
func (n Needle) keyBeforeValue(text []byte, i int) bool {
	end := i + len(n.Text)
	// After the value: its closing quote (after backslashes), or for a
	// bare boolean anything that ends a token.
	quoted := i > 0 && text[i-1] == '"'
	if quoted {
		j := end
		for j < len(text) && text[j] == '\\' {
			j++
		}
		if j >= len(text) || text[j] != '"' {
			return false
		}
	} else if !n.Bool || end < len(text) && isWordByte(text[end]) {
		return false
	}
	// Before it: the opening quote and its backslashes, blanks, then a
	// colon (a member: check the name) or [ or , (perhaps an array).
	j := i - 1
	if quoted {
		j--
		for j >= 0 && text[j] == '\\' {
			j--
		}
	}
	for j >= 0 && isBlank(text[j]) {
		j--
	}
	if j < 0 {
		return false
	}
	switch text[j] {
	case '[', ',':
		return true
	case ':':
	default:
		return false
	}
	j--
	for j >= 0 && isBlank(text[j]) {
		j--
	}
	if j < 0 || text[j] != '"' {
		return false
	}
	j--
	for j >= 0 && text[j] == '\\' {
		j--
	}
	k := j + 1 - len(n.Key)
	return k >= 0 && string(text[k:j+1]) == n.Key
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func equalText(b []byte, s string, fold bool) bool {
	if !fold {
		return string(b) == s
	}
	return equalFoldASCII(b, s)
}

// indexLiteral finds s in text (s lower-case ASCII and matched in any case
// when fold). It looks for the rarest byte of s with IndexByte, which runs
// at memory speed, and checks the rest around each hit, so a needle that
// starts with a common letter costs no more than one that does not.
func indexLiteral(text []byte, s string, fold bool) int {
	if len(s) == 0 {
		return 0
	}
	k := rarestByte(s, fold)
	anchors := []byte{s[k]}
	if c := s[k]; fold && c >= 'a' && c <= 'z' {
		anchors = append(anchors, c-'a'+'A')
	}
	best := -1
	for _, a := range anchors {
		for from := k; from < len(text); {
			j := bytes.IndexByte(text[from:], a)
			if j < 0 {
				break
			}
			at := from + j - k
			if best >= 0 && at >= best {
				break
			}
			if at+len(s) <= len(text) && equalText(text[at:at+len(s)], s, fold) {
				best = at
				break
			}
			from += j + 1
		}
	}
	return best
}

func equalFoldASCII(b []byte, lower string) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// rarestByte returns the index of the byte of s that is least frequent in
// logs (in either case when folding, the sum of both).
func rarestByte(s string, fold bool) int {
	best, bestScore := 0, 1<<30
	for i := 0; i < len(s); i++ {
		score := int(byteFreq[s[i]])
		if fold {
			if c := s[i]; c >= 'a' && c <= 'z' {
				score += int(byteFreq[c-'a'+'A'])
			}
		}
		if score < bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// byteFreq is how often each byte occurs in Kubernetes audit and process
// event logs, in parts per 100,000 (at least 1), measured on k8sexec's
// generated corpora (raw audit, ECS audit and process events in all key
// layouts). It only steers the search; it never changes a result.
var byteFreq = func() [256]uint16 {
	var t [256]uint16
	for i := range t {
		t[i] = 1
	}
	for c, f := range map[byte]uint16{
		'"': 9000, ':': 2700, ',': 2200, '{': 500, '}': 500, '[': 150, ']': 150, '.': 1200, '-': 1100, '/': 1300,
		'_': 700, ' ': 500, '\\': 300, '=': 120, '&': 30, '%': 10, '?': 30, '@': 50, '+': 50, '*': 1, ';': 3,
		'0': 2400, '1': 2200, '2': 1800, '3': 1200, '4': 1200, '5': 1100, '6': 1000, '7': 1000, '8': 1000, '9': 1000,
		'a': 4200, 'b': 1400, 'c': 3400, 'd': 2200, 'e': 6000, 'f': 1200, 'g': 900, 'h': 700, 'i': 3200, 'j': 60,
		'k': 700, 'l': 2000, 'm': 1500, 'n': 3300, 'o': 3300, 'p': 1800, 'q': 80, 'r': 3600, 's': 3800, 't': 4800,
		'u': 1600, 'v': 700, 'w': 300, 'x': 250, 'y': 400, 'z': 120,
		'A': 250, 'B': 100, 'C': 250, 'D': 150, 'E': 200, 'F': 60, 'G': 60, 'H': 40, 'I': 150, 'J': 40,
		'K': 40, 'L': 50, 'M': 100, 'N': 50, 'O': 80, 'P': 100, 'Q': 40, 'R': 300, 'S': 250, 'T': 200,
		'U': 100, 'V': 60, 'W': 50, 'X': 40, 'Y': 40, 'Z': 250,
	} {
		t[c] = f
	}
	return t
}()
