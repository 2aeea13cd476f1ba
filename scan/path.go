package scan

import (
	"github.com/tidwall/gjson"
)

// anyPath reports whether test holds for a value found at segs below obj,
// resolving the path the way Elasticsearch does: every key along the way may
// be a nested object (`{"a":{"b":..}}`), a dotted key (`{"a.b":..}`) or any
// mix of the two, and every layout present contributes its values. Arrays
// of objects are descended into element by element; arrays of values are
// flattened; nulls are skipped.
func anyPath(obj gjson.Result, segs []string, test func(gjson.Result) bool) bool {
	if !obj.IsObject() {
		return false
	}
	found := false
	obj.ForEach(func(key, val gjson.Result) bool {
		n := prefixSegments(key.Str, segs)
		if n == 0 {
			return true
		}
		if n == len(segs) {
			found = anyValue(val, test)
		} else {
			found = descend(val, segs[n:], test)
		}
		return !found
	})
	return found
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

func descend(val gjson.Result, rest []string, test func(gjson.Result) bool) bool {
	switch {
	case val.IsObject():
		return anyPath(val, rest, test)
	case val.IsArray():
		found := false
		val.ForEach(func(_, elem gjson.Result) bool {
			found = descend(elem, rest, test)
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
