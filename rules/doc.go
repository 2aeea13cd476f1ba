// Package rules owns detection rules: the TOML rule files (Elastic's
// detection-rules layout), the KQL and EQL parsers, and the compiled matchers
// that evaluate a query against one event.
//
// Data flow: a rule file is decoded (LoadFile, Builtin), its query is parsed
// into an Expr tree (ParseKQL, ParseEQL), and the tree is compiled into a
// Matcher. A Matcher reads fields by their ECS name through the Document
// interface, which the scan package implements once per input shape (raw
// audit event, ECS export, search hit, ...). Matchers never see raw bytes.
//
// The package also derives, from a compiled rule, the literal byte strings a
// line must contain for the rule to possibly match (Prefilter). The scanner
// uses them to skip lines without parsing them.
package rules
