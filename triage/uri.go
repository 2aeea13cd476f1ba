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
	req.TTY = isTrue(values.Get("tty"))
	req.Stdin = isTrue(values.Get("stdin"))
	req.Stdout = isTrue(values.Get("stdout"))
	req.Stderr = isTrue(values.Get("stderr"))
	return req, true
}

func isTrue(s string) bool { return s == "true" || s == "1" }
