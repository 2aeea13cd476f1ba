package rules_test

import (
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
	"github.com/tidwall/gjson"
)

type matchCase struct {
	name, query, doc string
	want             bool
}

func runMatchCases(t *testing.T, tests []matchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m := compileQuery(t, tt.query)
			if got := m.Match(adapt(tt.doc)); got != tt.want {
				t.Errorf("%s\n  on %s\n  = %v, want %v", tt.query, tt.doc, got, tt.want)
			}
		})
	}
}

// TestMatchFieldResolution: a field is found by its ECS name whether the
// document nests objects, uses dotted keys, or mixes them, and every layout
// present contributes its values (Elasticsearch expands dots on ingest).
func TestMatchFieldResolution(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"nested", `a.b.c:x`, `{"a":{"b":{"c":"x"}}}`, true},
		{"dotted", `a.b.c:x`, `{"a.b.c":"x"}`, true},
		{"mixed inner dotted", `a.b.c:x`, `{"a":{"b.c":"x"}}`, true},
		{"mixed outer dotted", `a.b.c:x`, `{"a.b":{"c":"x"}}`, true},
		{"mixed eql", `any where a.b.c == "x"`, `{"a.b":{"c":"x"}}`, true},
		{"wrong value", `a.b.c:y`, `{"a":{"b.c":"x"}}`, false},
		{"key prefix is not a segment", `a.b:x`, `{"a.bc":"x"}`, false},
		{"segment prefix is not a key", `a.bc:x`, `{"a":{"b":{"c":"x"}}}`, false},
		{"deeper path is not the field", `a.b:x`, `{"a":{"b":{"c":"x"}}}`, false},
		{"shallower path is not the field", `a.b.c:x`, `{"a":{"b":"x"}}`, false},
		{"both layouts nested value", `a.b:nested`, `{"a":{"b":"nested"},"a.b":"dotted"}`, true},
		{"both layouts dotted value", `a.b:dotted`, `{"a":{"b":"nested"},"a.b":"dotted"}`, true},
		{"both layouts both values", `a.b:(nested and dotted)`, `{"a":{"b":"nested"},"a.b":"dotted"}`, true},
		{"both layouts not", `not a.b:dotted`, `{"a":{"b":"nested"},"a.b":"dotted"}`, false},
		{"both layouts eql not equal", `any where a.b != "nested"`, `{"a.b":"dotted","a":{"b":"nested"}}`, false},
		{"three layouts", `a.b.c:(p and q and r)`, `{"a":{"b":{"c":"p"},"b.c":"q"},"a.b.c":"r"}`, true},
		{"field named like a hit key", `_index:logs`, `{"_index":"logs","_id":"1","_source":{"a":"x"}}`, false},
		{"search hit source", `a.b:x`, `{"_index":"logs","_id":"1","_source":{"a":{"b":"x"}}}`, true},
		{"search hit dotted source", `a.b:x`, `{"_index":"logs","_source":{"a.b":"x"}}`, true},
		{"search hit eql", `process where process.name == "sh"`,
			`{"_index":".ds-logs-cloud_defend.process-default","_source":{"event":{"category":["process"]},"process":{"name":"sh"}}}`, true},
	})
}

