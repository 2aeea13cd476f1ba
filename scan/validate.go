package scan

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"

	"github.com/k8sexec/k8sexec/rules"
)

// jsonCheck is what checkJSON learns about a JSON text in one pass.
type jsonCheck struct {
	valid bool
	// deep: nesting goes past maxDepth (the text is not valid for us).
	deep bool
	// dupKeys: some object repeats a key. Elastic's agent decodes raw
	// logs with Go's encoding/json, where the last occurrence wins, so
	// documents with repeated keys are read that way.
	dupKeys bool
}

// checkJSON validates one JSON text (RFC 8259; strings are not checked for
// valid UTF-8, which decoders replace) without recursion, so no input can
// exhaust the stack, and notes repeated object keys on the way.
func checkJSON(b []byte) jsonCheck {
	var c jsonChecker
	return c.check(b)
}

// jsonChecker keeps checkJSON's working memory between calls.
type jsonChecker struct {
	stack []byte // '{' or '[' per open container
	keys  keySets
	// With walk set, a check also collects the values of walk's fields
	// on its way through the text: the values flatWalker.extract would
	// return, in the same order, without a second pass over the text.
	// walked is the text vals are for, nil when the last check failed or
	// walked none; with extends set, vals are not the fields' values.
	walk   *flatShape
	vals   flatVals
	levels []walkLevel
	walked []byte
	// extends is set when a key of the walked text spells a path below a
	// field (flatNode.lookup): the text is not read flat.
	extends bool
}

// walkLevel is an open container of a walked text: the node its members
// or elements are looked up from (nil when no field is inside), and, for
// an object whose own node has fields, that node, which records the
// object once it is closed.
type walkLevel struct {
	kids, whole *flatNode
	open        int
}

// walkFor makes the checks that follow collect the fields of shape s (see
// walk).
func (jc *jsonChecker) walkFor(s *flatShape) {
	jc.walk, jc.vals.nonEmpty = s, s.nonEmpty
}

func (jc *jsonChecker) check(b []byte) (res jsonCheck) {
	stack, levels := jc.stack[:0], jc.levels[:0]
	keys := &jc.keys
	keys.reset()
	walking := jc.walk != nil
	jc.walked, jc.extends = nil, false
	jc.vals.reset()
	defer func() {
		jc.stack, jc.levels = stack[:0], levels[:0]
		if walking && res.valid {
			jc.walked = b
		}
	}()
	// node is the walk's node of the value at i, nil when no field is in
	// that value. The walk starts at an object at the top.
	var node *flatNode
	// closes records, if it is a field's value, the container just closed
	// at i.
	closes := func(i int) {
		if walking {
			l := levels[len(levels)-1]
			levels = levels[:len(levels)-1]
			if l.whole != nil {
				jc.vals.object(l.whole, l.open, i+1)
			}
		}
	}
	const (
		stValue = iota
		stAfterValue
		stKeyOrEnd
		stKey
	)
	i := skipSpace(b, 0)
	if walking && i < len(b) && b[i] == '{' {
		node = jc.walk.root
	}
	state := stValue
	for {
		switch state {
		case stValue:
			if i >= len(b) {
				return res
			}
			var end int
			switch c := b[i]; {
			case c == '{' || c == '[':
				if len(stack) == maxDepth {
					res.deep = true
					return res
				}
				stack = append(stack, c)
				if walking {
					l := walkLevel{open: i}
					switch {
					case node == nil:
					case c == '[':
						// Elements are values of the array's fields.
						l.kids = node
						if node.elems != nil {
							l.kids = node.elems
						}
					default:
						if node.children != nil || node.members != nil {
							l.kids = node
						}
						if len(node.slots) > 0 {
							l.whole = node
						}
					}
					levels = append(levels, l)
					node = l.kids
				}
				i = skipSpace(b, i+1)
				if c == '{' {
					keys.push()
					state = stKeyOrEnd
				} else if i < len(b) && b[i] == ']' {
					stack = stack[:len(stack)-1]
					closes(i)
					i++
					state = stAfterValue
				}
				continue
			case c == '"':
				var escaped, ok bool
				if end, escaped, _, ok = scanJSONString(b, i); !ok {
					return res
				}
				if node != nil && len(node.slots) > 0 {
					jc.vals.str(node, i, end, escaped)
				}
				i = end
				state = stAfterValue
				continue
			case c == 't' && hasWord(b, i, "true"), c == 'n' && hasWord(b, i, "null"):
				end = i + 4
			case c == 'f' && hasWord(b, i, "false"):
				end = i + 5
			case c == '-' || c >= '0' && c <= '9':
				var ok bool
				if end, ok = scanNumber(b, i); !ok {
					return res
				}
			default:
				return res
			}
			// A number or literal, up to end.
			if node != nil && len(node.slots) > 0 {
				jc.vals.scalar(node, b[i], i, end)
			}
			i = end
			state = stAfterValue
		case stAfterValue:
			i = skipSpace(b, i)
			if len(stack) == 0 {
				res.valid = i == len(b)
				return res
			}
			if i >= len(b) {
				return res
			}
			top := stack[len(stack)-1]
			switch {
			case b[i] == ',':
				i = skipSpace(b, i+1)
				if top == '{' {
					state = stKey
				} else {
					if walking {
						node = levels[len(levels)-1].kids
					}
					state = stValue
				}
			case top == '{' && b[i] == '}' || top == '[' && b[i] == ']':
				if top == '{' {
					keys.pop()
				}
				stack = stack[:len(stack)-1]
				closes(i)
				i++
			default:
				return res
			}
		case stKeyOrEnd:
			if i < len(b) && b[i] == '}' {
				keys.pop()
				stack = stack[:len(stack)-1]
				closes(i)
				i++
				state = stAfterValue
				continue
			}
			state = stKey
		case stKey:
			if i >= len(b) || b[i] != '"' {
				return res
			}
			end, escaped, nonASCII, ok := scanJSONString(b, i)
			if !ok {
				return res
			}
			if keys.add(keyHash(b[i+1:end-1], escaped || nonASCII)) {
				res.dupKeys = true
			}
			if walking {
				node = nil
				if p := levels[len(levels)-1].kids; p != nil {
					if node = p.member(text(b[i:end], escaped)); node == extendsField {
						node, jc.extends = nil, true
					}
				}
			}
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return res
			}
			i = skipSpace(b, i+1)
			state = stValue
		}
	}
}

