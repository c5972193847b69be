#!/usr/bin/env bash
# The viewer's reader + model throughput against babeltrace2's own text output, on one trace of
# at least 5 million events (recorded here from a bulk transfer through the engine unless one
# is given), and optionally the viewer's CPU share while it follows a live session.
#
#   bench/bench_view.sh [--build DIR] [--trace DIR] [--bytes N] [--live] [--keep]
#
#   --build DIR   the build directory (default: build)
#   --trace DIR   use this recorded trace instead of recording one
#   --bytes N     bulk bytes to record (default 4G: some 6 million events)
#   --live        also measure offrx-view's CPU share following a live bulk transfer
#   --keep        keep the recorded trace (its path is printed)
#
# Needs root (namespaces, XDP), lttng-sessiond (started if missing), babeltrace2. Prints
#   offrx-view --bench: E events in S s: X events/s
#   babeltrace2 > /dev/null: E events in S s: Y events/s
#   ratio X / Y: R (target >= 1.0)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
TRACE=
BYTES=4G
LIVE=
KEEP=
while [[ $# -gt 0 ]]; do
	case $1 in
	--build) BUILD=$(cd "$2" && pwd); shift 2 ;;
	--trace) TRACE=$2; shift 2 ;;
	--bytes) BYTES=$2; shift 2 ;;
	--live) LIVE=1; shift ;;
	--keep) KEEP=1; shift ;;
	-h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench_view.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
VIEW=$BUILD/viewer/offrx-view
RECV=$BUILD/samples/offrx-recv
SEND=$BUILD/samples/send/offrx-send
for f in "$VIEW" "$RECV" "$SEND"; do
	[[ -x "$f" ]] || { echo "bench_view.sh: $f is not built (cmake --build $BUILD)" >&2; exit 1; }
done
command -v babeltrace2 >/dev/null || { echo "bench_view.sh: babeltrace2 missing" >&2; exit 1; }

NS=offrxbv$$
WORK=$(mktemp -d /tmp/offrx-bench-view.XXXXXX)
PIDS=()
NS_UP=
LIVE_SESSION=
cleanup() {
	set +e
	local p
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [[ -n "$NS_UP" ]]; then
		"$SRC/scripts/netns" down --name "$NS" >/dev/null 2>&1
		for p in "$NS-eng" "$NS-peer"; do
			[[ -e /run/netns/$p ]] && ip netns del "$p" 2>/dev/null
		done
	fi
	if [[ -n "$LIVE_SESSION" ]]; then # what lttng-relayd kept of the live session
		for p in "$HOME"/lttng-traces/*/"$LIVE_SESSION"-*; do
			[[ -d "$p" ]] && rm -rf "$p"
		done
	fi
	if [[ -n "$KEEP" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
. "$(dirname "${BASH_SOURCE[0]}")/../tests/support/on_exit.sh"
on_exit 'cleanup'

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $* }"; } # no bc on a fresh machine

netns_up() {
	[[ $(id -u) -eq 0 ]] || { echo "bench_view.sh: recording needs root" >&2; exit 1; }
	pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null
	"$SRC/scripts/netns" up --name "$NS" >/dev/null
	NS_UP=1
}

# recv ARGS...: offrx-recv on eng0:5201; sets RECV_PID and WHERE (the trace path or URL)
recv() {
	ip netns exec "$NS-eng" "$RECV" --iface eng0 --port 5201 --quiet "$@" \
		>/dev/null 2>"$WORK/recv.err" &
	RECV_PID=$!
	PIDS+=("$RECV_PID")
	WHERE=
	for _ in $(seq 200); do
		WHERE=$(sed -n 's/^offrx-recv: tracing to \([^ ]*\) .*/\1/p' "$WORK/recv.err")
		[[ -n "$WORK" && -n "$WHERE" && "$(ip -n "$NS-eng" link show eng0)" == *xdp* ]] && return 0
		sleep 0.05
	done
	echo "bench_view.sh: offrx-recv did not start:" >&2
	cat "$WORK/recv.err" >&2
	exit 1
}