// TestMatchArraysAndMissing: a condition holds when any value does; null
// and empty arrays are no value; a missing field satisfies no value test
// but satisfies its negation.
func TestMatchArraysAndMissing(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"array any element", `a:y`, `{"a":["x","y"]}`, true},
		{"array no element", `a:z`, `{"a":["x","y"]}`, false},
		{"array both elements", `a:(x and y)`, `{"a":["x","y"]}`, true},
		{"array not one element", `not a:x`, `{"a":["x","y"]}`, false},
		{"array not other element", `not a:z`, `{"a":["x","y"]}`, true},
		{"array eql not equal", `any where a != "x"`, `{"a":["x","y"]}`, false},
		{"array eql not in", `any where a not in ("x")`, `{"a":["x","y"]}`, false},
		{"array of objects", `a.b:y`, `{"a":[{"b":"x"},{"b":"y"}]}`, true},
		{"array of objects flattened", `a.b:x and a.c:2`, `{"a":[{"b":"x","c":1},{"b":"y","c":2}]}`, true},
		{"array of objects dotted inside", `a.b.c:y`, `{"a":[{"b.c":"x"},{"b":{"c":"y"}}]}`, true},
		{"nested arrays", `a:z`, `{"a":[["x"],["y",["z"]]]}`, true},
		{"nested arrays of objects", `a.b:q`, `{"a":[{"b":["p"]},[{"b":[["q"]]}]]}`, true},
		{"array eql in", `any where a in ("q", "y")`, `{"a":["x","y"]}`, true},
		{"array eql wildcard", `any where a : "Y*"`, `{"a":["x","yes"]}`, true},
		{"array range", `any where a > 10`, `{"a":[1,20]}`, true},
		{"array function", `any where endsWith(a, ".sh")`, `{"a":["/bin/ls","/bin/bash.sh"]}`, true},
		{"array with null", `a:x`, `{"a":[null,"x"]}`, true},

		{"missing term", `a:x`, `{}`, false},
		{"missing not term", `not a:x`, `{}`, true},
		{"missing exists", `a:*`, `{}`, false},
		{"missing not exists", `not a:*`, `{}`, true},
		{"missing wildcard", `a:x*`, `{}`, false},
		{"missing range", `a < 5`, `{}`, false},
		{"missing not range", `not a < 5`, `{}`, true},
		{"missing eql not equal", `any where a != "x"`, `{}`, true},
		{"missing eql not equal number", `any where a != 5`, `{}`, true},
		{"missing eql not of equal", `any where not a == "x"`, `{}`, true},
		{"missing eql equal null", `any where a == null`, `{}`, true},
		{"missing eql not null", `any where a != null`, `{}`, false},
		{"missing optional equal null", `any where ?a == null`, `{}`, true},
		{"missing eql in", `any where a in ("x")`, `{}`, false},
		{"missing eql not in", `any where a not in ("x")`, `{}`, true},
		{"missing eql in with null", `any where a in ("x", null)`, `{}`, true},
		{"missing eql not colon", `any where not a : "x*"`, `{}`, true},
		{"missing eql bare field", `any where a`, `{}`, false},
		{"missing eql not bare field", `any where not a`, `{}`, true},
		// Functions on a field are queries to Elasticsearch; `not` over
		// one is must_not, which holds where the field is missing.
		{"missing function", `any where startsWith(a, "x")`, `{}`, false},
		{"missing not function", `any where not startsWith(a, "x")`, `{}`, true},
		{"missing not endsWith", `any where not endsWith(a, "x")`, `{}`, true},
		{"missing not stringContains", `any where not stringContains~(a, "x")`, `{}`, true},
		{"missing not cidrMatch", `any where not cidrMatch(a, "10.0.0.0/8")`, `{}`, true},
		{"missing double not function", `any where not not startsWith(a, "x")`, `{}`, false},
		{"null not function", `any where not startsWith(a, "x")`, `{"a":null}`, true},
		{"present not function", `any where not startsWith(a, "x")`, `{"a":"yes"}`, true},
		{"present not function matching", `any where not startsWith(a, "x")`, `{"a":"xyz"}`, false},
		{"present double not function", `any where not not startsWith(a, "x")`, `{"a":"xyz"}`, true},

		{"null term", `a:x`, `{"a":null}`, false},
		{"null exists", `a:*`, `{"a":null}`, false},
		{"null eql equal null", `any where a == null`, `{"a":null}`, true},
		{"null eql not null", `any where a != null`, `{"a":null}`, false},
		{"null eql not equal", `any where a != "x"`, `{"a":null}`, true},
		{"empty array exists", `a:*`, `{"a":[]}`, false},
		{"empty array eql equal null", `any where a == null`, `{"a":[]}`, true},
		{"array of null exists", `a:*`, `{"a":[null]}`, false},
		{"array of null and value exists", `a:*`, `{"a":[null,"x"]}`, true},
		{"nested empty arrays exist", `a:*`, `{"a":[[],[null]]}`, false},
		{"empty string exists", `a:*`, `{"a":""}`, true},
		{"empty string equals empty", `a:""`, `{"a":""}`, true},
		{"empty string eql not null", `any where a != null`, `{"a":""}`, true},
		{"zero exists", `a:*`, `{"a":0}`, true},
		{"false exists", `a:*`, `{"a":false}`, true},

		// exists on an object field: any leaf value below it.
		{"object with value exists", `a:*`, `{"a":{"b":1}}`, true},
		{"object with deep value exists", `a:*`, `{"a":{"b":{"c":"x"}}}`, true},
		{"empty object", `a:*`, `{"a":{}}`, false},
		{"object of null", `a:*`, `{"a":{"b":null}}`, false},
		{"object of empty array", `a:*`, `{"a":{"b":[]}}`, false},
		{"object of empty object", `a:*`, `{"a":{"b":{}}}`, false},
		{"object of array of null", `a:*`, `{"a":{"b":[null]}}`, false},
		{"object of nested empties", `a:*`, `{"a":{"b":{"c":[]},"d":[{}]}}`, false},
		{"object eql not null", `any where a != null`, `{"a":{"b":{}}}`, false},
		{"object is not a term", `a:x`, `{"a":{"b":"x"}}`, false},
		{"object is not a wildcard", `a:*x*`, `{"a":{"b":"x"}}`, false},
	})
}

