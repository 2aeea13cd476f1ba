package cmd

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWrappedExportsGiveTheSameFindings: whatever shape an export of the
// same audit events takes (EventList, JSON array, pretty-printed JSON,
// Elasticsearch hits or search response, EKS CloudWatch, Logs Insights or
// subscription payloads, AKS diagnostic records, container logs, shippers'
// records, Splunk exports, OTLP), the findings are those of the raw log,
// down to the bytes, once the locations are set aside, except for the
// cluster a wrapper names: an EKS log group, an AKS resource ID, an OTLP
// resource.
func TestWrappedExportsGiveTheSameFindings(t *testing.T) {
	files, err := filepath.Glob("../testdata/wrapped/*")
	if err != nil {
		t.Fatal(err)
	}
	want, clusters := findingsWithoutPlaces(t, "../testdata/wrapped/base.log")
	if !strings.Contains(want, `"audit_id":"7c1e4b9a-3f52-4d8e-a6b1-2e9d0f4c7a35"`) || len(clusters) != 0 {
		t.Fatalf("base.log findings look wrong (clusters %v):\n%s", clusters, want)
	}
	wantCluster := map[string]string{
		"aks_lines.ndjson":     "AKS-PROD", // from .../MANAGEDCLUSTERS/AKS-PROD
		"aks_records.json":     "AKS-PROD",
		"eks_firehose.json":    "prod-use1", // logGroup /aws/eks/prod-use1/cluster
		"eks_firehose.json.gz": "prod-use1",
		"eks_insights.ndjson":  "prod-use1", // @log 123456789012:/aws/eks/prod-use1/cluster
		"otlp.ndjson":          "prod-eu",   // resource attribute k8s.cluster.name
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "gke_") || name == "base.log" {
			continue // GKE records less; TestGKEFindings covers it
		}
		t.Run(name, func(t *testing.T) {
			got, clusters := findingsWithoutPlaces(t, f)
			if got != want {
				t.Errorf("findings differ from base.log:\n got %s\nwant %s", got, want)
			}
			var wantClusters []string
			if c := wantCluster[name]; c != "" {
				wantClusters = []string{c}
			}
			if !slices.Equal(clusters, wantClusters) {
				t.Errorf("clusters %q, want %q for every finding", clusters, wantClusters)
			}
		})
	}
}

// findingsWithoutPlaces scans one file and returns its findings as JSON
// with evidence, context and cluster left out, and the distinct clusters
// the findings named.
func findingsWithoutPlaces(t *testing.T, path string) (string, []string) {
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
	seen := map[string]bool{}
	var clusters []string
	for _, f := range doc.Findings {
		delete(f, "evidence")
		delete(f, "context")
		delete(f, "guidance")
		var orch map[string]json.RawMessage
		if err := json.Unmarshal(f["orchestrator"], &orch); err != nil {
			t.Fatal(err)
		}
		var cluster struct{ Name string }
		if c, ok := orch["cluster"]; ok {
			if err := json.Unmarshal(c, &cluster); err != nil {
				t.Fatal(err)
			}
			delete(orch, "cluster")
		}
		if !seen[cluster.Name] {
			seen[cluster.Name] = true
			clusters = append(clusters, cluster.Name)
		}
		b, err := json.Marshal(orch)
		if err != nil {
			t.Fatal(err)
		}
		f["orchestrator"] = b
	}
	b, err := json.Marshal(doc.Findings)
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters) == 1 && clusters[0] == "" {
		clusters = nil
	}
	return string(b), clusters
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
