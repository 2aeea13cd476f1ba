package scan

import (
	"strings"

	"github.com/tidwall/gjson"
)

// AKS diagnostic settings export Kubernetes audit events as records of the
// categories kube-audit and kube-audit-admin (the latter without get and
// list, so WebSocket execs are absent there), each carrying the event in
// properties.log as a JSON string or, from some shippers, an object. Other
// categories (kube-apiserver, guard, cluster-autoscaler ...) hold plain text
// there and are skipped.
var aksAuditCategories = map[string]bool{"kube-audit": true, "kube-audit-admin": true}

// aksRecord reads one record; base is where the wrapper holding it starts
// in its line.
func aksRecord(rec []byte, base int, v gjson.Result) Unit {
	if !v.IsObject() {
		raw, off := locate(rec, base, v)
		return Unit{Raw: raw, Offset: off, Problem: "AKS record is not a JSON object"}
	}
	cat := v.Get("category").Str
	if !aksAuditCategories[cat] {
		return Unit{Offset: base + v.Index, Skip: "AKS " + nonEmptyOr(cat, "uncategorised") + " record"}
	}
	u := embedded(rec, base, v, "properties.log", ShapeAKS)
	u.Cluster = aksCluster(v.Get("resourceId").Str)
	return u
}

// aksCluster is the managed cluster an Azure resource ID names
// (.../providers/Microsoft.ContainerService/managedClusters/<name>, which
// diagnostic exports write in capitals), or "".
func aksCluster(id string) string {
	const key = "/managedclusters/"
	for i := 0; i+len(key) <= len(id); i++ {
		if strings.EqualFold(id[i:i+len(key)], key) {
			name, _, _ := strings.Cut(id[i+len(key):], "/")
			return name
		}
	}
	return ""
}
