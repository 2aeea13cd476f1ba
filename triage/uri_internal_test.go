package triage

import (
	"strings"
	"testing"
)

// TestStreamFlags: the tty, stdin, stdout and stderr parameters of an exec
// URI are read as kube-apiserver reads them, so "True" is a TTY and only
// the first of repeated values counts.
func TestStreamFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query string // the flag's part of the query; {flag} is the parameter name
		want  bool
	}{
		{"absent", "", false},
		{"true", "{flag}=true", true},
		{"True", "{flag}=True", true},
		{"TRUE", "{flag}=TRUE", true},
		{"1", "{flag}=1", true},
		{"yes", "{flag}=yes", true},
		{"on", "{flag}=on", true},
		{"empty value", "{flag}=", true},
		{"bare key", "{flag}", true},
		{"0", "{flag}=0", false},
		{"false", "{flag}=false", false},
		{"FALSE", "{flag}=FALSE", false},
		{"False", "{flag}=False", false},
		{"first value false", "{flag}=false&{flag}=true", false},
		{"first value true", "{flag}=true&{flag}=0", true},
		{"percent-encoded true", "{flag}=%74rue", true},
		{"percent-encoded false", "{flag}=%66alse", false},
		{"trailing space is no false", "{flag}=false+", true},
		{"other parameter only", "x{flag}=false", false},
	} {
		for _, flag := range []string{"tty", "stdin", "stdout", "stderr"} {
			t.Run(tc.name+"/"+flag, func(t *testing.T) {
				uri := "/api/v1/namespaces/n/pods/p/exec?command=sh&" + strings.ReplaceAll(tc.query, "{flag}", flag) + "&container=c"
				req, ok := parseExecURI(uri)
				if !ok {
					t.Fatalf("%s: not decoded", uri)
				}
				got := map[string]bool{"tty": req.TTY, "stdin": req.Stdin, "stdout": req.Stdout, "stderr": req.Stderr}
				for name, v := range got {
					if want := name == flag && tc.want; v != want {
						t.Errorf("%s: %s = %v, want %v", uri, name, v, want)
					}
				}
				if len(req.Args) != 1 || req.Args[0] != "sh" || req.Container != "c" {
					t.Errorf("%s: command %q container %q", uri, req.Args, req.Container)
				}
			})
		}
	}
}
