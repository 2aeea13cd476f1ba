// Package triage turns rule hits into findings a responder can act on.
//
// Data flow: the scanner hands over every event that matched a rule, plus
// context events (every stage of every exec request). Build groups the hits
// of one rule by what they describe (an exec request by its auditID, a
// process by its entity ID), so one exec is one finding however many
// stages the API server logged; decodes the command, container and TTY
// flags from the request URI; measures the session from its stages; and
// renders the rule's investigation guide with the finding's own values.
//
// Findings are ordered most severe first, then by time, then by ID, and
// their IDs are fingerprints of the rule and the request, so the same logs
// give the same findings in the same order on every run.
package triage
