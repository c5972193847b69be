# Shared by the viewer tests (sourced after tests/e2e/lib.sh): the viewer binary, tmux driving,
# and a trace recorded here with three connections of different patterns.
VIEW=$BIN/viewer/offrx-view
if [[ ! -x "$VIEW" ]]; then
	echo "skip: $VIEW is not built"
	exit 77
fi
for tool in lttng lttng-sessiond babeltrace2 tmux python3; do
	command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
# The daemons belong in the machine's namespace, not the engine's; they may stay running.
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null

TMUX_SESSION=offrxview$$
TRACE_DIRS=()
SEND_PIDS=()
view_cleanup() {
	local p d
	set +e # clean up all of it, whatever fails
	tmux kill-session -t "$TMUX_SESSION" 2>/dev/null || true
	for p in "${SEND_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	for d in "${TRACE_DIRS[@]}"; do
		if [[ -n "$d" && -d "$d" ]]; then rm -rf "$d"; fi
	done
	# a live session's copy that lttng-relayd kept under ~/lttng-traces/HOST/SESSION-DATE
	if [[ -n "${LIVE_SESSION:-}" ]]; then
		for d in "$HOME"/lttng-traces/*/"$LIVE_SESSION"-*; do
			if [[ -d "$d" ]]; then rm -rf "$d"; fi
		done
	fi
	cleanup
	# scripts/netns down can miss a namespace: its ns_exists() pipes into grep -q under
	# pipefail, which fails when awk gets SIGPIPE (many namespaces listed). Make sure.
	for d in "$NS-eng" "$NS-peer"; do
		if [[ -e /run/netns/$d ]]; then ip netns del "$d" 2>/dev/null; fi
	done
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'view_cleanup'

# send ARGS...: offrx-send --quiet from the peer namespace, retried while the receiver refuses.
send() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		peer "$SEND" --quiet "$@" 2>"$WORK/send.$BASHPID.err" && return 0
		grep -q 'Connection refused' "$WORK/send.$BASHPID.err" || break
		sleep 0.2
	done
	cat "$WORK/send.$BASHPID.err"
	return 1
}

# record_three: offrx-recv --trace with a bulk stream, messages and an MSG_MORE trickle at the
# same time (push timer 100 ms); the trace ends up in $TRACE, offrx-recv's JSON in recv.json.
record_three() {
	start_recv --trace --max-conns 3 --push-timer-ms 100 --buf-size 65536 --depth 4 "$@"
	local where= i
	for i in $(seq 100); do
		where=$(sed -n 's/^offrx-recv: tracing to \([^ ]*\) .*/\1/p' "$WORK/recv.err")
		[[ -n "$where" ]] && break
		sleep 0.05
	done
	[[ "$where" == /* ]] && TRACE_DIRS+=("$where")
	# The session is per user: other engines running now are in the trace too. Ours is the
	# session's pid (offrx-recv-PID), and the views filter on it.
	VPID=$(sed -n 's/^offrx-recv: tracing to .* (session offrx-recv-\([0-9]*\)).*/\1/p' "$WORK/recv.err")
	send -p trickle -s 1482 -i 400 -c 4 --mss 1000 10.77.0.1:5201 &
	SEND_PIDS+=($!)
	send -p messages -s 1000 -i 20 -c 40 10.77.0.1:5201 &
	SEND_PIDS+=($!)
	send -n 16M 10.77.0.1:5201 &
	SEND_PIDS+=($!)
	wait "${SEND_PIDS[@]}" || true
	SEND_PIDS=()
	wait_recv >/dev/null || true
	TRACE=$WORK/trace
	mv "$where" "$TRACE"
	TRACE_DIRS+=("$TRACE")
}

. "$OFFRX_SRC/tests/viewer/lib_tmux.sh"
