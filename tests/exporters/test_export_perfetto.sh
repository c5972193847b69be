#!/usr/bin/env bash
# offrx-export -f perfetto: decoded with protoc --decode against exporters/perfetto_trace.proto
# and read the way Perfetto's importer reads it (check_perfetto.py), the trace holds the jsonl
# export's events one for one: a slice per request from its post to its completion, named by
# the reason, with bytes and status; fills, push-timer expiries and the rest as instants; a flow
# per request from its post through its fills to its completion (none for a request nothing
# joined); times in the delta clock or from the trace start; queue depth and bytes held equal
# to the chrome export's counters. On hand-made scenarios and on the committed demo-mix trace
# (offline: no root, no LTTng daemon), where it is at most a quarter of chrome's size. An input
# that fails mid-way still gives a trace that decodes and says so; memory stays flat when the
# input grows tenfold.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
EXPORT=$BIN/exporters/offrx-export
SCEN=$SRC/tests/exporters/scenario.py
PF=$SRC/tests/exporters/check_perfetto.py
PROTO=$SRC/exporters/perfetto_trace.proto
DEMO=$SRC/samples/traces/demo-mix
[[ -x $EXPORT ]] || { echo "skip: $EXPORT is not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
command -v protoc >/dev/null || { echo "skip: protoc missing (scripts/install-deps)"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-export-perfetto.XXXXXX)
. "$SRC/tests/support/on_exit.sh"
on_exit 'rm -rf "$WORK"'
cd "$WORK"
. "$SRC/tests/support/checks.sh"

# m EXPR MODEL: a Python expression over the decoded trace (as m)
m() {
	python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if ($1) else 1)" "$2"
}

# compare LABEL NAME: NAME.pftrace decoded (NAME.model.json) against NAME.jsonl and
# NAME.chrome.json, the other exports of the same input
compare() {
	local label=$1 n=$2
	python3 "$PF" "$PROTO" "$n.pftrace" >"$n.model.json"
	check "$label: decodes, and Perfetto would accept every packet (no iid, track or lane problem)" \
		m 'not m["problems"] or print(m["problems"][:5])' "$n.model.json"
	python3 "$PF" compare "$n.model.json" "$n.jsonl" "$n.chrome.json" >"$n.cmp.txt" 2>&1 || true
	grep -v '^RESULT ' "$n.cmp.txt" | sed 's/^/    /' || true
	check "$label: a slice per request, post to completion, named by its reason, with bytes, status and placed (= jsonl)" \
		grep -q '^RESULT slices ok$' "$n.cmp.txt"
	check "$label: fills, expiries, drops, indicates, disconnects, closes, losses as instants (= jsonl)" \
		grep -q '^RESULT instants ok$' "$n.cmp.txt"
	check "$label: a flow per request a fill or expiry joined, from its post through them to its completion" \
		grep -q '^RESULT flows ok$' "$n.cmp.txt"
	check "$label: queue depth and bytes held = chrome's counters, and a post's depth is the counter's" \
		grep -q '^RESULT counters ok$' "$n.cmp.txt"
}

# same NAME: the perfetto, jsonl and chrome exports of the scenario NAME.in agree
same() {
	local n=$1
	"$EXPORT" -f perfetto -o "$n.pftrace" --input-jsonl "$n.in" 2>>err.log
	"$EXPORT" -o "$n.jsonl" --input-jsonl "$n.in" 2>>err.log
	"$EXPORT" -f chrome -o "$n.chrome.json" --input-jsonl "$n.in" 2>>err.log
	compare "$n" "$n"
}

# --- hand-made scenarios -----------------------------------------------------------------
for s in good open_at_end attached_late loss; do
	python3 "$SCEN" "$s" >"$s.in"
	same "$s"
done
check "good: slices of every completion reason in the scenario, status and bytes on each" \
	m '{s["name"] for s in m["slices"]} == {"filled", "psh", "push_timer", "disconnect"} and all("status" in s["args"] and "bytes" in s["args"] for s in m["slices"])' good.model.json
check "good: the 3 requests posted at once are slices on 3 lanes of their connection" \
	m 'len({s["lane"] for s in m["slices"] if s["conn"] == "1000:1" and s["b"] == 1700000000000000000}) == 3' good.model.json