func skipSpace(b []byte, i int) int {
	// Compact JSON has no blanks: one test for the byte that is none.
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func hasWord(b []byte, i int, w string) bool {
	return len(b)-i >= len(w) && string(b[i:i+len(w)]) == w
}

// scanJSONString checks the string starting at the quote b[i] and returns the
// offset after its closing quote, and whether it holds escapes and bytes
// outside ASCII (what a decoder may change).
func scanJSONString(b []byte, i int) (end int, escaped, nonASCII, ok bool) {
	var high uint64 // bytes outside ASCII, in the high bits
	for j := i + 1; j < len(b); j++ {
		// Most bytes of a string are ordinary: skip them eight at a time,
		// then one by one.
		for j+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[j:])
			if m := specialBytes(x); m != 0 {
				n := bits.TrailingZeros64(m) / 8
				high |= x & (1<<(8*n) - 1)
				j += n
				break
			}
			high |= x
			j += 8
		}
		for j < len(b) && plainStringByte[b[j]] {
			high |= uint64(b[j])
			j++
		}
		if j >= len(b) {
			break
		}
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, high&swarHighs != 0, true
		case c == '\\':
			escaped = true
			j++
			if j >= len(b) {
				return 0, false, false, false
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-j < 5 || !isHex(b[j+1]) || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) {
					return 0, false, false, false
				}
				j += 4
			default:
				return 0, false, false, false
			}
		case c < 0x20:
			return 0, false, false, false
		}
	}
	return 0, false, false, false
}

// The SWAR tests ("Bit Twiddling Hacks") look at eight bytes at once and
// flag matching bytes in their high bit. A borrow only carries into the
// byte above a flagged one, so the lowest flag is always a true one.
const swarOnes, swarHighs = 0x0101010101010101, 0x8080808080808080

// bytesEqual flags the bytes of x equal to c.
func bytesEqual(x uint64, c byte) uint64 {
	y := x ^ swarOnes*uint64(c)
	return (y - swarOnes) &^ y & swarHighs
}