// TestMatchOperators covers each operator's value test: case, wildcards,
// numbers, booleans, ranges, regular expressions and CIDR blocks.
func TestMatchOperators(t *testing.T) {
	runMatchCases(t, []matchCase{
		// KQL and == are exact and case-sensitive.
		{"kql exact", `f:exec`, `{"f":"exec"}`, true},
		{"kql case", `f:Exec`, `{"f":"exec"}`, false},
		{"kql no substring", `f:exec`, `{"f":"exec2"}`, false},
		{"kql inner spaces", `f:hello world`, `{"f":"hello world"}`, true},
		{"kql trimmed value", `f:  hello  `, `{"f":" hello "}`, false},
		{"kql quoted keeps spaces", `f:" hello "`, `{"f":" hello "}`, true},
		{"kql quoted star literal", `f:"a*"`, `{"f":"a*"}`, true},
		{"kql quoted star is not wildcard", `f:"a*"`, `{"f":"abc"}`, false},
		{"kql escaped star literal", `f:a\*`, `{"f":"abc"}`, false},
		{"kql escaped star matches star", `f:a\*`, `{"f":"a*"}`, true},
		{"kql escaped star beside wildcard", `f:a\**`, `{"f":"a*bc"}`, true},
		{"kql escaped star beside wildcard no star", `f:a\**`, `{"f":"abc"}`, false},
		{"eql equal", `any where f == "exec"`, `{"f":"exec"}`, true},
		{"eql equal case", `any where f == "Exec"`, `{"f":"exec"}`, false},
		{"eql equal star literal", `any where f == "ex*"`, `{"f":"exec"}`, false},
		{"eql not equal case", `any where f != "Exec"`, `{"f":"exec"}`, true},

		// : in~ like~ regex~ fold case; in like regex do not.
		{"colon folds", `any where f : "EXEC"`, `{"f":"exec"}`, true},
		{"colon folds value", `any where f : "exec"`, `{"f":"EXEC"}`, true},
		{"colon exact length", `any where f : "exe"`, `{"f":"exec"}`, false},
		{"colon wildcard folds", `any where f : "EX*"`, `{"f":"exec"}`, true},
		{"colon list", `any where f : ("x", "*EC")`, `{"f":"exec"}`, true},
		{"in case-sensitive", `any where f in ("EXEC")`, `{"f":"exec"}`, false},
		{"in exact", `any where f in ("x", "exec")`, `{"f":"exec"}`, true},
		{"in insensitive", `any where f in~ ("x", "EXEC")`, `{"f":"exec"}`, true},
		{"in keeps star literal", `any where f in~ ("e*")`, `{"f":"exec"}`, false},
		{"not in insensitive", `any where f not in~ ("EXEC")`, `{"f":"exec"}`, false},
		{"like case-sensitive", `any where f like "EX*"`, `{"f":"exec"}`, false},
		{"like", `any where f like "ex*"`, `{"f":"exec"}`, true},
		{"like insensitive", `any where f like~ "EX*"`, `{"f":"exec"}`, true},
		{"regex case-sensitive", `any where f regex "EX.*"`, `{"f":"exec"}`, false},
		{"regex insensitive", `any where f regex~ "EX.*"`, `{"f":"exec"}`, true},
		{"kql wildcard case-sensitive", `f:EX*`, `{"f":"exec"}`, false},
		{"startsWith case-sensitive", `any where startsWith(f, "EX")`, `{"f":"exec"}`, false},
		{"startsWith insensitive", `any where startsWith~(f, "EX")`, `{"f":"exec"}`, true},
		{"endsWith", `any where endsWith(f, "ec")`, `{"f":"exec"}`, true},
		{"endsWith insensitive", `any where endsWith~(f, "EC")`, `{"f":"exec"}`, true},
		{"endsWith no", `any where endsWith(f, "ex")`, `{"f":"exec"}`, false},
		{"stringContains", `any where stringContains(f, "xe")`, `{"f":"exec"}`, true},
		{"stringContains case-sensitive", `any where stringContains(f, "XE")`, `{"f":"exec"}`, false},
		{"stringContains insensitive", `any where stringContains~(f, "XE")`, `{"f":"exec"}`, true},
		{"function second needle", `any where startsWith(f, "x", "ex")`, `{"f":"exec"}`, true},
		// Elasticsearch's case_insensitive term and wildcard queries fold
		// ASCII letters only.
		{"colon ascii fold only", `any where f : "ÉTÉ"`, `{"f":"été"}`, false},
		{"colon ascii part folds", `any where f : "CAFÉ"`, `{"f":"cafÉ"}`, true},
		{"in insensitive ascii fold only", `any where f in~ ("ÉTÉ")`, `{"f":"été"}`, false},
		{"like insensitive ascii fold only", `any where f like~ "É*"`, `{"f":"école"}`, false},
		{"colon kelvin sign is not k", `any where f : "kubectl"`, `{"f":"\u212aubectl"}`, false},
		{"colon dotted capital i is not i", `any where f : "id"`, `{"f":"\u0130d"}`, false},
		// The string functions lower-case with Java's toLowerCase.
		// The ~ functions fold ASCII letters only, as Elasticsearch's
		// case-insensitive prefix and wildcard queries do.
		{"startsWith insensitive unicode", `any where startsWith~(f, "ÉC")`, `{"f":"école"}`, false},
		{"startsWith insensitive ascii in unicode", `any where startsWith~(f, "ÉCOLE")`, `{"f":"Écolé"}`, false},
		{"startsWith insensitive ascii letters", `any where startsWith~(f, "ÉCOLE")`, `{"f":"École"}`, true},
		{"stringContains insensitive kelvin", `any where stringContains~(f, "kubectl")`, "{\"f\":\"\u212aubectl\"}", false},

		// Wildcards.
		{"star matches all", `f:a*`, `{"f":"a"}`, true},
		{"star multi", `f:a*b*c`, `{"f":"aXbYc"}`, true},
		{"star multi empty runs", `f:a*b*c`, `{"f":"abc"}`, true},
		{"star multi order", `f:a*b*c`, `{"f":"acb"}`, false},
		{"star multi anchored end", `f:a*b*c`, `{"f":"aXbYcZ"}`, false},
		{"star multi backtrack", `f:*ab*abc`, `{"f":"xabyababc"}`, true},
		{"star anchored start", `f:b*`, `{"f":"abc"}`, false},
		{"kql question literal", `f:a?c*`, `{"f":"abcd"}`, false},
		{"kql question literal matches", `f:a?c*`, `{"f":"a?cd"}`, true},
		{"eql question one char", `any where f : "a?c"`, `{"f":"abc"}`, true},
		{"eql question not zero", `any where f : "a?c"`, `{"f":"ac"}`, false},
		{"eql question not two", `any where f : "a?c"`, `{"f":"abbc"}`, false},
		{"eql question one rune", `any where f like "a?c"`, `{"f":"aéc"}`, true},
		{"eql question astral rune", `any where f like "a?c"`, `{"f":"a😀c"}`, true},
		{"eql like star only", `any where f like "*"`, `{"f":""}`, true},
		{"eql like no wildcard exact", `any where f like "abc"`, `{"f":"abcd"}`, false},
		{"unicode wildcard", `f:é*`, `{"f":"été"}`, true},
		{"unicode wildcard middle", `f:*😀*`, `{"f":"a😀b"}`, true},
		{"backslash literal in like", `any where f : "*\\system32\\*"`, `{"f":"C:\\Windows\\System32\\cmd.exe"}`, true},

		// Numbers: numerically equal spellings match.
		{"kql number", `f:101`, `{"f":101}`, true},
		{"kql number string", `f:101`, `{"f":"101"}`, true},
		{"kql number float", `f:101`, `{"f":101.0}`, true},
		{"kql number exponent", `f:101`, `{"f":1.01e2}`, true},
		{"kql number other", `f:101`, `{"f":102}`, false},
		{"kql quoted number", `f:"101"`, `{"f":101}`, true},
		{"eql number", `any where f == 101`, `{"f":101.0}`, true},
		{"eql number string doc", `any where f == 101`, `{"f":"101"}`, true},
		{"eql string number doc", `any where f == "101"`, `{"f":101}`, true},
		{"eql fraction", `any where f == 101.5`, `{"f":101}`, false},
		{"eql negative", `any where f == -3`, `{"f":-3}`, true},
		{"eql in numbers", `any where f in (1, 2, 3)`, `{"f":2.0}`, true},
		{"number is not text", `f:abc`, `{"f":101}`, false},
		// Integers past 2^53 compare exactly, as a long field does; a
		// double cannot tell these two apart.
		{"long exact", `f:9007199254740993`, `{"f":9007199254740993}`, true},
		{"long not the next", `f:9007199254740993`, `{"f":9007199254740992}`, false},
		{"long string doc", `f:9007199254740993`, `{"f":"9007199254740992"}`, false},
		{"long range", `f > 9007199254740992`, `{"f":9007199254740993}`, true},
		{"long range equal", `f >= 9007199254740993`, `{"f":9007199254740992}`, false},
		{"eql long", `any where f == 9007199254740993`, `{"f":9007199254740992}`, false},
		{"long as a double still", `f:9007199254740992`, `{"f":9007199254740992.0}`, true},

		// Identifiers are keywords in ECS: their text is compared.
		{"keyword id number", `user.id:1000`, `{"user":{"id":1000}}`, true},
		{"keyword id string", `user.id:1000`, `{"user":{"id":"1000"}}`, true},
		{"keyword id leading zero", `user.id:1000`, `{"user":{"id":"01000"}}`, false},
		{"keyword id float", `user.id:1000`, `{"user":{"id":1000.0}}`, false},
		{"keyword id eql", `any where process.user.id == 0`, `{"process":{"user":{"id":"0"}}}`, true},
		{"keyword id eql float", `any where process.user.id == 0`, `{"process":{"user":{"id":0.0}}}`, false},
		{"keyword range bytes", `user.id > 999`, `{"user":{"id":"1000"}}`, false},
		{"keyword range bytes number", `user.id < 999`, `{"user":{"id":1000}}`, true},
		{"keyword event.code", `event.code:4624`, `{"event":{"code":"04624"}}`, false},
		{"thread id is a number", `process.thread.id:7`, `{"process":{"thread":{"id":7.0}}}`, true},
		{"status code is a number", `kubernetes.audit.responseStatus.code:403`, `{"kubernetes":{"audit":{"responseStatus":{"code":403.0}}}}`, true},

		// Booleans: JSON true and the string "true" are the same value.
		{"kql true", `f:true`, `{"f":true}`, true},
		{"kql true string", `f:true`, `{"f":"true"}`, true},
		{"kql quoted true", `f:"true"`, `{"f":true}`, true},
		{"kql true vs false", `f:true`, `{"f":false}`, false},
		{"kql false", `f:false`, `{"f":false}`, true},
		{"kql true vs number", `f:true`, `{"f":1}`, false},
		{"eql true", `any where f == true`, `{"f":true}`, true},
		{"eql true string", `any where f == true`, `{"f":"true"}`, true},
		{"eql false", `any where f == false`, `{"f":false}`, true},
		{"eql false string", `any where f == false`, `{"f":"false"}`, true},
		{"eql true vs false", `any where f == true`, `{"f":false}`, false},
		{"eql true vs one", `any where f == true`, `{"f":1}`, false},
		{"eql bare field", `any where f`, `{"f":true}`, true},
		{"eql bare field false", `any where f`, `{"f":false}`, false},
		{"eql bare field string", `any where f`, `{"f":"true"}`, true},
		{"eql not true on false", `any where f != true`, `{"f":false}`, true},

		// Ranges.
		{"range number", `f > 5`, `{"f":10}`, true},
		{"range number string doc", `f > 5`, `{"f":"10"}`, true},
		{"range number not lexicographic", `f < 10`, `{"f":9}`, true},
		{"range number string not lexicographic", `f < 10`, `{"f":"9"}`, true},
		{"range number equal", `f > 5`, `{"f":5}`, false},
		{"range number or equal", `f >= 5`, `{"f":5.0}`, true},
		{"range less or equal", `f <= 10`, `{"f":10}`, true},
		{"range negative", `any where f < -1`, `{"f":-2}`, true},
		{"range eql decimal", `any where f > 0.5`, `{"f":1}`, true},
		{"range string", `f > b`, `{"f":"c"}`, true},
		{"range string equal", `f > b`, `{"f":"b"}`, false},
		{"range string case", `f > b`, `{"f":"B"}`, false},
		{"range string or equal", `any where f >= "b"`, `{"f":"b"}`, true},
		{"range boolean", `f > 0`, `{"f":true}`, false},
		{"range object", `f > 0`, `{"f":{"g":1}}`, false},
		{"range timestamp", `@timestamp >= "2024-01-01T00:00:00Z"`, `{"@timestamp":"2024-01-01T00:00:00.5Z"}`, true},
		// Compared as instants, not as text: 01:00+02:00 is 23:00 the day before.
		{"range timestamp zone", `@timestamp >= "2024-01-01T00:00:00Z"`, `{"@timestamp":"2024-01-01T01:00:00+02:00"}`, false},
		{"range timestamp zone later", `@timestamp < "2024-01-01T00:00:00+01:00"`, `{"@timestamp":"2023-12-31T23:30:00Z"}`, false},
		{"range date", `@timestamp < 2024-01-02`, `{"@timestamp":"2024-01-01T23:59:59Z"}`, true},
		{"range date after", `@timestamp < 2024-01-02`, `{"@timestamp":"2024-01-02T00:00:01Z"}`, false},
		{"range pair", `f >= 1 and f < 10`, `{"f":10}`, false},

		// Regular expressions: Lucene syntax, anchored at both ends.
		{"regex anchored", `any where f regex "ab"`, `{"f":"xaby"}`, false},
		{"regex contains idiom", `any where f regex ".*ab.*"`, `{"f":"xaby"}`, true},
		{"regex alternation", `any where f regex "a|b"`, `{"f":"b"}`, true},
		{"regex alternation anchored", `any where f regex "a|b"`, `{"f":"ab"}`, false},
		{"regex caret literal", `any where f regex "^a$"`, `{"f":"a"}`, false},
		{"regex caret literal matches", `any where f regex "^a$"`, `{"f":"^a$"}`, true},
		{"regex dot newline", `any where f regex "a.c"`, `{"f":"a\nc"}`, true},
		{"regex class", `any where f regex "[0-9]+"`, `{"f":"123"}`, true},
		{"regex negated class", `any where f regex "[^0-9]+"`, `{"f":"12a"}`, false},
		{"regex escaped dot", `any where f regex "a\\.b"`, `{"f":"axb"}`, false},
		{"regex escaped dot matches", `any where f regex "a\\.b"`, `{"f":"a.b"}`, true},
		{"regex repetition", `any where f regex "a{2,3}"`, `{"f":"aaa"}`, true},
		{"regex list", `any where f regex ("x", "e.*")`, `{"f":"exec"}`, true},
		// Lucene has no (?flags) group: `(?i)` is a group holding a literal
		// ? and i, not a flag.
		{"regex no inline flags", `any where f regex "(?i)abc"`, `{"f":"ABC"}`, false},
		{"regex leading question literal", `any where f regex "(?i)abc"`, `{"f":"?iabc"}`, true},
		{"regex leading star literal", `any where f regex "*a"`, `{"f":"*a"}`, true},

		// CIDR blocks.
		{"cidr v4", `any where cidrMatch(ip, "10.0.0.0/8")`, `{"ip":"10.1.2.3"}`, true},
		{"cidr v4 outside", `any where cidrMatch(ip, "10.0.0.0/8")`, `{"ip":"11.0.0.1"}`, false},
		{"cidr v4 unmasked block", `any where cidrMatch(ip, "10.1.2.3/16")`, `{"ip":"10.1.200.1"}`, true},
		{"cidr v4 mapped v6", `any where cidrMatch(ip, "10.0.0.0/8")`, `{"ip":"::ffff:10.0.0.1"}`, true},
		{"cidr v6", `any where cidrMatch(ip, "2001:db8::/32")`, `{"ip":"2001:db8::1"}`, true},
		{"cidr v6 outside", `any where cidrMatch(ip, "2001:db8::/32")`, `{"ip":"2001:db9::1"}`, false},
		{"cidr single ip", `any where cidrMatch(ip, "192.168.1.1")`, `{"ip":"192.168.1.1"}`, true},
		{"cidr single ip other", `any where cidrMatch(ip, "192.168.1.1")`, `{"ip":"192.168.1.2"}`, false},
		{"cidr list", `any where cidrMatch(ip, "10.0.0.0/8", "192.168.0.0/16")`, `{"ip":"192.168.7.7"}`, true},
		{"cidr array", `any where cidrMatch(ip, "10.0.0.0/8")`, `{"ip":["1.1.1.1","10.0.0.5"]}`, true},
		{"cidr not an ip", `any where cidrMatch(ip, "10.0.0.0/8")`, `{"ip":"10.0.0.0.1"}`, false},
		{"cidr number", `any where cidrMatch(ip, "10.0.0.0/8")`, `{"ip":10}`, false},

		// Categories.
		{"category", `process where true`, `{"event":{"category":"process"}}`, true},
		{"category array", `process where true`, `{"event":{"category":["network","process"]}}`, true},
		{"category dotted", `process where true`, `{"event.category":["process"]}`, true},
		{"category case-sensitive", `process where true`, `{"event":{"category":"Process"}}`, false},
		{"category missing", `process where true`, `{"process":{"name":"sh"}}`, false},
		{"category other", `process where true`, `{"event":{"category":["network"]}}`, false},
		{"any without category", `any where true`, `{}`, true},
		{"quoted category", `"my-cat" where true`, `{"event":{"category":"my-cat"}}`, true},
		{"empty kql matches all", ``, `{}`, true},
		{"eql false", `any where false`, `{}`, false},
	})
}

