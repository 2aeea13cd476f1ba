package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
)

// The reference copy of Elastic's detection rules (Elastic License 2.0) is
// not part of this repository; the family test runs where it is checked out
// beside it, and skips elsewhere (CI).
const elasticRulesDir = "../../shared/reference/elastic-rules/rules"

// Elastic rule_ids that the fixtures in testdata/families/ exercise.
const (
	famChroot   = "47661529-15ed-4848-93da-9fbded7a3a0e" // Chroot Execution Detected via Defend for Containers
	famCloud    = "d0b0f3ed-0b37-44bf-adee-e8cb7de92767" // Cloud Credential Search Detected via Defend for Containers
	famCmgmt    = "6c6bb7ea-0636-44ca-b541-201478ef6b50" // Container Management Utility Execution Detected via Defend for Containers
	famDns      = "74ee9a2d-5ed3-40c8-9e6c-523d2e6a17ef" // DNS Enumeration Detected via Defend for Containers
	famDebugfs  = "97697a52-4a76-4f0a-aa4f-25c178aae6eb" // DebugFS Execution Detected via Defend for Containers
	famDapi     = "26a989d2-010e-4dae-b46b-689d03cc22b3" // Direct Kubernetes API Request Detected via Defend for Containers
	famEnc      = "227cf26a-88d1-4bcb-bf4c-925e5875abcf" // Encoded Payload Detected via Defend for Containers
	famEnv      = "f66a6869-d4c7-4d20-ab13-beefd03b63b4" // Environment Variable Enumeration Detected via Defend for Containers
	famExecc    = "420e5bb4-93bf-40a3-8f4a-4cc1af90eca1" // Exec Into Container Detected via Defend for Containers
	famDl       = "a8b08d2d-6dfe-453f-87d1-11d5fc3ec746" // File Download Detected via Defend for Containers
	famChmod    = "ec604672-bed9-43e1-8871-cf591c052550" // File Execution Permission Modification Detected via Defend for Containers
	famShell    = "8d3d0794-c776-476b-8674-ee2e685f6470" // Interactive Shell Spawn Detected via Defend for Containers
	famKperm    = "1600f9e2-5be6-4742-8593-1ba50cd94069" // Kubectl Permission Discovery
	famKsec     = "a87d49f0-24ae-4d6e-a0b4-5fd2f6188d6a" // Kubectl Secrets Enumeration Across All Namespaces
	famKcert    = "42de0740-8ed8-4b8b-995c-635b56a8bbf4" // Kubelet Certificate File Access Detected via Defend for Containers
	famImp      = "abb7bc31-b865-4318-80a9-b9ee4edd57b6" // Kubernetes API Request Impersonating Privileged Identity
	famProxy    = "332ecb5b-08b6-47e9-885b-3cee1de74bac" // Kubernetes API Server Proxying Request to Kubelet
	famWh       = "4f8f7c08-ffb5-443f-86c6-0884c964df7b" // Kubernetes Admission Webhook Created or Modified
	famAnon     = "3a01e5c6-ce01-46d7-ac9f-52dc349695fb" // Kubernetes Anonymous User Create/Update/Patch Pods Request
	famCab      = "a2951930-dd35-438c-b10e-1bbdc5881cb4" // Kubernetes Cluster-Admin Role Binding Created
	famCaps     = "7164081a-3930-11ed-a261-0242ac120002" // Kubernetes Container Created with Excessive Linux Capabilities
	famKapi     = "b53f1d73-150d-484d-8f02-222abeb5d5fa" // Kubernetes Direct API Request via Curl or Wget
	famEph      = "c62733ff-9373-4fdf-9733-3d992e148c93" // Kubernetes Ephemeral Container Added to Pod
	famEvdel    = "33c27b4e-8ec6-406f-b8e5-345dc024aa97" // Kubernetes Events Deleted
	famNp       = "65f9bccd-510b-40df-8263-334f03174fed" // Kubernetes Exposed Service Created With Type NodePort
	famForb     = "ec81962e-4bc8-48e6-bfb0-545fc97d8f6a" // Kubernetes Forbidden Creation Request
	famIpc      = "764c8437-a581-4537-8060-1fdb0e92c92d" // Kubernetes Pod Created With HostIPC
	famNet      = "12cbf709-69e8-4055-94f9-24314385c27e" // Kubernetes Pod Created With HostNetwork
	famPid      = "df7fda76-c92b-4943-bc68-04460a5ea5ba" // Kubernetes Pod Created With HostPID
	famHp       = "2abda169-416b-4bb3-9a6b-f8d239fd78ba" // Kubernetes Pod Created with a Sensitive hostPath Volume
	famPriv     = "c7908cac-337a-4f38-b50d-5eeb78bdb531" // Kubernetes Privileged Pod Created
	famSsa      = "f8a31c62-0d4e-4b9a-b7e1-6c2a9d4e8f10" // Kubernetes Secret get or list from Node or Pod Service Account
	famSua      = "a4c8e901-2b7f-4d6e-9a3c-8e1f0d5b6c2a" // Kubernetes Secret get or list with Suspicious User Agent
	famSlist    = "7e3f9a2b-1c4d-5e6f-8a0b-9c8d7e6f5a4b" // Kubernetes Secrets List Across Cluster or Sensitive Namespaces
	famSarbac   = "f2e21713-1eac-4908-a782-1b49c7e9d53b" // Kubernetes Service Account Modified RBAC Objects
	famTok      = "4df91789-7859-4bc4-9c5a-6b56bfa81a8b" // Kubernetes Service Account Token Created via TokenRequest API
	famCtrl     = "63c05204-339a-11ed-a261-0242ac120002" // Kubernetes Suspicious Assignment of Controller Service Account
	famExec     = "14de811c-d60f-11ec-9fd7-f661ea17fbce" // Kubernetes User Exec into Pod
	famMount    = "41f7da9e-4e9f-4a81-9b58-40d725d83bc0" // Mount Execution Detected via Defend for Containers
	famUnshare  = "9e5dbd3b-5e19-4648-a1cf-c2649c91b015" // Namespace Manipulation Using Unshare in a Container
	famNc       = "a52a9439-d52c-401c-be37-2785235c6547" // Netcat File Transfer or Listener Detected via Defend for Containers
	famNsenter  = "39029450-8e2d-4034-81b0-15af8e4e3a4e" // Nsenter Execution with Target Flag Inside Container
	famJq       = "33ff31e9-3872-4944-8394-81dae76c12d9" // Potential Cluster Enumeration via jq Detected via Defend for Containers
	famKlet     = "b4bd186b-69c6-45ad-8bef-5c35bbadeaef" // Potential Direct Kubelet Access via Process Arguments Detected via Defend for Containers
	famKimp     = "3c6685eb-9eaa-43a4-be1b-a7f9f1f5e63d" // Potential Impersonation Attempt via Kubectl
	famRelease  = "160896de-b66f-42cb-8fef-20f53a9006ea" // Potential release_agent Container Escape Detected via Defend for Containers
	famPrivenum = "737626a2-4dca-4195-8ecd-68ef96fd1bad" // Privilege Boundary Enumeration Detected via Defend for Containers
	famCompress = "475b42f0-61fb-4ef0-8a85-597458bfb0a1" // Sensitive File Compression Detected via Defend for Containers
	famKeys     = "9661ed8b-001c-40dc-a777-0983b7b0c91a" // Sensitive Keys Or Passwords Search Detected via Defend for Containers
	famSans     = "f7c64a1b-9d00-4b92-9042-d3bb4196899a" // Service Account Namespace Read Detected via Defend for Containers
	famSatok    = "66229f32-c460-410d-bc37-4b32322cd4bb" // Service Account Token or Certificate Read Detected via Defend for Containers
	famEcho     = "d9bfa475-270d-4b07-93cb-b1f49abe13da" // Suspicious Echo or Printf Execution Detected via Defend for Containers
	famInterp   = "cd24c340-b778-44bd-ab69-2f739bd70ce1" // Suspicious Interpreter Execution Detected via Defend for Containers
	famNettool  = "1a289854-5b78-49fe-9440-8a8096b1ab50" // Suspicious Network Tool Launch Detected via Defend for Containers
	famSuspdir  = "279e272a-91d9-4780-878c-bfcac76e6e31" // Suspicious Process Execution Detected via Defend for Containers
	famToolenum = "b84264aa-37a3-49f8-8bbc-60acbe9d4f86" // Tool Enumeration Detected via Defend for Containers
	famTools    = "527d23e6-8b67-4a8e-a6bd-5169b90ab2a8" // Tool Installation Detected via Defend for Containers
	famTun      = "9d94d61b-9476-41ff-a8d3-3d24b4bb8158" // Tunneling and/or Port Forwarding Detected via Defend for Containers
)

