package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrappedExportsGiveTheSameFindings: whatever shape an export of the
// same audit events takes (EventList, JSON array, pretty-printed JSON,
// Elasticsearch hits or search response, EKS CloudWatch, Logs Insights or
// subscription payloads, AKS diagnostic records), the findings are those of
// the raw log, down to the bytes, once the locations are set aside.
func TestWrappedExportsGiveTheSameFindings(t *testing.T) {
	files, err := filepath.Glob("../testdata/wrapped/*")
	if err != nil {
		t.Fatal(err)
	}
	want := findingsWithoutPlaces(t, "../testdata/wrapped/base.log")
	if !strings.Contains(want, `"audit_id":"7c1e4b9a-3f52-4d8e-a6b1-2e9d0f4c7a35"`) {
		t.Fatalf("base.log findings look wrong:\n%s", want)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "gke_") || name == "base.log" {
			continue // GKE records less; TestGKEFindings covers it
		}
		t.Run(name, func(t *testing.T) {
			if got := findingsWithoutPlaces(t, f); got != want {
				t.Errorf("findings differ from base.log:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// findingsWithoutPlaces scans one file and returns its findings as JSON
// with evidence and context left out.
func findingsWithoutPlaces(t *testing.T, path string) string {
	t.Helper()
	out, errOut, code := run(t, nil, "scan", "--format", "json", "--guide", "none", path)
	if code != ExitFindings {
		t.Fatalf("%s: exit %d\n%s", path, code, errOut)
	}
	var doc struct {
		Findings []map[string]json.RawMessage `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Findings {
		delete(f, "evidence")
		delete(f, "context")
		delete(f, "guidance")
	}
	b, err := json.Marshal(doc.Findings)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGKEFindings: GKE entries give one finding per exec request, with who,
// where and the command from GKE's own fields, and say what GKE leaves out.
func TestGKEFindings(t *testing.T) {
	for _, file := range []string{"gke_lines.ndjson", "gke_array.json"} {
		t.Run(file, func(t *testing.T) {
			out, errOut, code := run(t, nil, "scan", "--format", "json", "../testdata/wrapped/"+file)
			if code != ExitFindings {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			r := parseReport(t, out)
			// A, B and C; D's refused exec is the denied-exec rule's.
			if len(r.Findings) != 4 {
				t.Fatalf("%d findings, want 4", len(r.Findings))
			}
			byUser := map[string]jsonFinding{}
			for _, f := range r.Findings {
				byUser[f.User.Name] = f
			}
			dave := byUser["dave@example.com"]
			if dave.Orch == nil || dave.Orch.Resource == nil || dave.Process == nil {
				t.Fatalf("dave's finding lacks where or what: %+v", dave)
			}
			if dave.Rule.ID != rule1 || dave.Orch.Namespace != "shop" || dave.Orch.Resource.Name != "cart-5c7d9-qx2lp" ||
				strings.Join(dave.Process.Args, " ") != "/bin/bash" || dave.Cluster() != "prod-euw1" {
				t.Errorf("dave's finding: %+v", dave)
			}
			if !strings.Contains(strings.Join(dave.Notes, " "), "GKE") {
				t.Errorf("the finding should say what GKE does not record: %v", dave.Notes)
			}
			if frank := byUser["frank@example.com"]; frank.Rule.ID != rule3 {
				t.Errorf("frank's WebSocket exec: rule %s", frank.Rule.ID)
			}
			if grace := byUser["grace@example.com"]; grace.Rule.ID != ruleDenied {
				t.Errorf("grace's refused exec: rule %s", grace.Rule.ID)
			}
		})
	}
}
