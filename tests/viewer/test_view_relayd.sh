#!/usr/bin/env bash
# offrx-view live when lttng-relayd dies: the viewer follows a live session on a relayd of this
# test's own (its own ports: the machine's relayd stays untouched) while a trickle connection
# is open; the relayd is killed and started again. LTTng does not register the old session on
# the new relayd, so the viewer must say the session ended and mark the connection it fed
# stale ("stale since HH:MM:SS"), not go on showing it open with frozen figures. When the
# session is created again, a new connection shows live next to the stale one.
. "$OFFRX_SRC/tests/support/e2e.sh"
VIEW=$BIN/viewer/offrx-view
[[ -x "$VIEW" ]] || { echo "skip: $VIEW is not built"; exit 77; }
for tool in lttng lttng-sessiond lttng-relayd tmux ss; do
	command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
. "$SRC/tests/support/trace.sh"
TMUX_SESSION=offrxrelayd$$
. "$SRC/tests/support/tmux.sh"
view_relayd_cleanup() {
	tmux kill-session -t "$TMUX_SESSION" 2>/dev/null || true
	trace_cleanup
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'view_relayd_cleanup'

. "$SRC/tests/support/relayd.sh"
S=offrxvr$$
SESSIONS+=("$S")
show() { screen | sed 's/^/  | /'; }
# our_rows STATE: rows of this test's receiver (its pid) in that state on screen
our_rows() { screen | grep -Ec "^ +$vpid +[0-9]+\\?? +10\\.77\\.0\\.2:[0-9]+ +10\\.77\\.0\\.1:5201 +$1 "; }

check "a relayd of our own listens on 127.0.0.1:$P-$LIVE" relayd_start
check "a live session streams to it" session_start "$S"
start_recv --duration 80
vpid=$RECV_PID
url=net://localhost:$LIVE/host/$(hostname)/$S

view_start --sort id --filter "pid:$vpid" "$url"
check "the viewer attaches to $S" wait_screen "\\[live\\] $url" 15
# A live viewer sees what comes after it attached; a connection it missed the opening of
# comes with its conn_state snapshot (every 500 ms), so the check below waits, bounded.
# a trickle that stays open well past the relayd's death (400 ms x 60)
send -p trickle -s 1482 -i 400 -c 60 --mss 1000 10.77.0.1:5201 >/dev/null 2>&1 &
PIDS+=($!)
if wait_screen " 10\\.77\\.0\\.1:5201 +open " 15; then
	check "the trickle connection shows live, open" true
else
	check "the trickle connection shows live, open" false
	show
fi
check "... and not stale" test "$(our_rows stale)" -eq 0

{ kill -KILL "$RELAYD" && wait "$RELAYD"; } 2>/dev/null || true
check "the relayd killed: the viewer says it is reconnecting" wait_screen '\[reconnecting\]|lost lttng-relayd' 10
check "the relayd comes back on the same ports" relayd_start
# LTTng does not register the old session on the new relayd: it is gone.
if wait_screen "\\[session ended\\]" 20; then
	check "the viewer says the session ended" true
else
	check "the viewer says the session ended" false
	show
fi
check "... naming it, and since when its connections are stale" \
	wait_screen "session '$S' ended, its connections stale since [0-9]{2}:[0-9]{2}:[0-9]{2}: lttng-relayd came back without it" 5
check "the trickle's row is marked stale" wait_screen " 10\\.77\\.0\\.1:5201 +stale " 5
check "... and no row of ours shows open any more" test "$(our_rows open)" -eq 0
keys Enter
check "its detail: stale since HH:MM:SS" wait_screen 'stale since [0-9]{2}:[0-9]{2}:[0-9]{2} \(its session is gone\)' 5
keys Escape

# The session created again: the viewer (it names the session) attaches to it; the trickle,
# still sending, reaches it: its row is live again (the gap makes it suspect).
lttng destroy "$S" >/dev/null 2>&1 || true # the old one streams nowhere now
check "the session is created again" session_start "$S"
check "the viewer attaches again" wait_screen "\\[live\\] $url" 20
check "the trickle's row is live again: open" wait_screen " 10\\.77\\.0\\.1:5201 +open " 15
check "... none stale" test "$(our_rows stale)" -eq 0
[[ $FAILED -gt 0 ]] && show
keys q
check "q quits with status 0" wait_exit 5
check "... status ${VIEW_RC:-none}" test "${VIEW_RC:-1}" -eq 0
finish