// TestMatchJSONEscapes: document values are compared decoded, whatever
// escapes the writer used.
func TestMatchJSONEscapes(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"unicode escape", `f:exec`, `{"f":"\u0065xec"}`, true},
		{"unicode escape upper hex", `any where f == "exec"`, `{"f":"\u0065\u0078\u0045C"}`, false},
		{"unicode escape folded", `any where f : "exec"`, `{"f":"\u0065\u0078\u0045C"}`, true},
		{"escaped slash", `f:"a/b"`, `{"f":"a\/b"}`, true},
		{"escaped ampersand", `f:*&*`, `{"f":"a\u0026b"}`, true},
		{"escaped quote", `any where f == "say \"hi\""`, `{"f":"say \"hi\""}`, true},
		{"escaped backslash", `any where f == "C:\\x"`, `{"f":"C:\\x"}`, true},
		{"surrogate pair", `any where f == "😀"`, `{"f":"\ud83d\ude00"}`, true},
		{"escaped key", `a.b:x`, `{"\u0061":{"b":"x"}}`, true},
		{"escaped newline", `any where f == "a\nb"`, `{"f":"a\nb"}`, true},
	})
}

// Raw audit events exposed the way Elastic's kubernetes.audit_logs
// integration would have indexed them.
const (
	rawExecCreate = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e0f9b71b-c59b-40cb-84d7-cb2ffadf15e6","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/shop/pods/api-7d9f-m8wzr/exec?command=%2Fbin%2Fsh\u0026container=api\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"create","user":{"username":"erin@example.com","uid":"u-1","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.40","10.0.0.7"],"userAgent":"kubectl/v1.29.6 (linux/amd64) kubernetes/b37a2e1","objectRef":{"resource":"pods","namespace":"shop","name":"api-7d9f-m8wzr","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-11-20T10:41:07.112043Z","stageTimestamp":"2026-11-20T10:41:07.160199Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"sre-admin\" of ClusterRole \"cluster-admin\" to Group \"sre\""}}`
	// Keys in another order, no apiVersion prefix match: recognised by kind
	// and apiVersion anywhere in the object.
	rawReordered = `{"auditID":"a1","stage":"ResponseComplete","kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","user":{"username":""},"sourceIPs":[],"objectRef":{"resource":"pods","namespace":"","subresource":"log"},"annotations":{"authorization.k8s.io/decision":"forbid"}}`
)

func TestMatchRawAudit(t *testing.T) {
	if _, shape := scan.Adapt([]byte(rawExecCreate)); shape != scan.ShapeRawAudit {
		t.Fatalf("rawExecCreate adapted as %s", shape)
	}
	if _, shape := scan.Adapt([]byte(rawReordered)); shape != scan.ShapeRawAudit {
		t.Fatalf("rawReordered adapted as %s", shape)
	}
	runMatchCases(t, []matchCase{
		{"dataset supplied", `event.dataset:"kubernetes.audit_logs"`, rawExecCreate, true},
		{"dataset supplied eql", `any where event.dataset == "kubernetes.audit_logs"`, rawExecCreate, true},
		{"raw field", `kubernetes.audit.verb:create`, rawExecCreate, true},
		{"raw field case", `kubernetes.audit.verb:Create`, rawExecCreate, false},
		{"raw nested field", `kubernetes.audit.objectRef.subresource:exec`, rawExecCreate, true},
		{"raw number", `kubernetes.audit.responseStatus.code:101`, rawExecCreate, true},
		{"raw array", `kubernetes.audit.user.groups:sre`, rawExecCreate, true},
		{"raw field is not top level", `verb:create`, rawExecCreate, false},
		{"annotation dedotted", `kubernetes.audit.annotations.authorization_k8s_io/decision:allow`, rawExecCreate, true},
		{"annotation dotted is not indexed", `kubernetes.audit.annotations.authorization.k8s.io/decision:allow`, rawExecCreate, false},
		{"annotation reason wildcard", `kubernetes.audit.annotations.authorization_k8s_io/reason:*cluster-admin*`, rawExecCreate, true},
		{"annotation eql", "any where `kubernetes.audit.annotations.authorization_k8s_io/decision` : \"ALLOW\"", rawExecCreate, true},
		{"user.name", `user.name:"erin@example.com"`, rawExecCreate, true},
		{"user.id", `user.id:u-1`, rawExecCreate, true},
		{"source.ip first", `source.ip:"203.0.113.40"`, rawExecCreate, true},
		{"source.ip second", `source.ip:"10.0.0.7"`, rawExecCreate, true},
		{"source.ip cidr", `any where cidrMatch(source.ip, "203.0.113.0/24")`, rawExecCreate, true},
		{"event.action", `event.action:create`, rawExecCreate, true},
		{"event.outcome", `event.outcome:success`, rawExecCreate, true},
		{"user_agent.original", `user_agent.original:kubectl*`, rawExecCreate, true},
		{"orchestrator.namespace", `orchestrator.namespace:shop`, rawExecCreate, true},
		{"escaped ampersand in requestURI", `kubernetes.audit.requestURI:*&tty=true`, rawExecCreate, true},
		{"unknown top-level ECS field", `host.name:*`, rawExecCreate, false},
		{"reordered keys", `kubernetes.audit.verb:get and kubernetes.audit.objectRef.subresource:log`, rawReordered, true},
		{"forbid outcome", `event.outcome:failure`, rawReordered, true},
		{"forbid decision", `kubernetes.audit.annotations.authorization_k8s_io/decision:allow`, rawReordered, false},
		// The ingest pipeline drops empty values.
		{"empty string missing", `kubernetes.audit.objectRef.namespace:*`, rawReordered, false},
		{"empty string not equal", `any where kubernetes.audit.objectRef.namespace == null`, rawReordered, true},
		{"empty username missing", `user.name:*`, rawReordered, false},
		{"empty source ips missing", `source.ip:*`, rawReordered, false},
		{"dataset on reordered", `event.dataset:"kubernetes.audit_logs"`, rawReordered, true},
	})
}

// TestFieldHelpers checks First and Strings on real documents.
func TestFieldHelpers(t *testing.T) {
	doc := adapt(`{"a":{"b":["x",2,true,null,{"c":1}]},"a.b":"y"}`)
	f := rules.NewField("a.b")
	got := rules.Strings(doc, f)
	want := []string{"x", "2", "true", "y"}
	if len(got) != len(want) {
		t.Fatalf("Strings = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Strings = %q, want %q", got, want)
		}
	}
	if v := rules.First(doc, f); v.Type != gjson.String || v.Str != "x" {
		t.Errorf("First = %v, want \"x\"", v)
	}
	if v := rules.First(doc, rules.NewField("missing")); v.Exists() {
		t.Errorf("First(missing) = %v, want no value", v)
	}
	if s := rules.Strings(doc, rules.NewField("missing")); len(s) != 0 {
		t.Errorf("Strings(missing) = %q, want none", s)
	}
	if f := rules.NewField("a.b.c"); len(f.Segments) != 3 || f.Segments[2] != "c" || f.Name != "a.b.c" {
		t.Errorf("NewField = %+v", f)
	}
}

// nestedDoc reads another field with First inside its own Any, as a
// document computing a field from others may.
type nestedDoc struct{ inner rules.Document }

func (d nestedDoc) Any(f *rules.Field, test func(gjson.Result) bool) bool {
	v := rules.First(d.inner, rules.NewField("b"))
	return test(gjson.Result{Type: gjson.String, Str: f.Name + "=" + v.Str})
}

// staticDoc has one value for every field and allocates nothing.
type staticDoc struct{ v gjson.Result }

func (d *staticDoc) Any(_ *rules.Field, test func(gjson.Result) bool) bool { return test(d.v) }

// TestFirstReuse checks that First's reused test keeps calls apart, when
// one runs inside another, and that it allocates nothing itself.
func TestFirstReuse(t *testing.T) {
	doc := nestedDoc{inner: adapt(`{"b":"inner"}`)}
	if v := rules.First(doc, rules.NewField("a")); v.Str != "a=inner" {
		t.Errorf("nested First = %q, want a=inner", v.Str)
	}
	if v := rules.First(adapt(`{"b":"x"}`), rules.NewField("missing")); v.Exists() {
		t.Errorf("First after a hit kept %v", v)
	}
	d, f := &staticDoc{v: gjson.Result{Type: gjson.String, Str: "s"}}, rules.NewField("a")
	if n := testing.AllocsPerRun(100, func() { rules.First(d, f) }); n != 0 {
		t.Errorf("First allocates %v times per call", n)
	}
}

func TestCompileErrors(t *testing.T) {
	f := rules.NewField("f")
	tests := []struct {
		name string
		expr rules.Expr
	}{
		{"nil", nil},
		{"invalid regex", &rules.Pred{Field: f, Op: rules.OpRegex, Regexps: []string{"["}}},
		{"unsupported regex", &rules.Pred{Field: f, Op: rules.OpRegex, Regexps: []string{`\d`}}},
		{"invalid cidr", &rules.Pred{Field: f, Op: rules.OpCIDR, Values: []rules.Literal{rules.StringLit("nope")}}},
		{"unknown operator", &rules.Pred{Field: f, Op: rules.Op(99)}},
		{"error inside and", &rules.And{X: []rules.Expr{rules.Const(true), &rules.Pred{Field: f, Op: rules.Op(99)}}}},
		{"error inside or", &rules.Or{X: []rules.Expr{&rules.Pred{Field: f, Op: rules.OpRegex, Regexps: []string{"("}}}}},
		{"error inside not", &rules.Not{X: &rules.Pred{Field: f, Op: rules.Op(99)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, err := rules.Compile(tt.expr); err == nil {
				t.Errorf("Compile(%v) = %v, want an error", tt.expr, m)
			}
		})
	}
	if got := rules.Op(99).String(); got != "op(99)" {
		t.Errorf("Op(99).String() = %q", got)
	}
	if got := (rules.Literal{Kind: rules.LitNull}).String(); got != "null" {
		t.Errorf("null literal prints %q", got)
	}
	if lit := rules.StringLit("0x10"); lit.IsNum {
		t.Errorf("StringLit(0x10) is numeric")
	}
	if lit := rules.StringLit("Inf"); lit.IsNum {
		t.Errorf("StringLit(Inf) is numeric")
	}
	if lit := rules.StringLit("-1.5e3"); !lit.IsNum || lit.Num != -1500 {
		t.Errorf("StringLit(-1.5e3) = %+v", lit)
	}
}

// A term or range on an ip field takes an address (or, for terms, a CIDR
// block); Elasticsearch fails any other query value, and so does Compile,
// naming the field. Other operators keep their keyword meaning.
func TestIPFieldQueryValues(t *testing.T) {
	checkTypedField(t, "is an ip field", []string{
		`source.ip:"foo"`,
		`source.ip:(10.0.0.1 or localhost)`,
		`any where destination.ip in ("10.0.0.1", "10.0.0.300")`,
		`source.ip > "10.0.0.0/8"`,
		`any where source.ip >= 7`,
		`source.ip:"::ffff:10.0.0.0/104"`,
		`source.ip:"10.0.0.0/33"`,
		`source.ip:"10.0.0.0/+8"`,
	}, []typedCase{
		{`source.ip:"::ffff:10.0.0.0/8"`, `{"source":{"ip":"10.9.8.7"}}`, true},
		{`source.ip:"::ffff:10.0.0.0/8"`, `{"source":{"ip":"11.9.8.7"}}`, false},
		{`source.ip:"10.0.0.0/0"`, `{"source":{"ip":"11.9.8.7"}}`, true},
		{`source.ip:"10.0.0.0/0"`, `{"source":{"ip":"2001:db8::1"}}`, false},
		{`source.ip:"10.0.0.7"`, `{"source":{"ip":"::ffff:10.0.0.7"}}`, true},
		{`source.ip:10.0.*`, `{"source":{"ip":"10.0.3.4"}}`, true},
		{`source.ip:*`, `{"source":{"ip":"unknown"}}`, false},
		{`not source.ip:*`, `{"source":{"ip":"unknown"}}`, true},
		{`source.ip:*`, `{"source":{"ip":["unknown","fe80::1"]}}`, true},
		{`source.ip:*`, `{"source":{"ip":"fe80::1%eth0"}}`, false},
		{`any where startsWith(source.ip, "10.")`, `{"source":{"ip":"10.1.1.1"}}`, true},
		{`user.name:"10.0.0.0/8"`, `{"user":{"name":"10.0.0.0/8"}}`, true},
		{`user.name:"10.0.0.0/8"`, `{"user":{"name":"10.1.2.3"}}`, false},
	})
}

// A term or range on a date field takes a date (or epoch milliseconds);
// Elasticsearch fails any other value, and date math needs a clock this
// offline reading does not use. Other operators keep their keyword meaning.
func TestDateFieldQueryValues(t *testing.T) {
	checkTypedField(t, "is a date field", []string{
		`@timestamp:"yesterday"`,
		`@timestamp >= "now-1d"`,
		`any where @timestamp < "2026-11-20||+1d"`,
		`any where kubernetes.audit.stageTimestamp in ("2026-11-20", "2026-11-32")`,
		`event.created > true`,
	}, []typedCase{
		{`@timestamp:"2026-11-20T09:41:07.160Z"`, `{"@timestamp":"2026-11-20T09:41:07.160199Z"}`, true},
		{`@timestamp:"2026-11-20T09:41:07Z"`, `{"@timestamp":"2026-11-20T09:41:07.999Z"}`, true},
		{`@timestamp:"2026-11-20T09:41:07Z"`, `{"@timestamp":"2026-11-20T09:41:08Z"}`, false},
		{`@timestamp:*`, `{"@timestamp":"n/a"}`, false},
		{`not @timestamp:*`, `{"@timestamp":"n/a"}`, true},
		{`@timestamp > 1795176000000`, `{"@timestamp":"2026-11-20T12:00:00.001Z"}`, true},
		{`@timestamp:2026-11-2*`, `{"@timestamp":"2026-11-21T00:00:00Z"}`, true},
		{`any where startsWith(@timestamp, "2026-11")`, `{"@timestamp":"2026-11-21T00:00:00Z"}`, true},
	})
}

type typedCase struct {
	query, doc string
	want       bool
}

// checkTypedField requires each of bad to fail to compile with an error
// saying why, and each case's query to give its answer on its document.
func checkTypedField(t *testing.T, why string, bad []string, cases []typedCase) {
	t.Helper()
	for _, q := range bad {
		e, _, err := rules.ParseQuery(q)
		if err != nil {
			t.Fatalf("parse %q: %v", q, err)
		}
		if _, err := rules.Compile(e); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("Compile(%q) = %v, want an error saying it %s", q, err, why)
		}
	}
	for _, c := range cases {
		_, m := compileQuery(t, c.query)
		if got := m.Match(jsonDoc{gjson.Parse(c.doc)}); got != c.want {
			t.Errorf("%s on %s = %v, want %v", c.query, c.doc, got, c.want)
		}
	}
}