send_bulk() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ip netns exec "$NS-peer" "$SEND" --quiet -n "$1" 10.77.0.1:5201 2>"$WORK/send.err" && return 0
		grep -q 'Connection refused' "$WORK/send.err" || break
		sleep 0.2
	done
	cat "$WORK/send.err" >&2
	return 1
}

wait_recv() {
	local p=$RECV_PID
	for _ in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -INT "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	PIDS=("${PIDS[@]/$p/}")
}

if [[ -z "$TRACE" ]]; then
	netns_up
	echo "recording a bulk transfer of $BYTES through the engine (offrx-recv --trace) ..."
	recv --trace --max-conns 1
	send_bulk "$BYTES"
	wait_recv
	[[ "$WHERE" == /* ]] || { echo "bench_view.sh: no trace path from offrx-recv" >&2; exit 1; }
	mv "$WHERE" "$WORK/trace"
	TRACE=$WORK/trace
	grep -q 'discarded' "$WORK/recv.err" && echo "note: $(grep discarded "$WORK/recv.err")"
fi
echo "trace: $TRACE ($(du -sh "$TRACE" | cut -f1))"

# babeltrace2 first: it also warms the page cache for both.
t0=$(now)
babeltrace2 "$TRACE" >/dev/null
t1=$(now)
bt_events=$(babeltrace2 "$TRACE" | wc -l)
bt_s=$(calc "$t1 - $t0")
[[ $bt_events -ge 5000000 ]] ||
	echo "warning: the trace holds $bt_events events, fewer than the 5 million this bench wants (--bytes more)"
out=$("$VIEW" --bench "$TRACE")
v_events=$(sed -n 's/.*events=\([0-9]*\) .*/\1/p' <<<"$out")
v_s=$(sed -n 's/.*seconds=\([0-9.]*\) .*/\1/p' <<<"$out")
v_rate=$(sed -n 's/.*events_per_s=\([0-9]*\).*/\1/p' <<<"$out")
bt_rate=$(calc "$bt_events / $bt_s")
printf 'offrx-view --bench (reader + model): %d events in %.2f s: %.0f events/s\n' "$v_events" "$v_s" "$v_rate"
printf 'babeltrace2 TRACE > /dev/null:      %d events in %.2f s: %.0f events/s\n' "$bt_events" "$bt_s" "$bt_rate"
printf 'ratio: %.2f (target >= 1.0)\n' "$(calc "$v_rate / $bt_rate")"

if [[ -n "$LIVE" ]]; then
	[[ -n "$NS_UP" ]] || netns_up
	echo "live: offrx-view --batch following offrx-recv --trace-live through a $BYTES bulk transfer ..."
	recv --trace-live --max-conns 1
	LIVE_SESSION=${WHERE##*/}
	"$VIEW" --batch --interval 1000 "$WHERE" >/dev/null 2>"$WORK/view.err" &
	vpid=$!
	PIDS+=("$vpid")
	sleep 2
	ticks=$(getconf CLK_TCK)
	cpu0=$(awk '{ print $14 + $15 }' /proc/$vpid/stat)
	t0=$(now)
	send_bulk "$BYTES"
	sleep 1 # the live timer's last batch
	cpu1=$(awk '{ print $14 + $15 }' /proc/$vpid/stat)
	t1=$(now)
	wait_recv
	kill -INT "$vpid" 2>/dev/null || true
	wait "$vpid" 2>/dev/null || true
	printf 'live: offrx-view used %.0f%% of one CPU over %.1f s (reader, model and snapshots)\n' \
		"$(calc "100 * ($cpu1 - $cpu0) / $ticks / ($t1 - $t0)")" "$(calc "$t1 - $t0")"
fi
