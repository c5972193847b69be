#!/usr/bin/env bash
# Live tracing through lttng-relayd: offrx-recv --trace-live starts a live session, babeltrace2
# attaches to it by its net:// URL, and a message sent afterwards shows up as offrx events in
# babeltrace2's output within one second.
. "$OFFRX_SRC/tests/support/e2e.sh"
command -v stdbuf >/dev/null || { echo "skip: stdbuf (coreutils) missing"; exit 77; }
BT_PID=
# The daemons belong in the machine's namespace, not the engine's: start the session daemon
# here (offrx-recv starts the relay daemon next to it).
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize

start_recv --trace-live --max-conns 1 --duration 30
url=$(recv_location)
check "offrx-recv --trace-live names its live URL (${url:-none})" test -n "$url"

stdbuf -oL babeltrace2 --input-format=lttng-live "$url" >"$WORK/live.txt" 2>"$WORK/live.err" &
BT_PID=$!
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'if [[ -n "$BT_PID" ]]; then kill "$BT_PID" 2>/dev/null || true; fi; cleanup'
# A live viewer sees only what comes after it attached: wait until babeltrace2 shows the
# engine's own xsk_stats (every 500 ms), then send.
check "babeltrace2 is attached: it shows the engine's xsk_stats" \
	wait_for 15 grep -q 'offrx:xsk_stats:' "$WORK/live.txt"

t0=$(date +%s%N)
peer "$SEND" --quiet -p messages -s 500 -c 1 10.77.0.1:5201 &
seen=
for _ in $(seq 300); do
	if grep -q 'offrx:complete:' "$WORK/live.txt"; then
		seen=$(( ($(date +%s%N) - t0) / 1000000 ))
		break
	fi
	sleep 0.01
done
check "the message's complete event reached babeltrace2 live (after ${seen:-never} ms)" test -n "$seen"
check "... within one second" test "${seen:-99999}" -le 1000
check "live events name their process" grep -q 'procname = "offrx-recv"' "$WORK/live.txt"
wait_recv || true
check "offrx-recv stopped its session" grep -q 'trace in net:' "$WORK/recv.err"
finish
