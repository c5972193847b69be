#!/usr/bin/env bash
# tracer/reader live through a real lttng-relayd: offrx-recv --trace-live starts a live session,
# offrx-trace-dump follows its URL, a message sent afterwards shows up decoded within one
# second, and when offrx-recv ends its session the tool sees the end and exits 0 by itself.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/reader/lib_reader.sh"

start_recv --trace-live --max-conns 1 --duration 30
vpid=$RECV_PID
url=$(recv_location)
check "offrx-recv --trace-live names its live URL (${url:-none})" test -n "$url"
session=${url##*/}
# lttng-relayd keeps what it received under its output directory (~/lttng-traces/HOST/...).
TRACE_GLOBS+=("$HOME/lttng-traces/*/$session-*")

"$DUMP" "$url" >"$WORK/dump.txt" 2>"$WORK/dump.err" &
dump_pid=$!
PIDS+=("$dump_pid")
for _ in $(seq 100); do
	grep -q '^offrx-trace-dump: connected' "$WORK/dump.err" && break
	sleep 0.05
done
check "offrx-trace-dump attaches to the session" grep -q "connected: attached to session '$session'" \
	"$WORK/dump.err"
# A live viewer sees what comes after it attached: data flows once this engine's xsk_stats
# (every 500 ms) shows in the dump.
check "... and this engine's events flow to it (xsk_stats)" \
	wait_for 15 awk -v v="$vpid" '$3 == v && $2 == "xsk_stats" { f = 1; exit } END { exit !f }' "$WORK/dump.txt"

t0=$(date +%s%N)
send -p messages -s 500 -c 1 10.77.0.1:5201 &
send_pid=$!
seen=
for _ in $(seq 300); do
	if awk -v v="$vpid" '$3 == v && $2 == "complete" { f = 1; exit } END { exit !f }' "$WORK/dump.txt"; then
		seen=$((($(date +%s%N) - t0) / 1000000))
		break
	fi
	sleep 0.01
done
wait "$send_pid" || true
check "the message's complete event reached offrx-trace-dump (after ${seen:-never} ms)" test -n "$seen"
check "... within one second" test "${seen:-99999}" -le 1000
check "... decoded: 500 bytes, status SUCCESS, reason psh" \
	grep -q "^[0-9]* complete $vpid 1 1 status=SUCCESS bytes=500 placed=500 reason=psh " "$WORK/dump.txt"
check "... after its conn_open and post, before its conn_close" awk -v v="$vpid" '$3 == v {
		if ($2 == "conn_open") o = NR; if ($2 == "post" && !p) p = NR
		if ($2 == "complete" && !c) c = NR; if ($2 == "conn_close") x = NR }
	END { exit !(o && p && c && o < p && p < c && (!x || c < x)) }' "$WORK/dump.txt"

wait_recv >/dev/null || true # --max-conns 1: offrx-recv exits and destroys its session
if exited_within 10 "$dump_pid"; then
	check "offrx-trace-dump ends by itself when the session is destroyed (exit $EXIT_RC)" \
		test "$EXIT_RC" -eq 0
else
	check "offrx-trace-dump ends by itself when the session is destroyed (still running)" false
fi
check "... saying so" grep -q "end: live session '$session' ended" "$WORK/dump.err"
check "... with the connection's close among its events" \
	awk -v v="$vpid" '$3 == v && $2 == "conn_close" { f = 1 } END { exit !f }' "$WORK/dump.txt"
check "... and no reconnection" grep -q ', 0 reconnects$' "$WORK/dump.err"
[[ $FAILED -eq 0 ]] || sed 's/^/  dump: /' "$WORK/dump.err"
finish
