package triage

import (
	"net/url"
	"strings"
)

// execRequest is what an exec request URI asks for.
type execRequest struct {
	Namespace, Pod, Container  string
	Args                       []string
	TTY, Stdin, Stdout, Stderr bool
}

// parseExecURI decodes an exec request URI such as
// /api/v1/namespaces/shop/pods/api-1/exec?command=sh&command=-c&command=ls+-la&container=api&stdin=true&tty=true
// Each command= parameter is one argv element, in order.
func parseExecURI(uri string) (execRequest, bool) {
	var req execRequest
	path, query, _ := strings.Cut(uri, "?")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		switch parts[i] {
		case "namespaces":
			req.Namespace = parts[i+1]
		case "pods":
			req.Pod = parts[i+1]
		}
	}
	values, err := url.ParseQuery(query)
	if err != nil && len(values) == 0 {
		return req, false
	}
	req.Args = values["command"]
	req.Container = values.Get("container")
	req.TTY = streamFlag(values["tty"])
	req.Stdin = streamFlag(values["stdin"])
	req.Stdout = streamFlag(values["stdout"])
	req.Stderr = streamFlag(values["stderr"])
	return req, true
}

// streamFlag reads a stream parameter (tty, stdin, stdout, stderr) as
// kube-apiserver does (Convert_Slice_string_To_bool in
// k8s.io/apimachinery/pkg/runtime), so a finding says what the server
// actually opened: absent is false; otherwise only the first value counts,
// and it is false only when it is "0" or "false" in any case. Anything else
// is true, "True", "yes", an empty value (tty=) and a bare key (tty) too.
func streamFlag(values []string) bool {
	if len(values) == 0 {
		return false
	}
	first := values[0]
	return first != "0" && !strings.EqualFold(first, "false")
}
