#!/usr/bin/env bash
# offrx-view live: against offrx-recv --trace-live, --batch on the session's URL shows a trickle
# connection as it runs; with no argument, the viewer finds the offrx session on the local
# relayd by itself and shows the next connection live, with the lag and the live timer; pause
# freezes the screen while the model runs on; errors (no relayd, no session) are clear.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/viewer/lib_view.sh"
command -v lttng-relayd >/dev/null || { echo "skip: lttng-relayd missing"; exit 77; }

# errors first: nobody at the port, and a session the relayd does not serve
rc=0
"$VIEW" --batch net://localhost:5999/host/nohost/nosession >/dev/null 2>"$WORK/e1.txt" || rc=$?
check "no relayd at the URL: status 1 ($rc)" test "$rc" -eq 1
check "... and the message says so" grep -q 'offrx-view: .*5999' "$WORK/e1.txt"

start_recv --trace-live --max-conns 2 --push-timer-ms 100 --duration 60
url=$(recv_location)
check "offrx-recv --trace-live names its URL (${url:-none})" test -n "$url"
session=${url##*/}
LIVE_SESSION=$session # lib_view.sh removes what the relayd kept of it

rc=0
t0=$(date +%s)
"$VIEW" --batch "${url%/*}/nosuchsession$$" >/dev/null 2>"$WORK/e2.txt" || rc=$?
check "a session the relayd does not serve: status 1 ($rc) after $(( $(date +%s) - t0 )) s" test "$rc" -eq 1
check "... and the message names it" grep -q "nosuchsession$$" "$WORK/e2.txt"

# --batch on the URL while a trickle runs. The session is per user: other engines of this
# machine may write to it too, so the views filter on this offrx-recv (the session's pid).
vpid=${session##*-}
"$VIEW" --batch --interval 1000 --iterations 5 --filter pid:$vpid "$url" >"$WORK/live.txt" \
	2>"$WORK/live.err" &
batch_pid=$!
# Attach first: a live viewer sees what comes after it attached. Its first snapshot says so.
for _ in $(seq 150); do
	grep -q "^source where=$url kind=live state=live " "$WORK/live.txt" 2>/dev/null && break
	sleep 0.1
done
check "the --batch viewer attached to the live session (its first snapshot)" \
	grep -q "^source where=$url kind=live state=live " "$WORK/live.txt"
send -p trickle -s 1482 -i 400 -c 8 --mss 1000 10.77.0.1:5201 &
SEND_PIDS+=($!)
rc=0
wait "$batch_pid" || rc=$?
check "--batch --iterations 5 on the live URL: 5 snapshots, status 0 ($rc)" \
	test "$rc" -eq 0 -a "$(grep -c '^offrx-view snapshot=' "$WORK/live.txt")" -eq 5
check "... the source is live" grep -q "^source where=$url kind=live state=live " "$WORK/live.txt"
check "... with the lag and the live timer" grep -Eq '^live lag_ms=[0-9]+ live_timer_ms=100$' "$WORK/live.txt"
check "... and the trickle connection, open, its receive queue, with its queue" \
	grep -Eq "^$vpid [0-9]+ 10\\.77\\.0\\.2:[0-9]+ 10\\.77\\.0\\.1:5201 open [0-9-]+ 4 " "$WORK/live.txt"
[[ $FAILED -gt 0 ]] && sed 's/^/  | /' "$WORK/live.txt" | head -40
wait "${SEND_PIDS[@]}" || true
SEND_PIDS=()

# no argument: the viewer picks the offrx session on the local relayd
view_start --sort id --filter pid:$vpid
check "no argument: attached to $session on the local relayd" \
	wait_screen "\\[live\\] net://localhost.*/$session" 15
check "... the lag and the live timer in the header" wait_screen 'lag .* \(live timer 100ms\)'
send -p trickle -s 1482 -i 300 -c 12 --mss 1000 10.77.0.1:5201 &
SEND_PIDS+=($!)
check "a new connection shows up live, open" \
	wait_screen ' 10\.77\.0\.2:[0-9]+ +10\.77\.0\.1:5201 +open ' 10
check "... its push timer running or its queue filling" \
	wait_screen 'open +[0-9]+ .*push +([0-9.]+ms|due)' 10
keys p
check "p pauses the live view" wait_screen 'live, paused'
sleep 0.3
screen >"$WORK/p1.txt"
sleep 1.2
screen >"$WORK/p2.txt"
check "paused: the screen stays still while the trickle goes on" cmp -s "$WORK/p1.txt" "$WORK/p2.txt"
keys Left
check "Left, live: stepping needs a recorded trace (said on the status line)" \
	wait_screen 'stepping needs a recorded trace'
keys p
check "p resumes and catches up" wait_screen '\[live\]'
wait "${SEND_PIDS[@]}" || true
SEND_PIDS=()
wait_recv >/dev/null || true
check "the connections closed, on screen" wait_screen ' 10\.77\.0\.2:[0-9]+ +10\.77\.0\.1:5201 +closed ' 10
check "the session over, the viewer waits for the next one and says so" \
	wait_screen 'waiting for (an offrx live session|the next offrx session)|\[waiting\]' 20
keys q
check "q quits with status 0" wait_exit 5
check "... status ${VIEW_RC:-none}" test "${VIEW_RC:-1}" -eq 0
finish
