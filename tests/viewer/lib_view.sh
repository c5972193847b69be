# Shared by the viewer tests (sourced after tests/support/e2e.sh): the viewer binary, tmux driving
# (support/tmux.sh), the trace bookkeeping (support/trace.sh), and a trace recorded here with
# three connections of different patterns.
VIEW=$BIN/viewer/offrx-view
if [[ ! -x "$VIEW" ]]; then
	echo "skip: $VIEW is not built"
	exit 77
fi
for tool in lttng lttng-sessiond babeltrace2 tmux python3; do
	command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
. "$OFFRX_SRC/tests/support/trace.sh"

TMUX_SESSION=offrxview$$
SEND_PIDS=()
view_cleanup() {
	local p d
	set +e # clean up all of it, whatever fails
	tmux kill-session -t "$TMUX_SESSION" 2>/dev/null || true
	for p in "${SEND_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	# a live session's copy that lttng-relayd kept under ~/lttng-traces/HOST/SESSION-DATE
	if [[ -n "${LIVE_SESSION:-}" ]]; then
		TRACE_GLOBS+=("$HOME/lttng-traces/*/$LIVE_SESSION-*")
	fi
	trace_cleanup
	# scripts/netns down can miss a namespace: its ns_exists() pipes into grep -q under
	# pipefail, which fails when awk gets SIGPIPE (many namespaces listed). Make sure.
	for d in "$NS-eng" "$NS-peer"; do
		if [[ -e /run/netns/$d ]]; then ip netns del "$d" 2>/dev/null; fi
	done
}
on_exit 'view_cleanup'

# record_three: offrx-recv --trace with a bulk stream, messages and an MSG_MORE trickle at the
# same time (push timer 100 ms); the trace ends up in $TRACE, offrx-recv's JSON in recv.json.
record_three() {
	start_recv --trace --max-conns 3 --push-timer-ms 100 --buf-size 65536 --depth 4 "$@"
	local where
	where=$(recv_location)
	[[ "$where" == /* ]] && TRACE_DIRS+=("$where")
	# The session is per user: other engines running now are in the trace too. Ours is the
	# session's pid (offrx-recv-PID), and the views filter on it.
	VPID=$(sed -n 's/^offrx-recv: tracing to .* (session offrx-recv-\([0-9]*\)).*/\1/p' "$WORK/recv.err")
	send -p trickle -s 1482 -i 400 -c 6 --mss 1000 10.77.0.1:5201 &
	SEND_PIDS+=($!)
	send -p messages -s 1000 -i 20 -c 40 10.77.0.1:5201 &
	SEND_PIDS+=($!)
	# The bulk stream lasts tens of milliseconds: start it once the other two are connected,
	# so that the trace has a time when all three are open however late a loaded machine
	# starts the senders (the trickle lasts 2.4 s, the messages 0.8 s). The trickle outlasts the
	# bulk by 2 s or more, so a paused view at the bulk's time can step 1 s on (Right) and
	# stay inside the trace: test_view_replay checks that margin.
	local n=0
	for _ in $(seq 500); do
		n=$(peer ss -Htn state established '( dport = :5201 )' | wc -l)
		((n >= 2)) && break
		sleep 0.02
	done
	((n >= 2)) || echo "record_three: the trickle and the messages did not connect within 10 s"
	# 64 MiB: with a fill per request per receive batch (event set 2) a smaller bulk leaves
	# the stream files too small for test_view_replay's corrupt-trace check.
	send -n 64M 10.77.0.1:5201 &
	SEND_PIDS+=($!)
	finish_recording "$where"
}

# finish_recording WHERE: wait for the senders (SEND_PIDS) and offrx-recv, then move the trace
# offrx-recv wrote at WHERE to $TRACE ($WORK/trace), which cleanup removes.
finish_recording() {
	wait "${SEND_PIDS[@]}" || true
	SEND_PIDS=()
	wait_recv >/dev/null || true
	TRACE=$WORK/trace
	mv "$1" "$TRACE"
	TRACE_DIRS+=("$TRACE")
}

. "$OFFRX_SRC/tests/support/tmux.sh"
