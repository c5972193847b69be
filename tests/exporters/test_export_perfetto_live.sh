#!/usr/bin/env bash
# offrx-export -f perfetto live, through lttng-relayd: while offrx-recv --trace-live runs, the
# .pftrace being written decodes at every flush (whole packets only) and already holds the
# engine's counters, then the requests' slices; when the session ends the export ends by itself,
# its last packet saying complete, and it holds the same slices and fills as the perfetto export
# of the trace the relay daemon wrote, from the first event the live viewer saw.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/exporters/lib_export.sh"
PF=$SRC/tests/exporters/check_perfetto.py
PROTO=$SRC/exporters/perfetto_trace.proto
command -v protoc >/dev/null || { echo "skip: protoc missing (scripts/install-deps)"; exit 77; }

# m EXPR MODEL: a Python expression over a decoded trace (as m)
m() {
	python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if ($1) else 1)" "$2"
}
# live_has EXPR: the live .pftrace as written so far decodes and EXPR holds over it
live_has() {
	cp "$WORK/live.pftrace" "$WORK/now.pftrace" 2>/dev/null &&
		python3 "$PF" "$PROTO" "$WORK/now.pftrace" >"$WORK/now.json" 2>/dev/null &&
		m "not m['problems'] and ($1)" "$WORK/now.json"
}

start_recv --trace-live --max-conns 2 --push-timer-ms 100 --duration 60
vpid=$RECV_PID
url=$(recv_location)
check "offrx-recv --trace-live names its live URL (${url:-none})" test -n "$url"
session=${url##*/}
TRACE_GLOBS+=("$HOME/lttng-traces/*/$session-*")

"$EXPORT" -f perfetto --vpid "$vpid" -o "$WORK/live.pftrace" "$url" 2>"$WORK/live.err" &
live_pid=$!
PIDS+=($live_pid)
check "the live .pftrace decodes while written and has the engine's xsk counters (it attached)" \
	wait_for 15 live_has "len(m['counters'].get('engine', {}).get('xsk rx_dropped', [])) > 0"
send -p messages -s 1000 -i 20 -c 20 10.77.0.1:5201
check "... and the messages' request slices while the session runs" \
	wait_for 5 live_has "len(m['slices']) > 0"
send -p trickle -s 1482 -i 400 -c 4 --mss 1000 10.77.0.1:5201
wait_recv >/dev/null || true # --max-conns 2: offrx-recv exits and destroys its session
check_ends_with_session "$live_pid"
[[ $FAILED -eq 0 ]] || sed 's/^/    /' "$WORK/live.err"
python3 "$PF" "$PROTO" "$WORK/live.pftrace" >"$WORK/live.json"
check "the whole live trace decodes with no problem, its last packet: complete, end of live session" \
	m "not m['problems'] and [(i['args']['complete'], i['args']['end']) for i in m['instants'] if i['name'] == 'offrx-export end'] == [(True, 'end of live session')]" "$WORK/live.json"

relayd_dir=$(ls -d $HOME/lttng-traces/*/"$session"-* 2>/dev/null | head -1 || true)
check "lttng-relayd wrote the session to disk (${relayd_dir:-none})" test -n "$relayd_dir"
rc=0
"$EXPORT" -f perfetto --vpid "$vpid" -o "$WORK/offline.pftrace" "$relayd_dir" \
	2>"$WORK/offline.err" || rc=$?
check "the offline perfetto export of that directory succeeds (exit $rc)" test "$rc" -eq 0
python3 "$PF" "$PROTO" "$WORK/offline.pftrace" >"$WORK/offline.json"
# From the first event the live viewer saw: it missed what came before it attached.
python3 - "$WORK/live.json" "$WORK/offline.json" >"$WORK/compare.txt" <<'EOF' && ok=true || ok=false
import json, sys
live, off = (json.load(open(p)) for p in sys.argv[1:3])
t0 = min([i['ts'] for i in live['instants']] + [s['b'] for s in live['slices']])
def fills(m):
    return sorted((i['conn'], i['ts'], i['args'].get('bytes')) for i in m['instants']
                  if i['name'] == 'fill' and i['ts'] >= t0)
def slices(m):
    return sorted((s['conn'], s['args'].get('req'), s['name'], s['b'], s['e'],
                   s['args'].get('bytes'), s['args'].get('status')) for s in m['slices']
                  if s['b'] >= t0 and s['args'].get('post_seen', True))
print('fills', len(fills(live)), len(fills(off)), 'slices', len(slices(live)), len(slices(off)))
sys.exit(0 if fills(live) == fills(off) and slices(live) == slices(off) and slices(live) else 1)
EOF
check "live and offline perfetto exports hold the same slices and fills ($(tail -1 "$WORK/compare.txt"))" $ok
finish
