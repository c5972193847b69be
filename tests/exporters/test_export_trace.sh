#!/usr/bin/env bash
# offrx-export on a trace recorded here from real offrx-recv runs over the namespace topology
# (messages with PSH, a bulk transfer, and an MSG_MORE trickle the 100 ms push timer completes):
# jsonl validates against its schema and holds what babeltrace2 reads, kind by kind; chrome
# follows Perfetto's rules; the summary's counts equal counts computed independently from
# babeltrace2's text; --verify passes. Then the same trace damaged, and a trace of another
# provider: clear messages, status 1, output valid and marked incomplete.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/exporters/lib_export.sh"

start_recv --trace --max-conns 3 --push-timer-ms 100 --buf-size 65536 --depth 4
vpid=$RECV_PID
TRACE_SRC=$(recv_location)
[[ "$TRACE_SRC" == /* ]] && TRACE_DIRS+=("$TRACE_SRC")
send -p messages -s 1000 -i 20 -c 20 10.77.0.1:5201
# 64 MiB of bulk: with a fill per request per receive batch (trace event set 2) 8 MiB left every
# stream file under the 64 KiB the damage checks below cut into.
send -n 64M 10.77.0.1:5201
send -p trickle -s 1482 -i 400 -c 4 --mss 1000 10.77.0.1:5201
wait_recv >/dev/null || true
sent=$((20 * 1000 + 64 * 1048576 + 4 * 1482))
TRACE=$WORK/trace
mv "$TRACE_SRC" "$TRACE"
check "offrx-recv recorded a trace (${TRACE_SRC:-none})" test -f "$TRACE/ust/uid/0/64-bit/metadata"
babeltrace2 "$TRACE" >"$WORK/bt.txt" 2>"$WORK/bt.err"

# --- jsonl -------------------------------------------------------------------------------
rc=0
"$EXPORT" -o "$WORK/t.jsonl" "$TRACE" 2>"$WORK/export.err" || rc=$?
check "jsonl: exit 0 ($rc)" test "$rc" -eq 0
# The schema check on this receiver's events (--vpid): a per-UID session also records any
# other engine running on the machine, and a validator in Python is slow.
"$EXPORT" --vpid "$vpid" -o "$WORK/ours.jsonl" "$TRACE"
subcheck "jsonl: every line validates against offrx-events/1" \
	schema "$SCHEMA/offrx-events-1.schema.json" "$WORK/ours.jsonl" --lines
python3 "$CHECK" kinds-bt "$WORK/bt.txt" >"$WORK/bt.kinds"
python3 "$CHECK" kinds-jsonl "$WORK/t.jsonl" >"$WORK/jsonl.kinds"
check "jsonl: the same events as babeltrace2, kind by kind ($(awk '{ s += $2 } END { print s }' "$WORK/bt.kinds") events)" \
	cmp -s "$WORK/bt.kinds" "$WORK/jsonl.kinds"
cmp -s "$WORK/bt.kinds" "$WORK/jsonl.kinds" || diff "$WORK/bt.kinds" "$WORK/jsonl.kinds" | sed 's/^/    /'
fills=$(python3 -c "
import json, sys
print(sum(e.get('bytes', 0) for e in map(json.loads, open('$WORK/ours.jsonl')) if e['event'] == 'fill' and e['vpid'] == $vpid))")
check "jsonl: this receiver's fill bytes are the bytes sent ($fills of $sent)" test "$fills" -eq "$sent"
check "jsonl: enums by name (a push_timer completion, status SUCCESS)" \
	grep -q "\"event\":\"complete\",\"vpid\":$vpid,.*\"status\":\"SUCCESS\".*\"reason\":\"push_timer\"" "$WORK/t.jsonl"

# --- chrome ------------------------------------------------------------------------------
# This receiver's engine only: a per-UID session may have recorded others too.
"$EXPORT" -f chrome --vpid "$vpid" -o "$WORK/t.chrome.json" "$TRACE"
subcheck "chrome: parses, every b has its e (same id, pid), counters numeric, metadata without ts" \
	chrome "$WORK/t.chrome.json"
completes=$(grep ' offrx:complete: ' "$WORK/bt.txt" | grep -c "vpid = $vpid,")
check "chrome: one slice per completion ($completes), complete: true" \
	py 'sum(1 for e in d["traceEvents"] if e["ph"] == "b") == '"$completes"' and d["metadata"]["complete"] is True' \
	"$WORK/t.chrome.json"
check "chrome: the trickle's push-timer expiries are instants, its slices named push_timer" \
	py 'any(e["name"] == "push timer expire" for e in d["traceEvents"]) and any(e["ph"] == "b" and e["name"] == "push_timer" for e in d["traceEvents"])' \
	"$WORK/t.chrome.json"

# --- summary and csv ---------------------------------------------------------------------
"$EXPORT" -f summary -o "$WORK/t.summary.json" "$TRACE"
subcheck "summary: validates against offrx-summary/1" \
	schema "$SCHEMA/offrx-summary-1.schema.json" "$WORK/t.summary.json"
subcheck "summary: counts equal those computed from babeltrace2's text" \
	summary-vs-bt "$WORK/t.summary.json" "$WORK/bt.txt"
check "summary: this receiver's three connections closed with fin, nothing outstanding" \
	py '[(c["state"], c["close_reason"], c["outstanding"]) for c in d["connections"] if c["vpid"] == '"$vpid"'] == [("closed", "fin", 0)] * 3' \
	"$WORK/t.summary.json"
check "summary: the trickle waited for the push timer (expiries, wait and share above 0)" \
	py 'any(c["push_timer"]["expiries"] > 0 and c["push_timer"]["wait_us_total"] > 0 and 0 < c["push_timer"]["share_of_completions"] <= 1 for c in d["connections"] if c["vpid"] == '"$vpid"')' \
	"$WORK/t.summary.json"
"$EXPORT" -f csv -o "$WORK/t.csv" "$TRACE"
check "csv: one row per summary connection" \
	py 'len(d["connections"]) == sum(1 for _ in open("'"$WORK/t.csv"'")) - 1' "$WORK/t.summary.json"
trickle=$(python3 -c "
import json
d = json.load(open('$WORK/t.summary.json'))
print([c['id'] for c in d['connections'] if c['vpid'] == $vpid and c['push_timer']['expiries']][0])")
"$EXPORT" -f summary --conn "$vpid:$trickle" -o "$WORK/one.json" "$TRACE"
check "--conn $vpid:$trickle: only the trickle's row" \
	py '[(c["vpid"], c["id"]) for c in d["connections"]] == [('"$vpid, $trickle"')]' "$WORK/one.json"
"$EXPORT" -f summary --port 5201 -o "$WORK/port.json" "$TRACE"
check "--port 5201: every row is on port 5201" \
	py 'd["connections"] and all(c["local"].endswith(":5201") for c in d["connections"])' "$WORK/port.json"

# --- verify ------------------------------------------------------------------------------
rc=0
"$EXPORT" --verify "$TRACE" >"$WORK/verify.txt" 2>&1 || rc=$?
check "--verify: a good trace passes (exit $rc)" grep -q '^verdict: OK' "$WORK/verify.txt"
[[ $rc -eq 0 ]] || sed 's/^/    /' "$WORK/verify.txt" | head -20
check "... having checked this receiver's completions" \
	grep -qE "connections [0-9]+ \([0-9]+ closed\), posts [1-9]" "$WORK/verify.txt"

# --- damaged traces ----------------------------------------------------------------------
# The largest stream file (the damage needs one of at least 64 KiB: several packets).
stream=$(find "$TRACE" -name 'offrx_*' -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
check "the trace has a stream file of at least 64 KiB to damage ($(stat -c %s "$stream" 2>/dev/null || echo none) bytes)" \
	test "$(stat -c %s "$stream" 2>/dev/null || echo 0)" -ge 65536
cp -r "$TRACE" "$WORK/trunc"
f=$WORK/trunc/${stream#"$TRACE"/}
truncate -s $(($(stat -c %s "$f") / 2 + 77)) "$f"
rc=0
"$EXPORT" "$WORK/trunc" >"$WORK/trunc.jsonl" 2>"$WORK/trunc.err" || rc=$?
check "a truncated stream file: exit 1 ($rc), the file named as damaged" \
	eval '[[ $rc -eq 1 ]] && grep -qF "the stream file $f ends inside" "$WORK/trunc.err"'
check "... and the events of its whole packets, then an error line (test_export_salvage checks them)" \
	eval 'tail -1 "$WORK/trunc.jsonl" | grep -q "^{\"event\":\"error\",\"complete\":false,.*\"damaged\":"'

cp -r "$TRACE" "$WORK/corrupt"
f=$WORK/corrupt/${stream#"$TRACE"/}
python3 -c "
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
for i in range(len(b) // 2 + 1000, len(b) // 2 + 5096):
    b[i] = 0xff
open(sys.argv[1], 'wb').write(b)" "$f"
rc=0
"$EXPORT" "$WORK/corrupt" >"$WORK/corrupt.jsonl" 2>"$WORK/corrupt.err" || rc=$?
check "a stream corrupted mid-way: exit 1 ($rc) with the reason" \
	eval '[[ $rc -eq 1 ]] && grep -qE "cannot read on in the trace|has a corrupt packet" "$WORK/corrupt.err"'
python3 -c "
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(ls) > 2 and ls[-1]['event'] == 'error' and ls[-1]['complete'] is False else 1)" \
	"$WORK/corrupt.jsonl" && ok=true || ok=false
check "... jsonl: the events before the damage, then an error line" $ok
"$EXPORT" -f chrome "$WORK/corrupt" >"$WORK/corrupt.chrome.json" 2>/dev/null || true
subcheck "... chrome: still valid (every b has its e)" chrome "$WORK/corrupt.chrome.json"
check "... chrome metadata: complete: false, with the error" \
	py 'd["metadata"]["complete"] is False and "cannot read on" in d["metadata"]["error"]' \
	"$WORK/corrupt.chrome.json"
"$EXPORT" -f summary "$WORK/corrupt" >"$WORK/corrupt.summary.json" 2>/dev/null || true
check "... summary: valid, complete: false, with the error" \
	py 'd["complete"] is False and "cannot read on" in d["error"]' "$WORK/corrupt.summary.json"

# --- a trace of another provider ---------------------------------------------------------
if other_provider_trace offrxexp$$ "$WORK/other"; then
	rc=0
	"$EXPORT" "$WORK/other" >"$WORK/other.jsonl" 2>"$WORK/other.err" || rc=$?
	check "a trace of another provider (libc wrapper): exit 1 ($rc), \"no offrx events\"" \
		eval '[[ $rc -eq 1 ]] && grep -q "no offrx events in .*lttng_ust_libc:" "$WORK/other.err"'
	check "... jsonl ends with the error line" grep -q '^{"event":"error","complete":false' "$WORK/other.jsonl"
else
	echo "skip the other-provider trace: liblttng-ust-libc-wrapper.so not found"
fi
finish
