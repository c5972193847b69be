#!/usr/bin/env bash
# offrx-view on samples/traces/demo-mix, driven through tmux (no root, no daemon): the filter is
# edited the way htop's is (/ starts from the filter in force, a typed word is one more term,
# a term that does not parse is an error and Enter does not apply it, Esc cancels, Ctrl-U
# clears), --filter refuses what does not parse; the detail's what-if line of the port-5203
# trickle replays its completions (most are the push timer's, so its share is not 0); a step
# back shows the new time only with the model rebuilt up to it, so e exports every connection.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
OFFRX_SRC=$SRC
VIEW=$BIN/viewer/offrx-view
TRACE=$SRC/samples/traces/demo-mix
[[ -x "$VIEW" ]] || { echo "skip: $VIEW is not built"; exit 77; }
command -v tmux >/dev/null || { echo "skip: tmux missing"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-view-sample.XXXXXX)
TMUX_SESSION=offrxsample$$
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'tmux kill-session -t "$TMUX_SESSION" 2>/dev/null || true; rm -rf "$WORK"'
. "$SRC/tests/support/tmux.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
show() { screen | sed 's/^/  | /'; }
VPID=12665 # the sample's engine; 27 connections, two of them (port 5203) timer-bound

# ---- --filter: terms that do not parse are refused ----
for bad in pid:12665timer pid:12x pidd:3 70000 timr; do
	rc=0
	"$VIEW" --batch --speed 0 --filter "$bad" "$TRACE" >/dev/null 2>"$WORK/bad.err" || rc=$?
	check "--filter '$bad': refused, exit 2 ($rc): $(cat "$WORK/bad.err")" \
		test "$rc" -eq 2 -a -n "$(grep "offrx-view: --filter: '$bad'" "$WORK/bad.err")"
done
"$VIEW" --batch --speed 0 --filter "pid:$VPID,timer" "$TRACE" >"$WORK/b.txt"
check "--filter 'pid:$VPID,timer': both terms hold: the two trickles" \
	grep -q ' shown=2$' "$WORK/b.txt"

# ---- / on screen ----
rm -f "$WORK/view.exit"
view_start --speed 0 --sort id --filter "pid:$VPID" "$TRACE"
check "the replay ends with the filter in force: 27 of 27 shown" \
	wait_screen "filter: pid:$VPID 27/27 shown"
keys /
check "/ starts from the filter in force, ready for one more term" wait_screen "Filter: pid:$VPID +\\(all words match"
keys t i m e r
check "... typed 'timer': in force as typed (2 of 27)" wait_screen "Filter: pid:$VPID timer "
keys Enter
if wait_screen "filter: pid:$VPID timer 2/27 shown" 5; then
	check "Enter: both terms in force, the two timer-bound trickles shown" true
else
	check "Enter: both terms in force, the two timer-bound trickles shown" false
	show
fi
check "... their rows" test "$(screen | grep -c '10\.77\.0\.1:5203')" -eq 2
keys / x y z
check "/ then 'xyz': an error that says why, the filter in force stays" \
	wait_screen "'xyz' is not a filter term"
keys Enter
check "... Enter does not apply it: still editing" wait_screen "Filter: pid:$VPID timer xyz "
keys Escape
check "Esc cancels: the filter before stays" wait_screen "filter: pid:$VPID timer 2/27 shown"
keys / C-u p i d : 1 2 x
check "Ctrl-U clears; 'pid:12x' is an error (a process id is digits)" \
	wait_screen "'pid:12x': after 'pid:' give a process id"
keys BSpace BSpace BSpace BSpace BSpace BSpace BSpace 5 2 0 3 Enter
check "Backspace edits: '5203' (a port) in force, 2 of 27" wait_screen "filter: 5203 2/27 shown"

# ---- the what-if line of a trickle ----
keys Enter
check "Enter: the detail of a port-5203 trickle" wait_screen 'conn [46] \(pid 12665\)'
if wait_screen 'what if, last .*timer 50ms: push-timer [0-9]+%' 10; then
	line=$(screen | grep 'what if')
	check "its what-if line: ${line# }" true
	check "... replays its 23 completions" grep -q 'last 5.62s (23 completions)' <<<"$line"
	check "... most of which are the push timer's: a share that is not 0, an lf p99" \
		grep -Eq 'timer 50ms: push-timer [1-9][0-9]*%, lf p99 [0-9.]+ms' <<<"$line"
else
	check "its what-if line" false
	show
fi
keys q
check "q quits with status 0" wait_exit 5
check "... status ${VIEW_RC:-none}" test "${VIEW_RC:-1}" -eq 0

# ---- a step back, then e: the screen shows the new time with the model rebuilt ----
# Paused at +5 s, Right to +6 s, Left back to +5 s (a replay from the start). The new time
# shows only once the model has reached it: then all 24 connections of +5 s are listed.
rm -f "$WORK/view.exit"
view_start --paused --speed 0 --from 5s --sort id --export-dir "$WORK" "$TRACE"
check "paused at +5 s (--from: seeking there first)" wait_screen 'paused\] .*trace time \+5\.000s'
check "... 24 rows" test "$(screen | grep -Ec "^ +$VPID ")" -eq 24
for round in 1 2 3; do
	keys Right
	wait_screen 'paused\] .*trace time \+6\.000s' || true
	keys Left
	# poll fast: the first screen that shows +5.000 s must list all 24
	rows=
	for _ in $(seq 500); do
		s=$(screen)
		if grep -Eq 'paused\] .*trace time \+5\.000s' <<<"$s"; then
			rows=$(grep -Ec "^ +$VPID " <<<"$s")
			break
		fi
		sleep 0.01
	done
	check "step back $round: the first screen at +5.000s lists 24 connections (${rows:-none})" \
		test "${rows:-0}" -eq 24
done
keys e
if wait_screen 'exported [0-9]+ completions of 24 connections to .*\.json' 5; then
	check "e exports the 24 connections on screen" true
else
	check "e exports the 24 connections on screen" false
	show
fi
keys q
check "q quits" wait_exit 5
finish