// specialBytes flags the quotes, backslashes and control characters among
// eight bytes.
func specialBytes(x uint64) uint64 {
	return (x-swarOnes*0x20)&^x&swarHighs | bytesEqual(x, '"') | bytesEqual(x, '\\')
}

// plainStringByte marks the bytes that need no attention inside a string.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanNumber checks -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}

// keyHash hashes an object key as decoders see it: "\u0076erb" is "verb",
// and invalid UTF-8 is U+FFFD ("\xac" and "\x8d" are one key). escaped says
// the key needs decoding: it holds escapes or bytes outside ASCII.
// It reads only the length and the first and last eight bytes: a collision
// merely sends the document down the slower last-key-wins path.
func keyHash(raw []byte, escaped bool) uint64 {
	if escaped {
		raw = []byte(unquoteKey(raw))
	}
	var head, tail uint64
	if len(raw) >= 8 {
		head = binary.LittleEndian.Uint64(raw)
		tail = binary.LittleEndian.Uint64(raw[len(raw)-8:])
	} else {
		for i, c := range raw {
			head |= uint64(c) << (8 * i)
		}
	}
	h := (head ^ uint64(len(raw))*0x9e3779b97f4a7c15) * 0xff51afd7ed558ccd
	return (h ^ tail ^ h>>29) * 0xc4ceb9fe1a85ec53
}

// unquoteKey decodes the escapes of a valid JSON string body.
func unquoteKey(raw []byte) string {
	out := make([]rune, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			r, size := utf8.DecodeRune(raw[i:])
			out = append(out, r)
			i += size
			continue
		}
		r, size := rules.DecodeEscape(raw[i:])
		if size == 0 {
			size = 1 // not reached for a valid string
		}
		out = append(out, r)
		i += size
	}
	return string(out)
}

// keySets remembers the keys of every open object. A hash collision only
// makes a document take the slower last-key-wins path, whose lookups
// compare the keys themselves.
//
// Each open object has a 256-bit filter of the keys it holds, indexed by
// a hash's top byte: a key whose bit is clear is new without looking at
// the others, so the objects with dozens of keys of dotted ECS exports
// cost little more per key than small ones. Past keySetLinear keys an
// object's keys go in a map, so no object costs quadratic time.
type keySets struct {
	hashes []uint64
	open   []keyLevel
}

// keyLevel is an open object: where its keys start in hashes, its filter,
// and, once it has more than keySetLinear keys, the set they moved to.
type keyLevel struct {
	start  int
	filter [4]uint64
	set    map[uint64]bool
}

const keySetLinear = 128

func (k *keySets) push() {
	k.open = append(k.open, keyLevel{start: len(k.hashes)})
}

func (k *keySets) reset() {
	k.hashes, k.open = k.hashes[:0], k.open[:0]
}

func (k *keySets) pop() {
	level := len(k.open) - 1
	k.hashes = k.hashes[:k.open[level].start]
	k.open = k.open[:level]
}

// add records a key of the innermost object and reports whether it was
// already there.
func (k *keySets) add(h uint64) bool {
	l := &k.open[len(k.open)-1]
	f, bit := &l.filter[h>>62], uint64(1)<<(h>>56&63)
	// The common key: new, as its filter bit says, in an object of few
	// keys (one whose keys moved to its set has keySetLinear in hashes).
	if *f&bit == 0 && len(k.hashes)-l.start < keySetLinear {
		*f |= bit
		k.hashes = append(k.hashes, h)
		return false
	}
	return k.addSlow(l, h, f, bit)
}

// addSlow is add for a key whose filter bit (bit of *f) is set, or of an
// object with many keys.
func (k *keySets) addSlow(l *keyLevel, h uint64, f *uint64, bit uint64) bool {
	if l.set != nil {
		dup := l.set[h]
		l.set[h] = true
		return dup
	}
	mine := k.hashes[l.start:]
	if *f&bit != 0 {
		for _, x := range mine {
			if x == h {
				return true
			}
		}
	}
	*f |= bit
	if len(mine) < keySetLinear {
		k.hashes = append(k.hashes, h)
		return false
	}
	l.set = map[uint64]bool{h: true}
	for _, x := range mine {
		l.set[x] = true
	}
	return false
}