check "good: a track per connection named by its 4-tuple, under its receive queue's track (queue 0: no queue field) under the engine's process track (pid 1000)" \
	m 'sorted(t["name"] for t in m["tracks"].values() if t["name"].startswith("conn ")) == ["conn 1000:1 10.77.0.1:5201 <- 10.77.0.2:40001", "conn 1000:2 10.77.0.1:5201 <- 10.77.0.2:40002"] and all(m["tracks"][str(t["parent"])]["name"] == "queue 0" and m["tracks"][str(m["tracks"][str(t["parent"])]["parent"])]["pid"] == 1000 for t in m["tracks"].values() if t["name"].startswith("conn "))' good.model.json
check "good: queue depth and bytes held are counter tracks (count, bytes) of each connection" \
	m 'sorted((t["name"], t["unit"]) for t in m["tracks"].values() if t["counter"]) == [("bytes held", "UNIT_SIZE_BYTES")] * 2 + [("queue depth", "UNIT_COUNT")] * 2' good.model.json
check "good: the first packet clears the incremental state and starts the delta clock" \
	m 'm["first"] == {"flags": 3, "clock_snapshot": True, "first_packet_on_sequence": True, "incremental_clock": True} and m["defaults_clock"] == 64' good.model.json
check "good: every time is a delta in clock 64, or, a slice's begin (written at its completion), from the trace start in clock 65: none absolute" \
	m 'set(m["clocks"]) == {"64", "65"} and m["first"]["flags"] == 3' good.model.json
check "good: the requests no fill or expiry joined (req 5, completed at the disconnect) have no flow, the others one" \
	m 'sorted((s["conn"], s["args"]["req"]) for s in m["slices"] if not s["flows_b"]) == [("1000:1", 5), ("1000:2", 5)] and len(m["flows"]) == len(m["slices"]) - 2' good.model.json
check "good: placed goes unsaid where it is bytes - prefill (R15)" \
	m 'not any("placed" in s["args"] for s in m["slices"])' good.model.json
check "good: the push-timer expiry is at 103 ms, late 0" \
	m 'any(i["name"] == "push timer expire" and i["ts"] == 1700000000103000000 and i["args"]["late_ns"] == 0 for i in m["instants"])' good.model.json
check "open_at_end: the 2 requests still queued end at the last event as \"open at end\", said at the end" \
	m 'sum(s["name"] == "open at end" for s in m["slices"]) == 2 and [i["args"]["open_at_end"] for i in m["instants"] if i["name"] == "offrx-export end"] == [2]' open_at_end.model.json
check "attached_late: completions of requests posted before the trace make whole slices, said" \
	m 'len(m["slices"]) == 3 and [i["args"]["posted_before_trace"] for i in m["instants"] if i["name"] == "offrx-export end"] == [2]' attached_late.model.json
check "loss: the discarded events are an instant on the trace track, counted at the end" \
	m 'any(i["name"] == "events discarded" and i["track"] == "offrx-export" and i["args"]["count"] == 10 for i in m["instants"]) and [i["args"]["discarded_events"] for i in m["instants"] if i["name"] == "offrx-export end"] == [10]' loss.model.json
# A prefilled request (good_orders' req 4: 10 bytes at its post); then the same trace with that
# request's completion saying 80 bytes placed, not bytes - prefill = 90: placed is said.
python3 "$SCEN" good_orders >good_orders.in
same good_orders
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "complete" and e.get("req") == 4:
        e["placed"] = 80
    print(json.dumps(e))' good_orders.in >odd_placed.in
same odd_placed
check "good_orders: the prefilled request says prefill 10 and bytes 100, not placed (90 = bytes - prefill)" \
	m '[(s["args"].get("prefill"), s["args"]["bytes"], "placed" in s["args"]) for s in m["slices"] if s["args"]["req"] == 4] == [(10, 100, False)]' good_orders.model.json
check "odd_placed: placed 80, not bytes - prefill, is said" \
	m '[s["args"].get("placed") for s in m["slices"] if s["args"]["req"] == 4] == [80]' odd_placed.model.json
check "the export's last packet says it is complete" \
	m '[(i["args"]["complete"], i["args"]["end"]) for i in m["instants"] if i["name"] == "offrx-export end"] == [(True, "end of trace")]' good.model.json

