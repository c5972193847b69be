#!/usr/bin/env bash
# tracer/reader when the relay daemon dies: offrx-trace-dump follows a live session on a relayd
# of this test's own (its own ports: the machine's relayd stays untouched); the relayd is
# killed, the tool reports the loss and keeps trying (--no-reconnect gives up with exit 1); the
# relayd comes back, the session is created again (lttng 2.13's consumer daemon does not
# reconnect a session's streams to a new relayd), the tool attaches again and the events after
# the restart appear. Also: a session that never appears, and no relayd at all.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/reader/lib_reader.sh"

. "$SRC/tests/support/relayd.sh"
S=offrxrd$$
S2=offrxrd2$$ # followed by the --no-reconnect tool: the relayd serves one viewer per session
SESSIONS+=("$S" "$S2")
# our_completes: complete events of this test's receiver in the tool's output
our_completes() { awk -v v="$vpid" '$3 == v && $2 == "complete"' "$WORK/dump.txt" | wc -l; }
completes_above() { test "$(our_completes)" -gt "$1"; }
# This engine's xsk_stats (every 500 ms) in the dump: how a test knows data reaches the viewer.
our_stats() { awk -v v="$vpid" '$3 == v && $2 == "xsk_stats"' "$WORK/dump.txt" | wc -l; }
stats_above() { test "$(our_stats)" -gt "$1"; }

check "a relayd of our own listens on 127.0.0.1:$P-$LIVE" relayd_start
check "two live sessions stream to it" session_start "$S"
session_start "$S2"
start_recv --duration 50
vpid=$RECV_PID
url=net://localhost:$LIVE/host/$(hostname)/$S

"$DUMP" --list "net://localhost:$LIVE" >"$WORK/list.txt" 2>&1 || true
check "offrx-trace-dump --list names the session" grep -qx "$url" "$WORK/list.txt"

"$DUMP" "$url" >"$WORK/dump.txt" 2>"$WORK/dump.err" &
dump_pid=$!
PIDS+=("$dump_pid")
"$DUMP" --no-reconnect "${url%/*}/$S2" >/dev/null 2>"$WORK/once.err" &
once_pid=$!
PIDS+=("$once_pid")
check "offrx-trace-dump attaches" wait_for 5 grep -q 'connected: attached to session' "$WORK/dump.err"
check "... and a second one to the second session" \
	wait_for 5 grep -q 'connected: attached to session' "$WORK/once.err"
rc=0
timeout 20 "$DUMP" --no-reconnect "$url" >/dev/null 2>"$WORK/second.err" || rc=$?
check "a second viewer of the same session: exit 1 ($rc)" test "$rc" -eq 1
check "... saying the relayd serves one viewer per session" \
	grep -q "another viewer is attached to session '$S'" "$WORK/second.err"
check "this engine's events reach the follower (xsk_stats)" wait_for 15 stats_above 0
send -p messages -s 500 -c 1 10.77.0.1:5201
check "events flow before the relayd dies" wait_for 3 completes_above 0

{ kill -KILL "$RELAYD" && wait "$RELAYD"; } 2>/dev/null || true
check "the loss is reported within 3 s" wait_for 3 grep -q '^offrx-trace-dump: lost: lost lttng-relayd' \
	"$WORK/dump.err"
if exited_within 3 "$once_pid"; then
	check "--no-reconnect exits 1 on the loss ($EXIT_RC)" test "$EXIT_RC" -eq 1
else
	check "--no-reconnect exits 1 on the loss (still running)" false
fi
check "... saying so" grep -q 'lost lttng-relayd.*(reconnection is off)' "$WORK/once.err"
tries() { grep -c "lost: lttng-relayd at net://localhost:$LIVE does not answer" "$WORK/dump.err"; }
check "the follower keeps trying, and says so" wait_for 10 eval '[[ $(tries) -ge 2 ]]'
check "... without exiting" kill -0 "$dump_pid"

t0=$(date +%s%N)
check "the relayd comes back on the same ports" relayd_start
lttng destroy "$S" >/dev/null 2>&1 || true # the old one streams nowhere now
check "the session is created again" session_start "$S"
if wait_for 8 grep -Eq 'connected: (attached again to session|connected again to)' "$WORK/dump.err"; then
	check "the follower attaches again ($((($(date +%s%N) - t0) / 1000000)) ms after the restart)" true
else
	check "the follower attaches again" false
fi
before=$(our_completes)
stats=$(our_stats)
check "... and this engine's events reach it again (xsk_stats)" wait_for 15 stats_above "$stats"
send -p messages -s 700 -c 1 10.77.0.1:5201
check "events after the restart appear" wait_for 5 completes_above "$before"
check "... decoded (700 bytes)" grep -q "^[0-9]* complete $vpid [0-9]* 1 status=SUCCESS bytes=700 " \
	"$WORK/dump.txt"

kill -INT "$dump_pid"
if exited_within 3 "$dump_pid"; then
	check "Ctrl-C stops the follower at once (exit $EXIT_RC)" test "$EXIT_RC" -eq 0
else
	check "Ctrl-C stops the follower at once (still running)" false
fi
check "... and its summary counts one reconnection" grep -q ', 1 reconnects$' "$WORK/dump.err"

# A session that never appears, and a URL where no relayd listens.
rc=0
timeout 20 "$DUMP" --wait 1 "net://localhost:$LIVE/host/$(hostname)/nosuch$$" >/dev/null \
	2>"$WORK/nosuch.err" || rc=$?
check "a session that never appears: exit 1 ($rc)" test "$rc" -eq 1
check "... saying which and what the relayd serves" \
	grep -q "no session 'nosuch$$'.*it serves: .*$S" "$WORK/nosuch.err"
rc=0
port_free 1 && timeout 20 "$DUMP" "net://127.0.0.1:1/host/h/s" >/dev/null 2>"$WORK/norelay.err" || rc=$?
check "no relayd there: exit 1 ($rc)" test "$rc" -eq 1
check "... saying it does not answer and what to do" \
	grep -q 'lttng-relayd at net://127.0.0.1:1 does not answer.*lttng-relayd --daemonize' "$WORK/norelay.err"
[[ $FAILED -eq 0 ]] || sed 's/^/  dump: /' "$WORK/dump.err"
finish