// familyMatches is the hand-worked table of testdata/EXPECTED.md ("Rule
// families"): for each line of each fixture, the Elastic rules that must
// match it. Lines not listed must match no rule.
var familyMatches = map[string]map[int64][]string{
	"audit.log": {
		2:  {famPriv},
		5:  {famPriv},
		6:  {famForb},
		8:  {famHp},
		9:  {famHp},
		11: {famNet},
		13: {famPid},
		15: {famIpc},
		16: {famForb},
		17: {famPriv, famHp, famNet, famPid, famIpc},
		18: {famCaps},
		20: {famCtrl},
		21: {famAnon},
		22: {famAnon},
		23: {famAnon, famForb},
		25: {famForb},
		27: {famCab},
		30: {famSarbac},
		33: {famSarbac},
		34: {famImp, famSlist},
		36: {famSua},
		38: {famSsa},
		41: {famSlist},
		44: {famTok},
		46: {famEvdel},
		49: {famExec},
		50: {famExec},
		51: {famExec},
		54: {famForb},
		55: {famEph},
		57: {famProxy},
		59: {famNp},
		61: {famWh},
		63: {famAnon},
	},
	"process.ndjson": {
		1:  {famExecc},
		2:  {famPrivenum},
		3:  {famSatok},
		4:  {famSans},
		6:  {famEnv},
		7:  {famToolenum},
		8:  {famDapi, famKapi},
		9:  {famKapi},
		10: {famKlet},
		12: {famJq},
		13: {famDns},
		15: {famCmgmt, famDapi, famKsec},
		16: {famCmgmt, famKperm},
		17: {famCmgmt, famDapi, famKimp},
		18: {famShell},
		19: {famTools},
		20: {famDl},
		22: {famChmod},
		25: {famSuspdir},
		26: {famNc, famNettool},
		29: {famEnc},
		30: {famInterp},
		32: {famExecc},
		33: {famNsenter},
		34: {famMount},
		35: {famDebugfs},
		36: {famKcert},
		38: {famEcho},
		39: {famRelease},
		40: {famChroot},
		41: {famUnshare},
		43: {famSatok},
		44: {famKeys},
		45: {famCloud},
		47: {famCompress},
		50: {famTun},
		52: {famCloud},
	},
}

