#!/usr/bin/env bash
# The trace under a real session: offrx-recv over the namespace topology with the message, bulk
# and MSG_MORE patterns (plus a run with nothing posted, for indicate and return, and one with
# partial checksums, for drops), recorded by lttng-sessiond with per-UID buffers, read back
# with babeltrace2 and checked by check_trace.py.
. "$OFFRX_SRC/tests/support/e2e.sh"

TRACE=$WORK/trace
SESSION=offrxtest$$
STARTED_SESSIOND=
if ! pgrep -x lttng-sessiond >/dev/null; then
	lttng-sessiond --daemonize
	STARTED_SESSIOND=1
fi
stop_tracing() {
	lttng destroy "$SESSION" >/dev/null 2>&1 || true
	if [[ -n "$STARTED_SESSIOND" ]]; then pkill -x lttng-sessiond || true; fi
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'stop_tracing; cleanup'

lttng create "$SESSION" --output="$TRACE" >/dev/null
lttng enable-channel -u -s "$SESSION" --buffers-uid --subbuf-size=4M --num-subbuf=8 offrx >/dev/null
lttng enable-event -u -s "$SESSION" -c offrx 'offrx:*' >/dev/null
lttng add-context -u -s "$SESSION" -c offrx -t vpid -t procname >/dev/null
lttng start "$SESSION" >/dev/null

# Messages (PSH), bulk, and an MSG_MORE trickle the push timer completes.
start_recv --max-conns 3 --push-timer-ms 100 --buf-size 65536 --depth 4
peer "$SEND" --quiet -p messages -s 1000 -i 20 -c 20 10.77.0.1:5201
peer "$SEND" --quiet -n 8M 10.77.0.1:5201
peer "$SEND" --quiet -p trickle -s 1482 -i 400 -c 4 --mss 1000 10.77.0.1:5201
wait_recv
# Nothing posted: the engine indicates, offrx-recv accepts and returns the buffers.
start_recv --max-conns 1 --depth 0
peer "$SEND" --quiet -n 1M 10.77.0.1:5201
wait_recv
# Partial checksums from a sender veth with tx offload on: drops, with their reason.
ip netns exec "$NS-peer" ethtool -K peer0 tx on >/dev/null
start_recv --duration 2
peer timeout 1.5 "$SEND" --quiet -n 1K 10.77.0.1:5201 >/dev/null 2>&1 || true
wait_recv || true

lttng stop "$SESSION" >/dev/null
discarded=$(lttng list "$SESSION" | sed -n 's/.*Discarded events: *\([0-9]*\).*/\1/p' | head -1)
babeltrace2 "$TRACE" >"$WORK/trace.txt"
check "babeltrace2 reads the trace ($(wc -l <"$WORK/trace.txt") events, ${discarded:-0} discarded)" \
	test -s "$WORK/trace.txt"
check "the drops carry their reason" grep -q 'offrx:drop: .*"tcp_partial_csum"' "$WORK/trace.txt"
if python3 "$SRC/tests/trace/check_trace.py" "$WORK/trace.txt"; then
	check "trace invariants (check_trace.py)" true
else
	check "trace invariants (check_trace.py)" false
fi
if [[ -x "$BIN/exporters/offrx-export" ]]; then
	vrc=0
	"$BIN/exporters/offrx-export" --verify "$TRACE" >"$WORK/verify.txt" 2>&1 || vrc=$?
	check "offrx-export --verify: no violation ($vrc)" test "$vrc" -eq 0
	[[ $vrc -eq 0 ]] || grep -m5 '^violation' "$WORK/verify.txt"
fi
finish
