#!/usr/bin/env bash
# bench.sh measures the k8sexec binary on generated corpora next to the tools
# people would otherwise reach for (rg, grep, pigz, jq) and prints one
# markdown table to stdout, followed by a line describing the machine.
#
#   bash scripts/bench.sh [SIZE]          SIZE as the corpus generator reads it (default 1GiB)
#
# Environment:
#   BENCH_DIR   where the binary and the corpora go (default /tmp/k8sexec-bench);
#               corpora are reused when they were generated with the same
#               arguments by the same generator source, regenerated otherwise
#   ALL_RULES   a rules file or folder: adds a row for `k8sexec scan --rules ALL_RULES`
#
# Each measurement runs 3 times on a warm page cache and keeps the best wall
# time, with the peak RSS of that run. MB/s is input bytes (decompressed for
# gzip) / 1e6 / wall seconds. A ratio a/b above 1 means a took longer.
#
# The worst case adds scripts/worst-case.toml, a rule whose only
# literal is on every line, so every event is parsed and matched.
set -euo pipefail

SIZE=${1:-1GiB}
BENCH_DIR=${BENCH_DIR:-/tmp/k8sexec-bench}
SEED=1
RUNS=3
SLICE_BYTES=$((100 << 20))

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "bench: $*" >&2; }
die() {
	log "$*"
	exit 1
}