# --- a recorded trace: the committed demo (27 connections, 27,184 events) ----------------
if [[ -d $DEMO ]] && command -v babeltrace2 >/dev/null; then
	"$EXPORT" -f perfetto -o demo.pftrace "$DEMO"
	"$EXPORT" -f jsonl -o demo.jsonl "$DEMO"
	"$EXPORT" -f chrome -o demo.chrome.json "$DEMO"
	compare demo-mix demo
	check "demo-mix: 1962 slices (posts), 11194 fill instants, 28 push-timer expiries" \
		m '(len(m["slices"]), sum(i["name"] == "fill" for i in m["instants"]), sum(i["name"] == "push timer expire" for i in m["instants"])) == (1962, 11194, 28)' demo.model.json
	check "demo-mix: 27 connection tracks under one process track (pid 12665)" \
		m 'len([t for t in m["tracks"].values() if t["name"].startswith("conn 12665:")]) == 27 and [t["pid"] for t in m["tracks"].values() if t["pid"]] == [12665]' demo.model.json
	pf=$(stat -c %s demo.pftrace)
	ch=$(stat -c %s demo.chrome.json)
	check "demo-mix: $pf bytes, at most a quarter of chrome's $ch ($((pf * 100 / ch))%)" \
		test $((pf * 4)) -le "$ch"
else
	echo "skip the demo-mix checks: no $DEMO or no babeltrace2"
fi

# --- incomplete input, usage ---------------------------------------------------------------
head -n 20 good.in >cut.in
echo '{"ts_ns": 5, "event": "no_such_event"}' >>cut.in
rc=0
"$EXPORT" -f perfetto -o cut.pftrace --input-jsonl cut.in 2>err.txt || rc=$?
python3 "$PF" "$PROTO" cut.pftrace >cut.model.json
check "an input that fails mid-way: exit 1 (the reason on stderr)" \
	eval '[[ $rc -eq 1 ]] && grep -q "unknown event" err.txt'
check "... the trace decodes, its last packet says complete: false and the error" \
	m 'not m["problems"] and [(i["args"]["complete"], "unknown event" in i["args"]["error"]) for i in m["instants"] if i["name"] == "offrx-export end"] == [(False, True)]' cut.model.json
"$EXPORT" -f perfetto --input-jsonl good.in >stdout.pftrace
check "-f perfetto to standard output: the same bytes as -o" cmp -s stdout.pftrace good.pftrace
"$EXPORT" --help >help.txt
check "--help lists perfetto" grep -q '^ *perfetto ' help.txt
rc=0
"$EXPORT" -f pftrace --input-jsonl good.in >/dev/null 2>err.txt || rc=$?
check "an unknown format names perfetto among the formats (exit 2)" \
	eval '[[ $rc -eq 2 ]] && grep -q "jsonl, chrome, perfetto" err.txt'

# --- memory: flat when the input grows tenfold ---------------------------------------------
# big.py N: N connections one after another, each with 64 requests posted 4 deep, 8 fills each.
cat >big.py <<'EOF'
import json, sys
t = 1_700_000_000 * 10**9
def ev(**e):
    global t
    t += 1000
    e.update(ts_ns=t, vpid=7)
    sys.stdout.write(json.dumps(e) + "\n")
for c in range(1, int(sys.argv[1]) + 1):
    ev(event="conn_open", conn=c, local_addr="10.0.0.1", local_port=80, remote_addr="10.0.0.2",
       remote_port=1024 + c % 60000)
    for r in range(1, 5):
        ev(event="post", conn=c, req=r, buf_len=8192, depth=r)
    for r in range(1, 65):
        for f in range(8):
            ev(event="fill", conn=c, req=r, bytes=1024, total=1024 * (f + 1))
        ev(event="complete", conn=c, req=r, status="SUCCESS", bytes=8192, placed=8192,
           reason="filled", post_to_complete_ns=40000, last_fill_to_complete_ns=1000)
        if r + 4 <= 64:
            ev(event="post", conn=c, req=r + 4, buf_len=8192, depth=4)
    ev(event="conn_close", conn=c, reason="fin", bytes=64 * 8192)
EOF
python3 big.py 10 >big1.in
python3 big.py 100 >big10.in
rss() { # rss FILE: peak RSS in KiB of the perfetto export of FILE
	python3 -c '
import resource, subprocess, sys
subprocess.run([sys.argv[1], "-f", "perfetto", "-o", "/dev/null", "--input-jsonl", sys.argv[2]], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$EXPORT" "$1"
}
if grep -qa __asan_init "$EXPORT"; then
	echo "skip the memory check: AddressSanitizer keeps freed memory in quarantine"
else
	r1=$(rss big1.in)
	r10=$(rss big10.in)
	check "memory: $(wc -l <big1.in) events peak at $r1 KiB, ten times more at $r10 KiB (within 1 MiB)" \
		test "$r10" -le $((r1 + 1024))
fi

finish
