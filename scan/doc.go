// Package scan reads log inputs and evaluates rules on every event in them.
//
// Data flow:
//
//	paths ──Expand──▶ []Input ──open + sniff (gzip, zstd, plain)──▶ stream
//	stream ──chunker──▶ line-aligned chunks (a few MiB) ──▶ worker pool
//	worker: split lines ─▶ structural check ─▶ prefilter (rule literals) ─▶
//	        parse ─▶ adapter (shape → rules.Document) ─▶ rule matchers
//	results ──ordered merge (input, chunk)──▶ Result: matched events with
//	        file and line, per-input statistics, malformed-line locations
//
// Inputs are read and decompressed by up to one goroutine per worker, so
// decoding overlaps with matching and several gzip inputs decode in
// parallel. Chunks carry their input and a sequence number within it, and
// the collector puts their results back in input order, so the Result is
// byte-for-byte the same for any number of workers or chunk size.
//
// The prefilter searches each chunk, not each line, for every rule's most
// selective literal (lines.go): by groups of needles looked for by two of
// their bytes at once (twogroups.go), 32 positions a step with AVX2
// (twobyte_amd64.s), or by one byte with memchr elsewhere; by a byte-pair
// table (pairs.go); or by a block search that skips most bytes
// (blocks.go), whichever a cost model expects to be cheapest on the
// input's first 256 KiB. The line pass notes escapes and NUL bytes on the
// way.
//
// Adapters (raw.go, ecs.go) recognise each line's shape and expose it under
// ECS field names. A new input shape is a new adapter; rules do not change.
package scan
