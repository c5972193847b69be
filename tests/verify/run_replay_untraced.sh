#!/usr/bin/env bash
# A what-if replay writes no event into a session that records this user's engines: the
# replay runs the engine's core (offrx_core, no trace sink), not liboffrx's traced engine.
# One session records everything offrx of this user while offrx-export --what-if replays the
# sample trace; offrx-minimal --mem (liboffrx, in-memory link, traced) runs in the same session
# as the control that the session does record engines. Needs lttng-sessiond (root): label trace.
set -uo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
EXPORT=$BIN/exporters/offrx-export
MINIMAL=$BIN/samples/offrx-minimal
for f in "$EXPORT" "$MINIMAL"; do
	[[ -x $f ]] || { echo "skip: $f is not built"; exit 77; }
done
for c in lttng babeltrace2; do
	command -v $c >/dev/null || { echo "skip: $c is missing"; exit 77; }
done
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null
WORK=$(mktemp -d /tmp/offrx-untraced.XXXXXX)
SESSION=offrxuntraced$$
cleanup() {
	lttng destroy "$SESSION" >/dev/null 2>&1
	[[ -n ${OFFRX_KEEP:-} ]] || rm -rf "$WORK"
}
. "$SRC/tests/support/on_exit.sh"
on_exit 'cleanup'
. "$SRC/tests/support/checks.sh"

lttng create "$SESSION" --output="$WORK/trace" >/dev/null
lttng enable-channel -u -s "$SESSION" --buffers-uid offrx >/dev/null
lttng enable-event -u -s "$SESSION" -c offrx 'offrx:*' >/dev/null
lttng add-context -u -s "$SESSION" -c offrx -t vpid -t procname >/dev/null
lttng start "$SESSION" >/dev/null

"$EXPORT" --what-if push-timer=50,200 "$SRC/samples/traces/demo-mix" >"$WORK/whatif.txt" 2>&1 &
replay=$!
wait $replay
replay_rc=$?
"$MINIMAL" --mem >"$WORK/minimal.txt" 2>&1 &
control=$!
wait $control
lttng stop "$SESSION" >/dev/null
lttng destroy "$SESSION" >/dev/null

babeltrace2 "$WORK/trace" >"$WORK/events.txt" 2>"$WORK/bt.err"
check "the replay ran (exit $replay_rc, what-if rows printed)" \
	bash -c "[[ $replay_rc == 0 ]] && grep -q 'what if 50 ms' '$WORK/whatif.txt'"
n_control=$(grep -c "vpid = $control\b" "$WORK/events.txt")
check "control: the session recorded offrx-minimal --mem's engine ($n_control events of vpid $control)" \
	test "$n_control" -gt 0
n_replay=$(grep -c "vpid = $replay\b" "$WORK/events.txt")
check "the replay wrote no event ($n_replay events of vpid $replay)" test "$n_replay" -eq 0
((FAILED == 0)) || grep -m5 "vpid = $replay\b" "$WORK/events.txt"
finish
