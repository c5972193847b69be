#!/usr/bin/env bash
# offrx-demo with no arguments, in a tmux terminal: offrx-view comes up on the demo's live
# session and shows at least four open connections whose counters move; q quits the viewer and
# the demo tears everything down, prints where the trace is, and exits 0.
. "$OFFRX_SRC/tests/demo/lib.sh"
need_root_tools
command -v tmux >/dev/null || skip "tmux missing"
[[ -x "$VIEW" ]] || skip "$VIEW is not built"
PREFIX=odi$$
TMUX_SESSION=offrxdemo$$
EXTRA_CLEANUP+=("tmux kill-session -t $TMUX_SESSION 2>/dev/null")
daemons_before

# --name: a test must not take the namespaces of a demo someone runs by hand
tmux new-session -d -s "$TMUX_SESSION" -x 180 -y 50 \
	"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 $DEMO --name $PREFIX; echo \"exit=\$?\" >$WORK/exit; sleep 60"
. "$SRC/tests/support/tmux.sh" # screen, wait_screen, keys
pid=
for _ in $(seq 100); do
	pid=$(tmux list-panes -t "$TMUX_SESSION" -F '#{pane_pid}' 2>/dev/null | head -1)
	pid=$(pgrep -P "$pid" -x offrx-demo || true)
	[[ -n "$pid" ]] && break
	sleep 0.1
done
check "offrx-demo started in the terminal (pid ${pid:-none})" test -n "$pid"
[[ -n "$pid" ]] && DEMO_PIDS+=("$pid")
check "offrx-view attached to the demo's live session" \
	wait_screen "\\[live\\] net://localhost.*/offrx-demo-$pid" 20

rows() { screen | grep -E " 10\\.77\\.0\\.2:[0-9]+ +10\\.77\\.0\\.1:520[1-5] +open " || true; }
check "at least four open connections on screen" \
	eval 'for i in $(seq 150); do [[ $(rows | wc -l) -ge 4 ]] && break; sleep 0.1; done; [[ $(rows | wc -l) -ge 4 ]]'
prog=$(xdp_prog_id "$PREFIX")
peers=$(ip netns pids "$PREFIX-peer" 2>/dev/null | tr '\n' ' ')
# columns: PID ID REMOTE LOCAL STATE Q HEAD MODE TIMER POSTED DONE IND RATE P50 P99 TIMER%:
# key by ID, take DONE (sixth from the end; HEAD is two words)
done_by_id() { rows | awk '{ print $2, $(NF-5) }' | sort; }
done_by_id >"$WORK/d1.txt"
# until four connections have completed more requests, at most 15 s
moved_count() {
	done_by_id >"$WORK/d2.txt"
	moved=$(join "$WORK/d1.txt" "$WORK/d2.txt" | awk '$2 != $3' | wc -l)
	[[ $moved -ge 4 ]]
}
moved=0
wait_for 15 moved_count || true
check "the counters move: $moved connections completed more requests" test "$moved" -ge 4
[[ $moved -ge 4 ]] || { screen | head -30 | sed 's/^/  | /'; paste "$WORK/d1.txt" "$WORK/d2.txt" | sed 's/^/  d /'; }

keys q
check "q: the demo tears down and exits" wait_line "$WORK/exit" 'exit=' 60
check "... with status 0 ($(cat "$WORK/exit" 2>/dev/null))" grep -qx 'exit=0' "$WORK/exit"
screen >"$WORK/final.txt"
check "... saying what it removed" grep -q 'offrx-demo: removed senders, engine' "$WORK/final.txt"
check "... and where the trace is" grep -q '^trace: ' "$WORK/final.txt"
trace=$(sed -n 's/^trace: *//p' "$WORK/final.txt" | head -1)
[[ -n "$trace" ]] && TRACES+=("$trace")
check "the trace exists ($trace)" test -d "$trace"
if [[ -x "$EXPORT" ]]; then
	check "... with its summary and chrome JSON beside it" \
		test -s "$trace.summary.json" -a -s "$trace.chrome.json"
	vrc=0
	"$EXPORT" --verify --vpid "${pid:-0}" "$trace" >"$WORK/verify.txt" 2>&1 || vrc=$?
	check "the trace passes offrx-export --verify ($vrc)" test "$vrc" -eq 0
	[[ $vrc -eq 0 ]] || grep -m5 '^violation\|^verdict' "$WORK/verify.txt" | sed 's/^/    /'
fi
[[ $FAILED -eq 0 ]] || sed 's/^/  | /' "$WORK/final.txt" | grep -v '^  | $' | head -30
leftovers_ok "teardown after q" "$PREFIX" "${pid:-0}" "$prog" "$peers"
finish
