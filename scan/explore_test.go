package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

func TestExplore(t *testing.T) {
	rs, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		fmt.Println(i, r.ID, r.Name)
	}
	var files []string
	filepath.Walk("../testdata", func(p string, info os.FileInfo, err error) error {
		if !info.IsDir() && filepath.Ext(p) != ".md" {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		res, err := Scan(context.Background(), []Input{{Name: f}}, Options{Rules: rs})
		if err != nil {
			t.Fatal(err)
		}
		st := res.Inputs[0]
		fmt.Printf("%s: lines=%d blank=%d events=%d parsed=%d malformed=%d overlong=%d comp=%q err=%v shapes=%v\n", f, st.Lines, st.Blank, st.Events, st.Parsed, st.Malformed, st.Overlong, st.Compression, st.Err, st.Shapes)
		for _, e := range res.Events {
			fmt.Printf("   line %d rules %v\n", e.Line, e.Rules)
		}
		for _, p := range res.Problems {
			fmt.Printf("   problem line %d: %s\n", p.Line, p.Reason)
		}
	}
}
