#!/usr/bin/env bash
# offrx-export live, through lttng-relayd: (1) while offrx-recv --trace-live runs, a jsonl export
# follows its session, ends by itself when it ends, and holds the same events as an offline
# export of the trace the relay daemon wrote; (2) a live URL with no such session, and no relay
# daemon at all, fail with a clear message; (3) a relay daemon of our own killed mid-stream ends
# the jsonl, summary and chrome exports (one live session each: a relay daemon serves one viewer
# per session) with status 1 and output valid up to the loss and marked incomplete.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/exporters/lib_export.sh"

# --- (1) live against offline ------------------------------------------------------------
start_recv --trace-live --max-conns 2 --push-timer-ms 100 --duration 60
vpid=$RECV_PID
url=$(recv_location)
check "offrx-recv --trace-live names its live URL (${url:-none})" test -n "$url"
session=${url##*/}
# lttng-relayd keeps what it received under its output directory (~/lttng-traces/HOST/...).
TRACE_GLOBS+=("$HOME/lttng-traces/*/$session-*")

# --vpid: a per-UID session also records any other engine running on the machine.
"$EXPORT" --vpid "$vpid" -o "$WORK/live.jsonl" "$url" 2>"$WORK/live.err" &
live_pid=$!
PIDS+=($live_pid)
# A live viewer sees what comes after it attached: wait until the engine's periodic
# xsk_stats reach the export (it flushes when idle).
wait_for 15 has_event "$WORK/live.jsonl" "$vpid" xsk_stats || true
check "the jsonl export attached and streams (the engine's xsk_stats arrived)" \
	has_event "$WORK/live.jsonl" "$vpid" xsk_stats
send -p messages -s 1000 -i 20 -c 20 10.77.0.1:5201
check "... the messages' completions arrived while the session runs" \
	wait_for 5 has_event "$WORK/live.jsonl" "$vpid" complete
send -p trickle -s 1482 -i 400 -c 4 --mss 1000 10.77.0.1:5201
wait_recv >/dev/null || true # --max-conns 2: offrx-recv exits and destroys its session
check_ends_with_session "$live_pid"
[[ $FAILED -eq 0 ]] || sed 's/^/    /' "$WORK/live.err"
check "jsonl: the last line says the live session ended, complete" \
	grep -q '^{"event":"end","complete":true,"end":"end of live session"' "$WORK/live.jsonl"
subcheck "jsonl: every live line validates against offrx-events/1" \
	schema "$SCHEMA/offrx-events-1.schema.json" "$WORK/live.jsonl" --lines

relayd_dir=$(ls -d $HOME/lttng-traces/*/"$session"-* 2>/dev/null | head -1 || true)
check "lttng-relayd wrote the session to disk (${relayd_dir:-none})" test -n "$relayd_dir"
rc=0
"$EXPORT" --vpid "$vpid" -o "$WORK/offline.jsonl" "$relayd_dir" 2>"$WORK/offline.err" || rc=$?
check "the offline export of that directory succeeds (exit $rc)" test "$rc" -eq 0
# Compare from the first event the live export saw: the viewer missed what came before it
# attached. Counts by kind, then the events themselves.
python3 - "$WORK/live.jsonl" "$WORK/offline.jsonl" "$vpid" >"$WORK/compare.txt" <<'EOF' && ok=true || ok=false
import collections, json, sys
live = [json.loads(l) for l in open(sys.argv[1])]
off = [json.loads(l) for l in open(sys.argv[2])]
live = [e for e in live if e["event"] not in ("header", "end", "error", "source")]
t0 = min(e["ts_ns"] for e in live)
off = [e for e in off if e["event"] not in ("header", "end", "error", "source") and e["ts_ns"] >= t0]
kinds = lambda es: collections.Counter(e["event"] for e in es)
print("live", sorted(kinds(live).items()))
print("offline", sorted(kinds(off).items()))
same_kinds = kinds(live) == kinds(off)
same_events = sorted(json.dumps(e, sort_keys=True) for e in live) == sorted(json.dumps(e, sort_keys=True) for e in off)
ours = sum(1 for e in live if e.get("vpid") == int(sys.argv[3]) and e["event"] == "complete")
print("same kinds", same_kinds, "same events", same_events, "our completions", ours)
sys.exit(0 if same_kinds and same_events and ours > 0 else 1)
EOF
check "live and offline exports hold the same events, kind by kind ($(tail -1 "$WORK/compare.txt"))" $ok
$ok || sed 's/^/    /' "$WORK/compare.txt"
"$EXPORT" -f summary --input-jsonl "$WORK/live.jsonl" -o "$WORK/live.summary"
"$EXPORT" -f summary --vpid "$vpid" -o "$WORK/offline.summary" "$relayd_dir"
check "... and the summary of the live events has this receiver's rows as the offline one" \
	python3 -c "
import json, sys
rows = lambda p: [c for c in json.load(open(p))['connections'] if c['vpid'] == $vpid]
a, b = rows('$WORK/live.summary'), rows('$WORK/offline.summary')
sys.exit(0 if a == b and len(a) == 2 else 1)"

# --- (2) a relay daemon of our own: no such session, then killed mid-stream -------------
. "$SRC/tests/support/relayd.sh"
relayd_start || { check "our lttng-relayd listens on 127.0.0.1:$LIVE" false; finish; exit; }
host=$(hostname)

rc=0
"$EXPORT" -w 2 -o "$WORK/nosuch.jsonl" "net://127.0.0.1:$LIVE/host/$host/nosuch$$" \
	2>"$WORK/nosuch.err" || rc=$?
check "a live URL with no such session: exit 1 ($rc) after --wait, naming it" \
	eval '[[ $rc -eq 1 ]] && grep -q "no session '"'nosuch$$'"'" "$WORK/nosuch.err"'
check "... jsonl: header, then the error line" \
	eval '[[ $(wc -l <"$WORK/nosuch.jsonl") -eq 2 ]] && tail -1 "$WORK/nosuch.jsonl" | grep -q "^{\"event\":\"error\""'
rc=0
"$EXPORT" -o "$WORK/norelay.jsonl" "net://127.0.0.1:1/host/$host/x" 2>"$WORK/norelay.err" || rc=$?
check "no relay daemon at the URL: exit 1 ($rc), \"does not answer\", no output file" \
	eval '[[ $rc -eq 1 ]] && grep -q "does not answer" "$WORK/norelay.err" && [[ ! -e "$WORK/norelay.jsonl" ]]'

for f in jsonl summary chrome; do
	s=offrxexp$f$$
	SESSIONS+=("$s")
	lttng create "$s" --live=100000 --set-url="net://127.0.0.1:$P:$((P + 1))" >/dev/null
	lttng enable-channel -u -s "$s" --buffers-uid --subbuf-size=4M --num-subbuf=8 offrx >/dev/null
	lttng enable-event -u -s "$s" -c offrx 'offrx:*' >/dev/null
	lttng add-context -u -s "$s" -c offrx -t vpid -t procname >/dev/null
	lttng start "$s" >/dev/null
done
start_recv --max-conns 1 --duration 60
vpid=$RECV_PID
for f in jsonl summary chrome; do
	"$EXPORT" -f $f --vpid "$vpid" -o "$WORK/dies.$f" "net://127.0.0.1:$LIVE/host/$host/offrxexp$f$$" \
		2>"$WORK/dies.$f.err" &
	PIDS+=($!)
	eval "pid_$f=$!"
done
wait_for 15 has_event "$WORK/dies.jsonl" "$vpid" xsk_stats || true
sleep 1
send -p messages -s 500 -i 20 -c 500 10.77.0.1:5201 &
sender=$!
PIDS+=($sender)
wait_for 10 has_event "$WORK/dies.jsonl" "$vpid" complete
check "the exports follow our relay daemon's session" has_event "$WORK/dies.jsonl" "$vpid" complete
kill "$RELAYD"
for f in jsonl summary chrome; do
	eval "p=\$pid_$f"
	if exited_within 20 "$p"; then
		check "$f: the relay daemon killed mid-stream ends the export, exit 1 ($EXIT_RC)" \
			test "$EXIT_RC" -eq 1
	else
		check "$f: the relay daemon killed mid-stream ends the export (still running)" false
	fi
done
check "... saying so on stderr" grep -q "lttng-relayd" "$WORK/dies.jsonl.err"
python3 -c "
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(ls) > 2 and ls[-1]['event'] == 'error' and ls[-1]['complete'] is False else 1)" \
	"$WORK/dies.jsonl" && ok=true || ok=false
check "jsonl: what arrived, then an error line ($(tail -1 "$WORK/dies.jsonl" | head -c 120))" $ok
subcheck "jsonl: every line still validates against offrx-events/1" \
	schema "$SCHEMA/offrx-events-1.schema.json" "$WORK/dies.jsonl" --lines
subcheck "chrome: still valid, every b has its e" chrome "$WORK/dies.chrome"
check "chrome metadata and summary: complete: false, with the error" \
	eval 'py '\''d["metadata"]["complete"] is False and d["metadata"]["error"]'\'' "$WORK/dies.chrome" &&
		py '\''d["complete"] is False and d["error"]'\'' "$WORK/dies.summary"'
kill "$sender" 2>/dev/null || true
wait_recv >/dev/null 2>&1 || true
finish
