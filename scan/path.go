package scan

import (
	"github.com/k8sexec/k8sexec/rules"
	"github.com/tidwall/gjson"
)

// resolver finds fields in a parsed event the way Elasticsearch sees the
// document. lastWins is set for a document that repeats a key in some
// object: Elastic's agent decodes such a line with Go's encoding/json, so
// only the last of the repeated keys counts (the check that sets it is in
// validate.go). Lookups in the common case stop at the first key found.
type resolver struct {
	lastWins bool
}

// anyPath reports whether test holds for a value found at segs below obj,
// resolving the path the way Elasticsearch does: every key along the way may
// be a nested object (`{"a":{"b":..}}`), a dotted key (`{"a.b":..}`) or any
// mix of the two, and every layout present contributes its values. Arrays
// of objects are descended into element by element; arrays of values are
// flattened; nulls are skipped.
func (r resolver) anyPath(obj gjson.Result, segs []string, test func(gjson.Result) bool) bool {
	if !obj.IsObject() {
		return false
	}
	if r.lastWins {
		return r.anyPathLastWins(obj, segs, test)
	}
	found := false
	obj.ForEach(func(key, val gjson.Result) bool {
		n := prefixSegments(key.Str, segs)
		if n == 0 {
			found = below(key.Str, segs, val, test)
			return !found
		}
		found = r.resolve(val, segs, n, test)
		return !found
	})
	return found
}

// objectBelow stands for the object a field is when a dotted key spells a
// path below it ({"a.b.c":"x"} makes a an object holding b.c): what an
// exists test holds for, and no value any other test matches.
var objectBelow = gjson.Result{Type: gjson.JSON, Raw: `{"":true}`}

// below tests, for a member key that spells segs and goes on past them
// ("a.b.c" for [a]), the object it makes of the field: Elasticsearch maps
// the dotted key as objects, so the field exists when the member's value
// holds a value.
func below(key string, segs []string, val gjson.Result, test func(gjson.Result) bool) bool {
	return extendsSegments(key, segs) && rules.Exists(val) && test(objectBelow)
}

// extendsSegments reports whether key spells every segment of segs joined
// with dots, and a dot and more after them.
func extendsSegments(key string, segs []string) bool {
	pos := 0
	for _, s := range segs {
		if len(key)-pos < len(s)+1 || key[pos:pos+len(s)] != s || key[pos+len(s)] != '.' {
			return false
		}
		pos += len(s) + 1
	}
	return pos < len(key)
}

func (r resolver) resolve(val gjson.Result, segs []string, n int, test func(gjson.Result) bool) bool {
	if n == len(segs) {
		return anyValue(val, test)
	}
	return r.descend(val, segs[n:], test)
}

// anyPathLastWins is anyPath for an object that may repeat keys: of the
// keys spelled alike only the last is read.
func (r resolver) anyPathLastWins(obj gjson.Result, segs []string, test func(gjson.Result) bool) bool {
	type member struct {
		key string
		val gjson.Result
		n   int
	}
	var members []member
	obj.ForEach(func(key, val gjson.Result) bool {
		if n := prefixSegments(key.Str, segs); n > 0 || extendsSegments(key.Str, segs) {
			for i := range members {
				if members[i].key == key.Str {
					members[i].n = -1 // superseded by this later key
				}
			}
			members = append(members, member{key.Str, val, n})
		}
		return true
	})
	for _, m := range members {
		switch {
		case m.n < 0:
		case m.n == 0:
			if below(m.key, segs, m.val, test) {
				return true
			}
		case r.resolve(m.val, segs, m.n, test):
			return true
		}
	}
	return false
}

// get returns the member of obj named key (the last one when keys repeat).
func (r resolver) get(obj gjson.Result, key string) gjson.Result {
	if !r.lastWins {
		return obj.Get(gjson.Escape(key))
	}
	var out gjson.Result
	obj.ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			out = v
		}
		return true
	})
	return out
}

// each calls fn for the members of obj, skipping keys a later key of the
// same spelling supersedes.
func (r resolver) each(obj gjson.Result, fn func(key, val gjson.Result) bool) {
	if !r.lastWins {
		obj.ForEach(fn)
		return
	}
	type member struct{ key, val gjson.Result }
	var members []member
	obj.ForEach(func(k, v gjson.Result) bool {
		members = append(members, member{k, v})
		return true
	})
	for i, m := range members {
		superseded := false
		for _, later := range members[i+1:] {
			if later.key.Str == m.key.Str {
				superseded = true
				break
			}
		}
		if !superseded && !fn(m.key, m.val) {
			return
		}
	}
}

// prefixSegments returns how many leading segments the key spells when
// joined with dots ("a.b" spells two of [a b c]), or 0 if it spells none.
func prefixSegments(key string, segs []string) int {
	pos := 0
	for i, s := range segs {
		if len(key)-pos < len(s) || key[pos:pos+len(s)] != s {
			return 0
		}
		pos += len(s)
		if pos == len(key) {
			return i + 1
		}
		if key[pos] != '.' {
			return 0
		}
		pos++
	}
	return 0
}

func (r resolver) descend(val gjson.Result, rest []string, test func(gjson.Result) bool) bool {
	switch {
	case val.IsObject():
		return r.anyPath(val, rest, test)
	case val.IsArray():
		found := false
		val.ForEach(func(_, elem gjson.Result) bool {
			found = r.descend(elem, rest, test)
			return !found
		})
		return found
	}
	return false
}

// anyValue applies test to a value, or to each element of an array at any
// depth. JSON null is not a value, as in Elasticsearch.
func anyValue(val gjson.Result, test func(gjson.Result) bool) bool {
	switch {
	case val.Type == gjson.Null:
		return false
	case val.IsArray():
		found := false
		val.ForEach(func(_, elem gjson.Result) bool {
			found = anyValue(elem, test)
			return !found
		})
		return found
	}
	return test(val)
}