// TestElasticRuleFamilies scans the family fixtures with every rule in the
// reference copy of Elastic's rules (91 load, the rest are skipped as
// k8sexec cannot run them offline) and requires exactly the hand-worked
// matches: no more, no fewer. k8sexec's own built-in rules are disabled so
// the findings are Elastic's alone; the two Elastic built-ins are replaced
// by the reference versions, which share their rule_ids.
func TestElasticRuleFamilies(t *testing.T) {
	if _, err := os.Stat(elasticRulesDir); err != nil {
		t.Skipf("reference rules not available: %v", err)
	}
	builtin, err := rules.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "--rules", elasticRulesDir, "--format", "ndjson"}
	for _, r := range builtin {
		if r.Origin != "elastic" {
			args = append(args, "--disable-rule", r.ID)
		}
	}
	args = append(args, "../testdata/families/audit.log", "../testdata/families/process.ndjson")
	out, errOut, code := run(t, nil, args...)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFindings, errOut)
	}
	if strings.Contains(errOut, "broken") {
		t.Errorf("a reference rule failed to load:\n%s", errOut)
	}

	type place struct {
		file string
		line int64
		rule string
	}
	got := map[place]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var f struct {
			Rule struct {
				ID     string
				Origin string
			}
			Evidence []struct {
				File  string
				Line  int64
				Index int
			}
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("ndjson line %q: %v", l, err)
		}
		if f.Rule.Origin != "elastic" {
			t.Errorf("finding of rule %s has origin %q", f.Rule.ID, f.Rule.Origin)
		}
		if len(f.Evidence) == 0 {
			t.Errorf("finding of rule %s has no evidence", f.Rule.ID)
		}
		for _, e := range f.Evidence {
			if e.Index != 0 {
				t.Errorf("evidence %s:%d#%d: no fixture line holds several events", e.File, e.Line, e.Index)
			}
			got[place{filepath.Base(e.File), e.Line, f.Rule.ID}] = true
		}
	}
	want := map[place]bool{}
	for file, lines := range familyMatches {
		for line, ids := range lines {
			for _, id := range ids {
				want[place{file, line, id}] = true
			}
		}
	}
	var diff []string
	for p := range want {
		if !got[p] {
			diff = append(diff, fmt.Sprintf("missing %s:%d %s", p.file, p.line, p.rule))
		}
	}
	for p := range got {
		if !want[p] {
			diff = append(diff, fmt.Sprintf("unexpected %s:%d %s", p.file, p.line, p.rule))
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("findings differ from the hand-worked table (testdata/EXPECTED.md):\n  %s", strings.Join(diff, "\n  "))
	}
}
