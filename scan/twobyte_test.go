package scan

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestIndexTwoBytes compares the 32-at-a-time search with the byte loop
// on short random texts over a small alphabet (so matches, near misses
// and case variants are everywhere), at every length around the block
// edges, with both masks.
func TestIndexTwoBytes(t *testing.T) {
	naive := func(s []byte, lo, hi, mask byte, d int) int {
		for i := 0; i+d < len(s); i++ {
			if s[i] == lo && s[i+d]|mask == hi {
				return i
			}
		}
		return -1
	}
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 50000; k++ {
		keep := 1
		if r.IntN(4) == 0 {
			keep = 20 // sparse: most blocks hold no match
		}
		s := randomText(r, "abAB:", keep)
		d := 1 + r.IntN(40)
		mask := byte(0)
		if r.IntN(2) == 0 {
			mask = 0x20
		}
		want := naive(s, 'a', 'b', mask, d)
		if got := indexTwoBytes(s, 'a', 'b', mask, d); got != want {
			t.Fatalf("%q d=%d mask=%#x: %d, want %d (SIMD %v)", s, d, mask, got, want, twoByteSIMD)
		}
		if got := indexTwoBytesFrom(s, 0, max(len(s)-d, 0), 'a', 'b', mask, d); got != want {
			t.Fatalf("%q d=%d mask=%#x: byte loop %d, want %d", s, d, mask, got, want)
		}
	}
}

func TestIndexLineOrSpecial(t *testing.T) {
	if !twoByteSIMD {
		t.Skip("no AVX2")
	}
	naive := func(s []byte) int {
		for i := range s {
			if s[i] == '\n' || s[i] == 0 || s[i] == '\\' && (i+1 == len(s) || s[i+1] != '"') {
				return i
			}
		}
		return -1
	}
	r := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 50000; k++ {
		s := randomText(r, "ab\\\"\x00\n", 3)
		if got, want := indexLineOrSpecial(s), naive(s); got != want {
			t.Fatalf("%q: line or special at %d, want %d", s, got, want)
		}
	}
}

func TestIndexTwoBytes4(t *testing.T) {
	if !twoByteSIMD {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for k := 0; k < 30000; k++ {
		s := randomText(r, "abcdABCD", 4)
		var specs [4]twoByteSpec
		for j := range specs {
			lo := "abcd"[r.IntN(4)]
			hi := "abcd"[r.IntN(4)]
			mask := byte(0)
			if r.IntN(2) == 0 {
				mask = 0x20
			}
			specs[j] = twoByteSpec{lo: lo, hi: hi, mask: mask, d: 1 + r.IntN(40)}
		}
		// Two, three or four used, the spare slots repeating the first.
		for used := 2; used <= 4; used++ {
			few := specs
			want, fewD := -1, 0
			for j := range few {
				if j >= used {
					few[j] = few[0]
				}
				fewD = max(fewD, few[j].d)
				sp := few[j]
				if i := indexTwoBytes(s, sp.lo, sp.hi, sp.mask, sp.d); i >= 0 && (want < 0 || i < want) {
					want = i
				}
			}
			if got := indexTwoBytes4(s, &few, used, fewD); got != want {
				t.Fatalf("%q %+v, %d used: %d, want %d", s, few, used, got, want)
			}
		}
	}
}

// randomText is up to 299 bytes, each drawn from alphabet with probability
// 1/keep and 'z' otherwise.
func randomText(r *rand.Rand, alphabet string, keep int) []byte {
	s := make([]byte, r.IntN(300))
	for i := range s {
		s[i] = 'z'
		if r.IntN(keep) == 0 {
			s[i] = alphabet[r.IntN(len(alphabet))]
		}
	}
	return s
}

// skipBytes is an object or array walk a byte at a time, the reference
// skipNested and skipValue are held to.
func skipBytes(b []byte, i int) int {
	depth, inString, escape := 0, false, false
	for j := i; j < len(b); j++ {
		switch c := b[j]; {
		case escape:
			escape = false
		case inString:
			if c == '\\' {
				escape = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth == 0 {
				return j + 1
			}
		}
	}
	return len(b)
}

// TestSkipNested compares the 32-bytes-at-a-time walk over an object or
// array with the byte walk on random texts dense in brackets, quotes and
// backslashes (runs of them, escaped quotes, strings across blocks), from
// every bracket in them, valid JSON or not, and on JSON nested deeper than
// a block is long. skipValue without AVX2 is held to the byte walk too.
func TestSkipNested(t *testing.T) {
	if !twoByteSIMD {
		t.Skip("no AVX2")
	}
	defer func() { twoByteSIMD = true }()
	r := rand.New(rand.NewPCG(7, 8))
	texts := [][]byte{
		[]byte(`{"a":{"b":[1,2,{"c":"}]\"{"}],"d":"x\\"},"e":[]}` + strings.Repeat(" ", 40)),
		[]byte(strings.Repeat(`{"k":[`, 30) + `"v\\\"]}"` + strings.Repeat(`]}`, 30)),
		[]byte(`{"s":"` + strings.Repeat(`\\`, 33) + `\"}"}`),
	}
	for k := 0; k < 20000; k++ {
		s := randomText(r, `{}[]"\`, 3)
		for k%50 == 0 && len(s) < 600 {
			s = append(s, randomText(r, `{}[]"\`, 2)...)
		}
		texts = append(texts, s)
	}
	for _, s := range texts {
		for i, c := range s {
			if c != '{' && c != '[' {
				continue
			}
			want := skipBytes(s, i)
			if got := skipNested(s, i); got != want {
				t.Fatalf("%q from %d: %d, want %d", s, i, got, want)
			}
			// And skipValue without AVX2, a string at a time.
			twoByteSIMD = false
			got := skipValue(s, i)
			twoByteSIMD = true
			if got != want {
				t.Fatalf("%q from %d without AVX2: %d, want %d", s, i, got, want)
			}
		}
	}
}

func FuzzSkipNested(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,2,{"c":"}]\"{"}],"d":"x\\"},"e":[]}`), 0)
	f.Add([]byte(strings.Repeat(`[{"x":"\\"}`, 20)), 1)
	f.Fuzz(func(t *testing.T, s []byte, i int) {
		if !twoByteSIMD || len(s) == 0 {
			return
		}
		i = int(uint(i) % uint(len(s)))
		if s[i] != '{' && s[i] != '[' {
			return
		}
		if got, want := skipNested(s, i), skipBytes(s, i); got != want {
			t.Fatalf("%q from %d: %d, want %d", s, i, got, want)
		}
	})
}

// TestStringEnd compares stringEnd, eight bytes at a time, with a byte
// loop on random texts dense in quotes and backslashes (runs of them,
// escapes next to a block's edge), from every quote in them.
func TestStringEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	want := func(s []byte, i int) (int, bool) {
		escaped := false
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '"':
				return j + 1, escaped
			case '\\':
				escaped = true
				j++
			}
		}
		return len(s), escaped
	}
	for k := 0; k < 20000; k++ {
		s := randomText(r, `"\u`, 3+k%8)
		for i, c := range s {
			if c != '"' {
				continue
			}
			gotEnd, gotEsc := stringEnd(s, i)
			if wantEnd, wantEsc := want(s, i); gotEnd != wantEnd || gotEsc != wantEsc {
				t.Fatalf("%q from %d: %d %v, want %d %v", s, i, gotEnd, gotEsc, wantEnd, wantEsc)
			}
		}
	}
}
