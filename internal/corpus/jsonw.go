package corpus

import "strconv"

// jsonDoc appends one JSON object per line to b, in one of the key layouts.
//
// Objects are opened with obj and closed with end. Whether an object is
// written as a nested JSON object or flattened into its parent as dotted
// keys ("a.b.c":v) is decided by its depth: bit d of mask set means objects
// opened at depth d (0 = a member of the top-level object) are flattened.
// mask 0 is fully nested, all bits set is fully dotted, anything else a mix.
//
// Besides the bytes written, jsonDoc tracks delta, the difference between
// the size the same document would have in the nested layout and its actual
// size. Write stops on nested-equivalent bytes, so every layout of one Config
// carries the same events.
type jsonDoc struct {
	b    []byte
	mask uint64
	// html escapes &, < and > as \u0026, \u003c and \u003e, the way Go's
	// encoding/json (and so kube-apiserver) writes strings.
	html bool

	prefix []byte // dotted path of the flattened objects enclosing the current member
	base   int    // prefix[:base] belongs to enclosing real objects
	first  bool   // the next member is the first of the current real object
	nfirst bool   // the next member is the first of the current object in the nested view
	depth  int
	frames []docFrame
	delta  int
	start  int
}

type docFrame struct {
	flat      bool
	prefixLen int
	base      int
}

// begin starts a line.
func (d *jsonDoc) begin(mask uint64, html bool) {
	d.start = len(d.b)
	d.mask, d.html = mask, html
	d.prefix = d.prefix[:0]
	d.base, d.depth, d.delta = 0, 0, 0
	d.first, d.nfirst = true, true
	d.frames = d.frames[:0]
	d.b = append(d.b, '{')
}

// finish ends the line and returns its actual and nested-equivalent sizes.
func (d *jsonDoc) finish() (actual, nominal int) {
	d.b = append(d.b, '}', '\n')
	n := len(d.b) - d.start
	return n, n + d.delta
}

// key writes the separator and the (possibly dotted) name of the next member.
func (d *jsonDoc) key(k string) {
	nested := len(k) + 3
	if !d.nfirst {
		nested++
	}
	d.nfirst = false
	if !d.first {
		d.b = append(d.b, ',')
		nested--
	}
	d.first = false
	rel := d.prefix[d.base:]
	d.b = append(d.b, '"')
	d.b = append(d.b, rel...)
	d.b = append(d.b, k...)
	d.b = append(d.b, '"', ':')
	d.delta += nested - len(rel) - len(k) - 3
}

// obj opens the object member k.
func (d *jsonDoc) obj(k string) {
	flat := d.depth < 64 && d.mask>>uint(d.depth)&1 == 1
	d.depth++
	if flat {
		nested := len(k) + 4 // "k":{
		if !d.nfirst {
			nested++
		}
		d.delta += nested
		d.frames = append(d.frames, docFrame{flat: true, prefixLen: len(d.prefix)})
		d.prefix = append(d.prefix, k...)
		d.prefix = append(d.prefix, '.')
		d.nfirst = true
		return
	}
	d.key(k)
	d.b = append(d.b, '{')
	d.frames = append(d.frames, docFrame{prefixLen: len(d.prefix), base: d.base})
	d.base = len(d.prefix)
	d.first, d.nfirst = true, true
}

// end closes the innermost object opened with obj.
func (d *jsonDoc) end() {
	f := d.frames[len(d.frames)-1]
	d.frames = d.frames[:len(d.frames)-1]
	d.depth--
	d.nfirst = false
	d.prefix = d.prefix[:f.prefixLen]
	if f.flat {
		d.delta++ // the nested layout's '}'
		return
	}
	d.b = append(d.b, '}')
	d.base = f.base
	d.first = false
}

func (d *jsonDoc) str(k, v string) {
	d.key(k)
	d.b = appendString(d.b, v, d.html)
}

func (d *jsonDoc) bytes(k string, v []byte) {
	d.key(k)
	d.b = appendString(d.b, v, d.html)
}

func (d *jsonDoc) int(k string, v int64) {
	d.key(k)
	d.b = strconv.AppendInt(d.b, v, 10)
}

func (d *jsonDoc) bool(k string, v bool) {
	d.key(k)
	d.b = strconv.AppendBool(d.b, v)
}

func (d *jsonDoc) strs(k string, vs ...string) {
	d.key(k)
	d.b = appendStrings(d.b, vs, d.html)
}

// raw writes member k with a value that is already JSON.
func (d *jsonDoc) raw(k, json string) {
	d.key(k)
	d.b = append(d.b, json...)
}

// strOpt writes k only when v is not empty (ECS drops empty values).
func (d *jsonDoc) strOpt(k, v string) {
	if v != "" {
		d.str(k, v)
	}
}

func appendStrings(b []byte, vs []string, html bool) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v, html)
	}
	return append(b, ']')
}

// plain[c] is true for bytes that appear unescaped in a JSON string;
// plainHTML additionally excludes &, < and >.
var plain, plainHTML = func() (p, h [256]bool) {
	for c := 0x20; c < 256; c++ {
		p[c] = c != '"' && c != '\\'
		h[c] = p[c] && c != '&' && c != '<' && c != '>'
	}
	return
}()

const hexDigits = "0123456789abcdef"

func appendString[S ~string | ~[]byte](b []byte, s S, html bool) []byte {
	table := &plain
	if html {
		table = &plainHTML
	}
	b = append(b, '"')
	start := 0
	i := 0
	// Skip eight plain bytes at a time; most strings have nothing to escape.
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		special := hasLess(w, 0x20) | hasByte(w, '"') | hasByte(w, '\\')
		if html {
			special |= hasByte(w, '&') | hasByte(w, '<') | hasByte(w, '>')
		}
		if special != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if table[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// hasLess is non-zero when a byte of w is below n (n <= 128).
func hasLess(w uint64, n byte) uint64 { return (w - lowBits*uint64(n)) & ^w & highBits }

// hasByte is non-zero when a byte of w equals c.
func hasByte(w uint64, c byte) uint64 { return hasLess(w^(lowBits*uint64(c)), 1) }
