package scan

import "testing"

func TestCRILine(t *testing.T) {
	tests := []struct {
		line    string
		content string
		partial bool
		ok      bool
	}{
		{"2026-11-20T09:41:07.160199123Z stdout F {}", "{}", false, true},
		{"2026-11-20T09:41:07.160199123Z stderr P {\"a\":", "{\"a\":", true, true},
		{"2026-11-20T09:41:07Z stdout F x", "x", false, true},
		{"2026-11-20T10:41:07.1+01:00 stdout F x", "x", false, true},
		{"2026-11-20T04:11:07.1-05:30 stdout F x", "x", false, true},
		{"2026-11-20T09:41:07Z stdout F:future:flags x y", "x y", false, true},
		{"2026-11-20T09:41:07Z stdout F", "", false, true},
		{"2026-11-20T09:41:07Z stdout F  {}", " {}", false, true}, // the output keeps its own spaces
		{"2026-11-20T09:41:07Z stdout X {}", "", false, false},
		{"2026-11-20T09:41:07Z stdout {}", "", false, false},
		{"2026-11-20T09:41:07Z stdin F {}", "", false, false},
		{"2026-11-20T09:41:07Z  stdout F {}", "", false, false},
		{"2026-11-20T09:41:07 stdout F {}", "", false, false},   // no zone
		{"2026-11-20T09:41:07.Z stdout F {}", "", false, false}, // no fraction digits
		{"2026-11-20T09:41:07+0100 stdout F {}", "", false, false},
		{"2026-11-20 09:41:07Z stdout F {}", "", false, false},
		{"2026-1-20T09:41:07Z stdout F {}", "", false, false},
		{"1 stdout F {}", "", false, false},
		{"", "", false, false},
	}
	for _, tc := range tests {
		content, partial, ok := criLine([]byte(tc.line))
		if string(content) != tc.content || partial != tc.partial || ok != tc.ok {
			t.Errorf("criLine(%q) = %q, %v, %v; want %q, %v, %v", tc.line, content, partial, ok, tc.content, tc.partial, tc.ok)
		}
	}
}
