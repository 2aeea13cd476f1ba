package scan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func TestCheckJSON(t *testing.T) {
	tests := []struct {
		in               string
		valid, dup, deep bool
	}{
		{`{}`, true, false, false},
		{` [ ] `, true, false, false},
		{`{"a":1,"b":{"a":2}}`, true, false, false},
		{`{"a":1,"a":2}`, true, true, false},
		{`{"verb":"get","\u0076erb":"create"}`, true, true, false},
		{`{"o":{"k":1,"k":1}}`, true, true, false},
		{`[{"k":1},{"k":1}]`, true, false, false},
		{`{"a.b":1,"a":{"b":2}}`, true, false, false}, // two layouts, not a repeat
		{`{"a":}`, false, false, false},
		{`{"a":1,}`, false, false, false},
		{`[1,]`, false, false, false},
		{`01`, false, false, false},
		{`1.`, false, false, false},
		{`-`, false, false, false},
		{`"\x"`, false, false, false},
		{"\"a\tb\"", false, false, false},
		{`"\u12"`, false, false, false},
		{`{} {}`, false, false, false},
		{`tru`, false, false, false},
		{`{"a":"` + "\xff\xfe" + `"}`, true, false, false}, // invalid UTF-8 is read, not refused
		{strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), true, false, false},
		{strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), false, false, true},
		{strings.Repeat("[", 1000000), false, false, true},
	}
	for _, tc := range tests {
		got := checkJSON([]byte(tc.in))
		if got.valid != tc.valid || got.dupKeys != tc.dup || got.deep != tc.deep {
			t.Errorf("checkJSON(%.40q) = %+v, want valid %v dup %v deep %v", tc.in, got, tc.valid, tc.dup, tc.deep)
		}
	}
}

// TestCheckJSONManyKeys: objects past the linear key set still find
// repeats, and nested objects keep their own sets.
func TestCheckJSONManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{`)
	for i := range 500 {
		fmt.Fprintf(&b, `"key-%d":{"k":1},`, i)
	}
	b.WriteString(`"last":0`)
	if c := checkJSON([]byte(b.String() + `}`)); !c.valid || c.dupKeys {
		t.Errorf("500 distinct keys: %+v", c)
	}
	if c := checkJSON([]byte(b.String() + `,"key-7":2}`)); !c.valid || !c.dupKeys {
		t.Errorf("a repeat after 500 keys: %+v", c)
	}
}

// refDupKeys reports repeated keys with encoding/json's tokenizer.
func refDupKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool // next string token in an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.object && top.expect
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil && top.object {
					top.expect = true
				}
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, expect: true})
			case '[':
				if top != nil && top.object {
					top.expect = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].expect = true
				}
			}
		case string:
			if isKey {
				if top.keys[v] {
					return true
				}
				top.keys[v] = true
				top.expect = false
			} else if top != nil && top.object {
				top.expect = true
			}
		default:
			if top != nil && top.object {
				top.expect = true
			}
		}
	}
}

// gjsonRoot lists the names and value texts of a top-level object's
// members as gjson reads them.
func gjsonRoot(b []byte) [][2]string {
	var out [][2]string
	if root := gjson.ParseBytes(b); root.IsObject() {
		root.ForEach(func(k, v gjson.Result) bool {
			out = append(out, [2]string{k.Str, v.Raw})
			return true
		})
	}
	return out
}

// rootTexts is what rootOf lists of b, as names and value texts.
func rootTexts(b []byte) [][2]string {
	var out [][2]string
	for _, m := range rootOf(b) {
		out = append(out, [2]string{m.key, string(b[m.start:m.end])})
	}
	return out
}

// FuzzCheckJSON: checkJSON agrees with encoding/json on validity and on
// repeated keys, and never fails on any input.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, ` { "a" : [ {"b":1} ] , "c\u0064" : "x" , "e":{} } `, `{"a":[],"b":{"c":{}}}`, `[1,{"a":[true,false,null,-0.5e+3]}]`, `{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":{"b":1},"b":{"b":1}}`, execLine, procLine, `{"a" 1}`, "\"\\ud83d\\ude00\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := checkJSON(b)
		// rootOf takes any text; of a valid object it lists gjson's
		// members.
		members := rootTexts(b)
		if c.deep {
			return
		}
		if want := gjsonRoot(b); c.valid && !slices.Equal(members, want) {
			t.Fatalf("rootOf(%q) = %q, gjson lists %q", b, members, want)
		}
		if want := json.Valid(b); c.valid != want {
			t.Fatalf("checkJSON(%q).valid = %v, encoding/json says %v", b, c.valid, want)
		}
		if c.valid {
			if want := refDupKeys(b); c.dupKeys && !want {
				// A hash collision may claim a repeat; it must be rare
				// enough never to show up here.
				t.Fatalf("checkJSON(%q) claims a repeated key", b)
			} else if !c.dupKeys && want {
				t.Fatalf("checkJSON(%q) missed a repeated key", b)
			}
		}
	})
}
