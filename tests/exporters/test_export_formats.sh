#!/usr/bin/env bash
# offrx-export's formats and filters on hand-made event sequences (no engine, no root): jsonl
# reads back to the same events and validates against its schema, chrome follows Perfetto's
# rules, summary and csv count what the scenario did; and bad input of every kind gives a clear
# message, a non-zero status and output that is still valid and marked incomplete.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
EXPORT=$BIN/exporters/offrx-export
SCEN=$SRC/tests/exporters/scenario.py
CHECK=$SRC/tests/exporters/check_export.py
SCHEMA=$SRC/exporters/schema
[[ -x $EXPORT ]] || { echo "skip: $EXPORT is not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-export-formats.XXXXXX)
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'rm -rf "$WORK"'
cd "$WORK"
. "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"

. "$SRC/tests/exporters/lib_check.sh"

for s in good open_at_end loss attached_late; do
	python3 "$SCEN" "$s" >"$s.in"
done

# --- jsonl -------------------------------------------------------------------------------
"$EXPORT" --input-jsonl good.in >good.jsonl
"$EXPORT" --input-jsonl good.jsonl >good2.jsonl
check "jsonl: the first line is the header naming schema offrx-events/1" \
	py 'json.loads(open(sys.argv[1]).readline())["schema"] == "offrx-events/1"' good.jsonl
check "jsonl: the last line says the input ended, complete" \
	py '(lambda l: l["event"] == "end" and l["complete"] is True and l["end"] == "end of trace")(json.loads(open(sys.argv[1]).readlines()[-1]))' good.jsonl
check "jsonl: one line per event ($(wc -l <good.in) events + header + end)" \
	test "$(wc -l <good.jsonl)" -eq $(($(wc -l <good.in) + 2))
check "jsonl: every event reads back as written (export of the export is the same)" \
	cmp -s <(sed 1d good.jsonl) <(sed 1d good2.jsonl)
check "jsonl: each event carries the scenario's fields, enums by name (complete, post, conn_state)" \
	python3 -c '
import json, sys
a = [json.loads(l) for l in open("good.in")]
b = [json.loads(l) for l in open("good.jsonl")][1:-1]
sys.exit(0 if a == b else 1)'
for s in good open_at_end loss; do
	"$EXPORT" --input-jsonl "$s.in" >"$s.jsonl"
done
cat good.jsonl open_at_end.jsonl loss.jsonl >all.jsonl
subcheck "jsonl: every line of three scenarios validates against the schema (discarded lines too)" \
	schema "$SCHEMA/offrx-events-1.schema.json" all.jsonl --lines
sed 's/"reason":"psh"/"reason":"pshh"/' good.jsonl >bad.jsonl
check "jsonl: the schema check catches a wrong enum name" \
	eval '! python3 "$CHECK" schema "$SCHEMA/offrx-events-1.schema.json" bad.jsonl --lines >/dev/null'

# --- chrome ------------------------------------------------------------------------------
"$EXPORT" -f chrome --input-jsonl open_at_end.in >oae.chrome.json
subcheck "chrome: parses, every b has its e, counters numeric, metadata without ts" chrome oae.chrome.json
check "chrome: requests still queued at the end are closed as \"open at end\" (2) and said so" \
	py 'd["metadata"]["open_at_end"]["requests"] == 2 and sum(1 for e in d["traceEvents"] if e["ph"] == "e" and e["name"] == "open at end") == 2' oae.chrome.json
check "chrome: slices are named by completion reason, with length, bytes and status" \
	py '{e["name"] for e in d["traceEvents"] if e["ph"] == "b"} >= {"filled", "psh", "push_timer", "disconnect"} and all({"length","bytes","status"} <= set(e["args"]) for e in d["traceEvents"] if e["ph"] == "b")' oae.chrome.json
check "chrome: each connection is a process named by its 4-tuple" \
	py '"conn 1000:1 10.77.0.1:5201 <- 10.77.0.2:40001" in [e["args"]["name"] for e in d["traceEvents"] if e["name"] == "process_name"]' oae.chrome.json
check "chrome: ts in microseconds from the trace start (the push timer's expiry at 103 ms)" \
	py 'any(e["name"] == "push timer expire" and abs(e["ts"] - 103000.0) < 1e-6 for e in d["traceEvents"])' oae.chrome.json
check "chrome: queue depth and bytes in flight are counters" \
	py '{e["name"] for e in d["traceEvents"] if e["ph"] == "C"} >= {"queue depth", "bytes in flight"}' oae.chrome.json
check "chrome: metadata has the clock origin and complete: true" \
	py 'd["metadata"]["clock"]["trace_start_ns"] == 1700000000000000000 and d["metadata"]["complete"] is True' oae.chrome.json
"$EXPORT" -f chrome --input-jsonl loss.in >loss.chrome.json
check "chrome: discarded events are a global instant and counted in metadata" \
	py 'd["metadata"]["discarded_events"] == 10 and any(e["name"] == "events discarded" and e["s"] == "g" for e in d["traceEvents"])' loss.chrome.json
"$EXPORT" -f chrome --input-jsonl attached_late.in >late.chrome.json
subcheck "chrome: completions of requests posted before the trace still make whole slices" \
	chrome late.chrome.json

# --- summary and csv ---------------------------------------------------------------------
"$EXPORT" -f summary --input-jsonl good.in >good.summary.json
subcheck "summary: validates against offrx-summary/1" schema "$SCHEMA/offrx-summary-1.schema.json" good.summary.json
check "summary: per connection posted 5, completed 5, bytes 2150, by filled 2, psh 1, push_timer 1, disconnect 1" \
	py 'all(c["posted"] == 5 and c["completed"] == 5 and c["bytes"] == 2150 and c["completed_by"] == dict(filled=2, psh=1, push_timer=1, abort=0, disconnect=1, upload=0, invalid_state=0, other=0) for c in d["connections"]) and len(d["connections"]) == 2' good.summary.json
check "summary: push timer: 1 expiry, 100000 us waited, a fifth of the completions" \
	py 'all(c["push_timer"]["expiries"] == 1 and c["push_timer"]["wait_us_total"] == 100000 and c["push_timer"]["share_of_completions"] == 0.2 for c in d["connections"])' good.summary.json
check "summary: latency max post->complete 101 ms, last fill->complete 100 ms (push timer)" \
	py 'all(c["latency_us"]["post_to_complete"]["max"] == 101000 and c["latency_us"]["last_fill_to_complete"]["max"] == 100000 for c in d["connections"])' good.summary.json
check "summary: trace totals and complete: true" \
	py 'd["trace"]["events"] == '"$(wc -l <good.in)"' and d["trace"]["start_ns"] == 1700000000000000000 and d["complete"] is True and d["trace"]["events_by_kind"]["complete"] == 10' good.summary.json
"$EXPORT" -f summary --input-jsonl open_at_end.in >oae.summary.json
check "summary: an open connection is a row with its outstanding requests" \
	py '[(c["id"], c["state"], c["outstanding"]) for c in d["connections"]] == [(1, "closed", 0), (2, "open", 2)]' oae.summary.json
"$EXPORT" -f csv --input-jsonl good.in >good.csv
check "csv: a header and one row per connection, the same counts" \
	python3 -c '
import csv, sys
rows = list(csv.DictReader(open("good.csv")))
sys.exit(0 if len(rows) == 2 and all(r["posted"] == "5" and r["push_timer"] == "1" and r["local"] == "10.77.0.1:5201" for r in rows) else 1)'

# --- filters -----------------------------------------------------------------------------
n_of() { grep -c "$1" "$2" || true; }
per_conn=$(n_of '"conn": 2,' good.in)
"$EXPORT" --conn 1000:2 --input-jsonl good.in >c2.jsonl
check "--conn 1000:2: only that connection's events ($per_conn)" \
	eval '[[ $(n_of "\"conn\":2," c2.jsonl) -eq $per_conn && $(n_of "\"conn\":1," c2.jsonl) -eq 0 ]]'
"$EXPORT" --conn 2 --input-jsonl good.in >c2b.jsonl
check "--conn 2 (any process) gives the same" cmp -s <(sed 1d c2.jsonl) <(sed 1d c2b.jsonl)
"$EXPORT" --port 40001 --input-jsonl good.in >p.jsonl
check "--port 40001 (conn 1's remote port): only conn 1" \
	eval '[[ $(n_of "\"conn\":1," p.jsonl) -eq $per_conn && $(n_of "\"conn\":2," p.jsonl) -eq 0 ]]'
"$EXPORT" --from 150ms --to 0.25s --input-jsonl good.in >w.jsonl
check "--from 150ms --to 0.25s: only events in that window, ending \"--to reached\"" \
	python3 -c '
import json, sys
ls = [json.loads(l) for l in open("w.jsonl")]
ev = [e for e in ls if "ts_ns" in e]
ok = ev and all(150e6 <= e["ts_ns"] - 1700000000000000000 <= 250e6 for e in ev)
sys.exit(0 if ok and ls[-1]["end"] == "--to reached" and ls[-1]["complete"] else 1)'
"$EXPORT" -f summary --from 201ms --input-jsonl good.in >late.summary.json
check "--from after a conn_open: the summary still names the connection's endpoints" \
	py 'any(c["id"] == 2 and c["remote"] == "10.77.0.2:40002" for c in d["connections"])' late.summary.json

# --- bad input ---------------------------------------------------------------------------
# fails NAME WANT COMMAND...: exit 1, stderr has WANT
fails() {
	local name=$1 want=$2 rc=0
	shift 2
	"$@" >out.txt 2>err.txt || rc=$?
	if [[ $rc -eq 1 ]] && grep -q -- "$want" err.txt; then
		check "$name (exit 1: $(head -c 90 err.txt)...)" true
	else
		check "$name (exit $rc: $(cat err.txt))" false
	fi
}
fails "a missing directory" "cannot open the trace directory 'nothere'" "$EXPORT" -o never.json nothere
check "... leaves no output file behind" test ! -e never.json
mkdir empty
fails "a directory without a CTF trace" "no CTF trace under 'empty'" "$EXPORT" empty
mkdir -p notctf/x && echo "not metadata" >notctf/x/metadata
fails "a directory that is not a CTF trace" "notctf/x" "$EXPORT" notctf
if babeltrace2 help sink.ctf.fs >/dev/null 2>&1; then
	# A CTF trace from another provider: babeltrace2 turns a dmesg log into one.
	printf '[    0.000000] Linux version 6.1\n[    1.234567] eth0: link up\n' >dmesg.txt
	babeltrace2 -c src.text.dmesg -p 'path="dmesg.txt"' -c sink.ctf.fs -p 'path="other"' >/dev/null
	fails "a trace from another provider" "no offrx events in other" "$EXPORT" other
	check "... jsonl ends with an error line" \
		py 'json.loads(open(sys.argv[1]).readlines()[-1])["event"] == "error"' out.txt
	"$EXPORT" -f summary other >other.summary.json 2>/dev/null || true
	check "... summary is valid, complete: false, with the error" \
		py 'd["complete"] is False and "no offrx events" in d["error"]' other.summary.json
	subcheck "... and still validates against its schema" schema "$SCHEMA/offrx-summary-1.schema.json" other.summary.json
	"$EXPORT" -f chrome other >other.chrome.json 2>/dev/null || true
	check "... chrome is valid JSON whose metadata says complete: false" \
		py 'd["metadata"]["complete"] is False and d["traceEvents"] == []' other.chrome.json
else
	echo "skip the other-provider checks: babeltrace2 has no sink.ctf.fs"
fi
head -n 20 good.jsonl >cut.jsonl
echo '{"ts_ns": 5, "event": "no_such_event"}' >>cut.jsonl
fails "a jsonl input with a bad line" "cut.jsonl line 21: unknown event \"no_such_event\"" \
	"$EXPORT" --input-jsonl cut.jsonl
check "... the output keeps the 19 events read, then an error line" \
	python3 -c '
import json, sys
ls = [json.loads(l) for l in open("out.txt")]
sys.exit(0 if len(ls) == 21 and ls[-1]["event"] == "error" and ls[-1]["complete"] is False else 1)'
fails "an output that cannot be written" "cannot write '/dev/full'" "$EXPORT" -o /dev/full --input-jsonl good.in
rc=0
"$EXPORT" --input-jsonl good.in 2>err.txt | head -n 1 >/dev/null || rc=$?
check "a reader that closes the pipe early is not an error message" test ! -s err.txt

usage() { # usage NAME ARGS...: exit 2 with a message
	local name=$1 rc=0
	shift
	"$EXPORT" "$@" >/dev/null 2>err.txt || rc=$?
	check "$name: exit 2 ($(head -c 70 err.txt))" eval '[[ $rc -eq 2 && -s err.txt ]]'
}
usage "no input"
usage "an unknown format" -f xml good
usage "a bad time" --from 1.5h good
usage "--from after --to" --from 2s --to 1s good
usage "a bad --conn" --conn x:1 good
usage "a bad --port" --port 70000 good
rc=0
"$EXPORT" --help >help.txt || rc=$?
check "--help: exit 0, names the four formats and --verify" \
	eval '[[ $rc -eq 0 ]] && grep -q jsonl help.txt && grep -q chrome help.txt && grep -q summary help.txt && grep -q csv help.txt && grep -q -- --verify help.txt'
if command -v groff >/dev/null; then
	check "the man page renders without warnings" \
		eval '[[ -z "$(groff -man -Tutf8 -ww -z "$SRC/docs/offrx-export.1" 2>&1)" ]]'
fi

finish