require_tools() {
	local tool
	[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is needed (EPOCHREALTIME)"
	for tool in go rg grep pigz jq split head dd awk /usr/bin/time; do
		command -v "$tool" >/dev/null || die "$tool is not installed"
	done
}

# quarter SIZE prints a quarter of a generator size ("1GiB" -> "0.25GiB").
quarter() {
	local number=${1%%[!0-9.]*}
	local unit=${1#"$number"}
	[[ -n $number ]] || die "size $1: want a number with an optional unit, like 1GiB"
	echo "$(awk -v n="$number" 'BEGIN { print n / 4 }')$unit"
}

build() {
	mkdir -p "$BENCH_DIR"
	log "building k8sexec (as .goreleaser.yaml builds releases) and the corpus generator"
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BENCH_DIR/k8sexec" .
	go build -o "$BENCH_DIR/corpus-gen" ./internal/corpus/gen
}

# generator_hash identifies the generator's source, so that a corpus written
# by an older generator is not reused.
generator_hash() {
	cat internal/corpus/*.go internal/corpus/gen/*.go | sha256sum | cut -c1-16
}

# generate FILE ARGS... writes FILE with the corpus generator unless FILE
# exists and its .stamp says it came from the same arguments and generator.
generate() {
	local file=$1
	shift
	local stamp
	stamp="$(generator_hash) $*"
	if [[ -f $file && -f $file.stamp && $(<"$file.stamp") == "$stamp" ]]; then
		log "reusing $file"
		return
	fi
	log "generating $file"
	rm -f "$file.stamp"
	"$BENCH_DIR/corpus-gen" "$@" -o "$file"
	echo "$stamp" >"$file.stamp"
}

# derive FILE SOURCE COMMAND... runs COMMAND to make FILE from SOURCE unless
# FILE's stamp says it was made from SOURCE as it is now.
derive() {
	local file=$1 source=$2
	shift 2
	local stamp
	# The function's own text is in the stamp too: a changed way of
	# deriving makes the file again.
	stamp="$(<"$source.stamp") $(declare -f "$1" | sha256sum | cut -c1-16) $*"
	if [[ -f $file && -f $file.stamp && $(<"$file.stamp") == "$stamp" ]]; then
		log "reusing $file"
		return
	fi
	log "making $file"
	rm -f "$file.stamp"
	"$@"
	echo "$stamp" >"$file.stamp"
}

# slice SOURCE FILE keeps the first SLICE_BYTES of SOURCE, without the line
# the cut falls in. It is written 1 MiB at a time, as the generator writes:
# a file written in small pieces (head writes 4 KiB) stays in the page
# cache in small folios, which cost a mapping reader like k8sexec more to
# map and unmap (100 MiB on the VM of 2026-12-02: 33 ms against 30 ms).
slice() {
	head -c "$SLICE_BYTES" "$1" | head -n -1 | dd of="$2" bs=1M iflag=fullblock status=none
}

# split_gzip SOURCE PREFIX splits SOURCE by lines into 4 parts and gzips each
# as PREFIXaa.gz ... PREFIXad.gz (the last one carries the stamp).
split_gzip() {
	rm -f "$2"??.gz
	split -n l/4 "$1" "$2"
	local part
	for part in "$2"??; do
		pigz -f "$part"
	done
}

prepare_corpora() {
	local dense_size
	dense_size=$(quarter "$SIZE")
	AUDIT=$BENCH_DIR/audit-$SIZE.log
	AUDIT_GZ=$BENCH_DIR/audit-$SIZE.log.gz
	ECS=$BENCH_DIR/ecs-all-$SIZE.ndjson
	PROCESS=$BENCH_DIR/process-all-$SIZE.ndjson
	DENSE=$BENCH_DIR/audit-dense-$dense_size.log
	SLICE=$BENCH_DIR/audit-$SIZE-slice100MiB.log
	PARTS=$BENCH_DIR/audit-$SIZE-part-

	generate "$AUDIT" -size "$SIZE" -shape audit -seed "$SEED"
	generate "$AUDIT_GZ" -size "$SIZE" -shape audit -seed "$SEED" -gzip
	generate "$ECS" -size "$SIZE" -shape ecs -layout all -seed "$SEED"
	generate "$PROCESS" -size "$SIZE" -shape process -layout all -seed "$SEED"
	generate "$DENSE" -size "$dense_size" -shape audit -every 100 -seed "$SEED"
	derive "$SLICE" "$AUDIT" slice "$AUDIT" "$SLICE"
	derive "${PARTS}ad.gz" "$AUDIT" split_gzip "$AUDIT" "$PARTS"
	PART_FILES=("$PARTS"??.gz)
	[[ ${#PART_FILES[@]} -eq 4 ]] || die "want 4 parts of $AUDIT, found ${#PART_FILES[@]}"
}

bytes_of() { stat -c %s "$1"; }

# warm FILE... reads the files so that timings do not include the disk.
warm() { cat "$@" >/dev/null; }

# measure OK_CODES COMMAND... runs COMMAND RUNS times and sets WALL to the
# best wall time in seconds and RSS to that run's peak RSS in KiB. OK_CODES
# lists the exit codes that mean success, such as "0 1" for k8sexec (1:
# findings) and for grep -c and rg -c (1: no line matched).
#
# Standard output goes to /dev/null, or to the file STDOUT names: GNU grep
# stops at the first match when its output is /dev/null, so the counting
# commands write their count to a file (and COUNT holds it).
measure() {
	local ok_codes=$1
	shift
	local times=$BENCH_DIR/time.out errors=$BENCH_DIR/stderr.out out=${STDOUT:-/dev/null}
	local run code wall rss start end
	WALL="" RSS="" COUNT=""
	for ((run = 1; run <= RUNS; run++)); do
		code=0
		start=$EPOCHREALTIME
		/usr/bin/time -f '%M' -o "$times" "$@" >"$out" 2>"$errors" || code=$?
		end=$EPOCHREALTIME
		if [[ " $ok_codes " != *" $code "* ]]; then
			cat "$errors" >&2
			die "failed with exit code $code: $*"
		fi
		# time's %e has 10 ms steps, too coarse for the jq slice: the wall
		# time is taken around it from bash's clock, which, unlike date,
		# starts no process of its own. After a non-zero exit, time writes
		# a line saying so before the RSS.
		wall=$(awk -v s="${start/,/.}" -v e="${end/,/.}" 'BEGIN { printf "%.3f", e - s }')
		rss=$(tail -n 1 "$times")
		if [[ -z $WALL ]] || awk -v a="$wall" -v b="$WALL" 'BEGIN { exit !(a < b) }'; then
			WALL=$wall RSS=$rss
		fi
	done
	if [[ $out != /dev/null ]]; then
		COUNT=$(head -c 100 "$out")
	fi
}

# findings prints what the last k8sexec run said it found, from its
# summary on stderr ("k8sexec: 5 finding(s) (...) in 1 input(s), ...").
findings() {
	sed -n 's/^k8sexec: \([0-9]*\) finding(s).*/\1 findings/p' "$BENCH_DIR/stderr.out" | head -n 1
}

# ratio A B prints A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# row CASE TOOL INPUT_BYTES NOTE prints a table row for the last measure.
row() {
	local mbps rss_mib
	mbps=$(awk -v n="$3" -v s="$WALL" 'BEGIN { if (s > 0) printf "%.0f", n / 1e6 / s; else print "n/a" }')
	rss_mib=$(awk -v k="$RSS" 'BEGIN { printf "%.0f", k / 1024 }')
	printf '| %s | %s | %.0f | %s | %s | %s | %s |\n' "$1" "$2" "$(awk -v n="$3" 'BEGIN { print n / 1e6 }')" "$WALL" "$mbps" "$rss_mib" "$4"
}

K8SEXEC=(scan -f ndjson -o /dev/null)
COUNT_FILE=$BENCH_DIR/count.out

bench_raw_audit() {
	local bytes k8sexec_wall
	bytes=$(bytes_of "$AUDIT")
	warm "$AUDIT"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" "$AUDIT"
	k8sexec_wall=$WALL
	row "raw audit" "k8sexec" "$bytes" "$(findings)"
	STDOUT=$COUNT_FILE measure "0 1" rg --no-mmap -c -F '"subresource":"exec"' "$AUDIT"
	row "raw audit" 'rg --no-mmap -c -F' "$bytes" "k8sexec/rg $(ratio "$k8sexec_wall" "$WALL") ($COUNT lines)"
	STDOUT=$COUNT_FILE measure "0 1" env LC_ALL=C grep -c -F '"subresource":"exec"' "$AUDIT"
	row "raw audit" 'LC_ALL=C grep -c -F' "$bytes" "k8sexec/grep $(ratio "$k8sexec_wall" "$WALL") ($COUNT lines)"
	DEFAULT_RULES_WALL=$k8sexec_wall
}

bench_gzip() {
	local bytes k8sexec_wall
	bytes=$(bytes_of "$AUDIT")
	warm "$AUDIT_GZ"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" "$AUDIT_GZ"
	k8sexec_wall=$WALL
	row "gzip audit" "k8sexec" "$bytes" "$(findings)"
	measure 0 pigz -dc "$AUDIT_GZ"
	row "gzip audit" "pigz -dc" "$bytes" "k8sexec/pigz $(ratio "$k8sexec_wall" "$WALL")"
}

bench_gzip_parts() {
	local bytes k8sexec_wall
	bytes=$(bytes_of "$AUDIT")
	warm "${PART_FILES[@]}"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" "${PART_FILES[@]}"
	k8sexec_wall=$WALL
	row "4 gzip parts" "k8sexec" "$bytes" "$(findings)"
	# shellcheck disable=SC2016 # $@ belongs to the inner shell
	measure 0 bash -c 'set -o pipefail; cat "$@" | pigz -dc' pigz "${PART_FILES[@]}"
	row "4 gzip parts" 'cat parts \| pigz -dc' "$bytes" "k8sexec/pigz $(ratio "$k8sexec_wall" "$WALL")"
}

# bench_layouts CASE FILE LITERAL: k8sexec, and rg on a literal the rule
# needs, for reference.
bench_layouts() {
	local bytes k8sexec_wall
	bytes=$(bytes_of "$2")
	warm "$2"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" "$2"
	k8sexec_wall=$WALL
	row "$1" "k8sexec" "$bytes" "$(findings)"
	STDOUT=$COUNT_FILE measure "0 1" rg --no-mmap -c -F "$3" "$2"
	row "$1" "rg --no-mmap -c -F '$3'" "$bytes" "k8sexec/rg $(ratio "$k8sexec_wall" "$WALL") ($COUNT lines)"
}

bench_dense() {
	warm "$DENSE"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" "$DENSE"
	row "dense 1% audit" "k8sexec" "$(bytes_of "$DENSE")" "$(findings)"
}

# JQ_FILTER selects what the seed exec rule's core conditions select.
JQ_FILTER='select(.objectRef.subresource=="exec" and (.verb=="create" or .verb=="get"))'

bench_jq() {
	local bytes k8sexec_wall
	bytes=$(bytes_of "$SLICE")
	warm "$SLICE"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" "$SLICE"
	k8sexec_wall=$WALL
	row "audit slice" "k8sexec" "$bytes" "$(findings)"
	measure 0 jq -c "$JQ_FILTER" "$SLICE"
	row "audit slice" "jq select" "$bytes" "jq/k8sexec $(ratio "$WALL" "$k8sexec_wall")"
	# The targets compare tools on the same corpus, so jq reads the whole
	# of it too, once: at jq's speed a run takes seconds, and its time per
	# byte hardly varies between runs.
	bytes=$(bytes_of "$AUDIT")
	warm "$AUDIT"
	RUNS=1 measure 0 jq -c "$JQ_FILTER" "$AUDIT"
	row "raw audit" "jq select (1 run)" "$bytes" "jq/k8sexec $(ratio "$WALL" "$DEFAULT_RULES_WALL")"
}

bench_worst_case() {
	warm "$AUDIT"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" --rules scripts/worst-case.toml "$AUDIT"
	row "worst case: every line parsed" "k8sexec --rules worst-case.toml" "$(bytes_of "$AUDIT")" "$(findings)"
}

bench_all_rules() {
	[[ -e $ALL_RULES ]] || die "ALL_RULES=$ALL_RULES does not exist"
	warm "$AUDIT"
	measure "0 1" "$BENCH_DIR/k8sexec" "${K8SEXEC[@]}" --rules "$ALL_RULES" "$AUDIT"
	row "raw audit" "k8sexec --rules ALL_RULES" "$(bytes_of "$AUDIT")" "$(findings), vs default rules $(ratio "$WALL" "$DEFAULT_RULES_WALL")"
}

load() { cut -d' ' -f1 /proc/loadavg; }

machine() {
	local cpu memory
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "machine: nproc $(nproc), ${cpu:-unknown CPU}, $memory memory, $(go env GOVERSION), $(date -u '+%Y-%m-%dT%H:%M:%SZ'), 1-minute load average $START_LOAD before measuring and $(load) after (anything else running skews the numbers)"
}

main() {
	require_tools
	build
	prepare_corpora
	START_LOAD=$(load)
	log "measuring, $RUNS runs each"
	echo "| case | command | input MB | best wall s | MB/s | peak RSS MiB | ratio, notes |"
	echo "|---|---|---:|---:|---:|---:|---|"
	bench_raw_audit
	bench_gzip
	bench_gzip_parts
	bench_layouts "ECS, all layouts" "$ECS" 'subresource":"exec"'
	bench_layouts "process, all layouts" "$PROCESS" 'interactive":true'
	bench_worst_case
	bench_dense
	bench_jq
	if [[ -n ${ALL_RULES:-} ]]; then
		bench_all_rules
	fi
	echo
	machine
}

main
