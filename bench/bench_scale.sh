#!/usr/bin/env bash
# Scale: thousands of concurrent connections through offrx-recv, each with 4 posted requests and
# a trickle of data (offrx-send --pattern hold: one full segment without PSH every --interval-ms
# per connection), so that every connection's push timer keeps running. For each count it
# reports the engine's memory per connection, its CPU per second with every timer running
# against idle, the live viewer's frame time with that many rows, and how late each push-timer
# completion came after its last byte compared with the timer.
#
#   bench/bench_scale.sh [--build DIR] [--conns "1000 10000"] [--seconds S] [--engine-fifo PRIO]
#                        [--check]
#
#   --build DIR         the build directory (default: build)
#   --conns LIST        connection counts, run one after the other (default "1000 10000")
#   --seconds S         how long each count trickles once all are connected (default 30)
#   --interval-ms I     per-connection write interval (default 600: above the timer, so
#                       each write is completed by the timer and then the next one starts it)
#   --push-timer-ms T   the engine's push timer (default 500, the Chimney default)
#   --tolerance-ms MS   a completion may come up to T + MS after its last byte (default 5)
#   --no-trace          no live session and no viewer (the engine alone)
#   --engine-fifo PRIO  run the engine under 'chrt -f PRIO' (SCHED_FIFO): the viewer, the
#                       sender and LTTng's daemons then wait for it, not it for them
#   --name PREFIX       namespace prefix (default offrxscale<pid>)
#   --out DIR           keep logs and per-count JSON there
#   --check             a test: exit 1 unless every connection was served byte-exact;
#                       exit 77 when not root
#   --strict-timing     with --check, also exit 1 when a completion exceeds T + tolerance
#   --max-late-ms MS    with --check, exit 1 when a completion comes more than MS after the
#                       timer (a bound loose enough for a loaded machine: CTest uses 50)
#
# Prints, per count, lines starting with "scale N:"; bench/RESULTS.md keeps them.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
COUNTS="1000 10000"
HOLD_S=30
INTERVAL=600
TIMER=500
TOL=5
TRACE=1
FIFO=()
NS=offrxscale$$
OUT=
CHECK=
STRICT=
MAX_LATE=
while [[ $# -gt 0 ]]; do
	case $1 in
	--build) BUILD=$(cd "$2" && pwd); shift 2 ;;
	--conns) COUNTS=$2; shift 2 ;;
	--seconds) HOLD_S=$2; shift 2 ;;
	--interval-ms) INTERVAL=$2; shift 2 ;;
	--push-timer-ms) TIMER=$2; shift 2 ;;
	--tolerance-ms) TOL=$2; shift 2 ;;
	--no-trace) TRACE=; shift ;;
	--engine-fifo)
		[[ $2 =~ ^[0-9]+$ && $2 -ge 1 && $2 -le 99 ]] ||
			{ echo "bench_scale.sh: --engine-fifo takes a priority from 1 to 99" >&2; exit 2; }
		FIFO=(chrt -f "$2"); shift 2 ;;
	--name) NS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--check) CHECK=1; shift ;;
	--strict-timing) STRICT=1; shift ;;
	--max-late-ms) MAX_LATE=$2; shift 2 ;;
	-h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench_scale.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
if [[ $(id -u) != 0 ]]; then
	echo "bench_scale.sh: needs root (network namespaces, XDP)" >&2
	[[ -n "$CHECK" ]] && exit 77
	exit 1
fi
RECV=$BUILD/samples/offrx-recv
SEND=$BUILD/samples/send/offrx-send
VIEW=$BUILD/viewer/offrx-view
for f in "$RECV" "$SEND" "$VIEW"; do
	[[ -x "$f" ]] || { echo "bench_scale.sh: $f is not built (cmake --build $BUILD)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "bench_scale.sh: python3 is missing" >&2; exit 1; }

WORK=${OUT:-$(mktemp -d /tmp/offrx-bench-scale.XXXXXX)}
mkdir -p "$WORK"
PIDS=()
SESSIONS=()
NS_UP=
STATUS=0
cleanup() {
	set +e
	local p
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for p in "${SESSIONS[@]}"; do
		lttng list "$p" >/dev/null 2>&1 && lttng destroy "$p" >/dev/null 2>&1
		rm -rf "$HOME"/lttng-traces/*/"$p"-* 2>/dev/null
	done
	[[ -n "$NS_UP" ]] && "$SRC/scripts/netns" down --name "$NS" >/dev/null 2>&1
	if [[ -z "$OUT" && $STATUS == 0 ]]; then rm -rf "$WORK"; else echo "bench_scale.sh: logs in $WORK" >&2; fi
}
. "$(dirname "${BASH_SOURCE[0]}")/../tests/support/on_exit.sh"
on_exit 'cleanup'
trap 'exit 130' INT TERM

if [[ -n "$TRACE" ]]; then
	pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null
	pgrep -x lttng-relayd >/dev/null || lttng-relayd --daemonize >/dev/null
fi
# The viewer talks to lttng-relayd; on a shared machine it may run in another network namespace
# (started by a test under 'ip netns exec'): then the viewer joins that one.
RELAYD_NS=()
RELAYD_PID=$(pgrep -x lttng-relayd | head -n 1 || true)
if [[ -n "$TRACE" && -n "$RELAYD_PID" &&
	$(readlink "/proc/$RELAYD_PID/ns/net") != $(readlink /proc/self/ns/net) ]]; then
	RELAYD_NS=(nsenter "--net=/proc/$RELAYD_PID/ns/net")
fi
"$SRC/scripts/netns" up --name "$NS" >/dev/null
NS_UP=1
HZ=$(getconf CLK_TCK)
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
# private RSS: without LTTng's ring buffers (shared memory, the same size for any count)
rss_private() { awk '/^Rss(Anon|File):/ {s += $2} END {print s}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu_ms_per_s PID SECONDS: the process's CPU time per second of wall time over SECONDS
cpu_ms_per_s() {
	local a b
	a=$(cpu_ticks "$1")
	sleep "$2"
	b=$(cpu_ticks "$1")
	python3 -c "print(round(($b - $a) * 1000 / $HZ / $2, 1))"
}

# ticks_of PID...: the processes' CPU ticks together (a process that is gone counts 0)
ticks_of() {
	local t=0 p v
	for p in "$@"; do
		v=$(cpu_ticks "$p" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# beside_ticks: the CPU ticks of what shares the machine with the engine: the viewer, the
# consumer daemons, the relays and the sender (VIEW_PID, CD_PIDS, RD_PIDS, SEND_PID)
beside_ticks() {
	echo "$(ticks_of $VIEW_PID) $(ticks_of "${CD_PIDS[@]}") $(ticks_of "${RD_PIDS[@]}") $(ticks_of "$SEND_PID")"
}

# How busy the machine was: the kernel's CPU pressure (PSI "some": microseconds in which a
# runnable task waited for a CPU), and how long the engine's threads waited for one (schedstat).
# Timers fire late on a starved machine whatever the engine does; these say whether it was.
psi_some_us() { awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu 2>/dev/null || echo 0; }
# (printf: mawk prints a sum past 2^31 as 5.2e+09, which bash arithmetic refuses)
wait_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%.0f\n", s }'; }

for N in $COUNTS; do
	D=$WORK/$N
	rm -rf "$D" # a kept --out from an earlier run must not answer the waits below
	mkdir -p "$D"
	LIMIT=$((N + 1024))
	TRACE_ARGS=()
	[[ -n "$TRACE" ]] && TRACE_ARGS=(--trace-live)
	ip netns exec "$NS-eng" "${FIFO[@]}" "$RECV" --iface eng0 --port 5301 --conn-limit "$LIMIT" \
		--depth 4 --buf-size 4096 --push-timer-ms "$TIMER" --max-conns "$N" --quiet --json \
		"${TRACE_ARGS[@]}" >"$D/recv.json" 2>"$D/recv.err" &
	RECV_PID=$!
	PIDS+=("$RECV_PID")
	for _ in $(seq 200); do
		grep -q 'receiving on' "$D/recv.err" 2>/dev/null && break
		kill -0 "$RECV_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q 'receiving on' "$D/recv.err" || { cat "$D/recv.err" >&2; STATUS=1; exit 1; }
	VIEW_PID=
	if [[ -n "$TRACE" ]]; then
		URL=$(sed -n 's/^offrx-recv: tracing to \([^ ]*\) (session \(.*\))$/\1/p' "$D/recv.err")
		SESSIONS+=("${URL##*/}")
		OFFRX_VIEW_FRAME_STATS=1 "${RELAYD_NS[@]}" "$VIEW" --batch -d 1000 "$URL" \
			>/dev/null 2>"$D/view.err" &
		VIEW_PID=$!
		PIDS+=("$VIEW_PID")
	fi
	sleep 2
	R0=$(rss "$RECV_PID")
	P0=$(rss_private "$RECV_PID")
	IDLE=$(cpu_ms_per_s "$RECV_PID" 5)

	ip netns exec "$NS-peer" "$SEND" -p hold -C "$N" -i "$INTERVAL" -d "$HOLD_S" --json \
		10.77.0.1:5301 >"$D/sent.jsonl" 2>"$D/send.err" &
	SEND_PID=$!
	PIDS+=("$SEND_PID")
	PSI0=$(psi_some_us) WAIT0=$(wait_ns "$RECV_PID") T0=$(date +%s%N)
	for _ in $(seq 1200); do
		grep -q 'connections open' "$D/send.err" && break
		kill -0 "$SEND_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'connections open' "$D/send.err"; then
		echo "bench_scale.sh: offrx-send did not open $N connections:" >&2
		tail -5 "$D/send.err" >&2
		STATUS=1
		exit 1
	fi
	# Let every connection reach its steady state (first writes, timers), then measure.
	# (a quarter of the run, then half of it measured: both inside the trickle)
	sleep $((HOLD_S / 4 > 1 ? HOLD_S / 4 : 1))
	# the engine's CPU, and over the same seconds that of what shares the machine with it
	MEASURE_S=$((HOLD_S / 2 > 1 ? HOLD_S / 2 : 1))
	mapfile -t CD_PIDS < <(pgrep -x lttng-consumerd || true)
	mapfile -t RD_PIDS < <(pgrep -x lttng-relayd || true)
	BESIDE0=$(beside_ticks)
	BUSY=$(cpu_ms_per_s "$RECV_PID" "$MEASURE_S")
	BESIDE1=$(beside_ticks)
	BESIDE="$HZ $MEASURE_S $BESIDE0 $BESIDE1"
	R1=$(rss "$RECV_PID")
	P1=$(rss_private "$RECV_PID")
	SEND_RC=0
	wait "$SEND_PID" || SEND_RC=$?
	PSI1=$(psi_some_us) WAIT1=$(wait_ns "$RECV_PID") T1=$(date +%s%N)
	STARVE="$(((PSI1 - PSI0) * 1000)) $((WAIT1 - WAIT0)) $((T1 - T0))"
	# offrx-recv exits once N connections have closed (--max-conns N)
	for _ in $(seq 300); do kill -0 "$RECV_PID" 2>/dev/null || break; sleep 0.1; done
	kill -INT "$RECV_PID" 2>/dev/null || true
	RECV_RC=0
	wait "$RECV_PID" || RECV_RC=$?
	if [[ -n "$VIEW_PID" ]]; then
		for _ in $(seq 50); do kill -0 "$VIEW_PID" 2>/dev/null || break; sleep 0.1; done
		kill -INT "$VIEW_PID" 2>/dev/null || true
		wait "$VIEW_PID" || true
	fi
	PIDS=()
	python3 - "$D" "$N" "$TIMER" "$TOL" "$R0" "$R1" "$P0" "$P1" "$IDLE" "$BUSY" "$SEND_RC" \
		"$RECV_RC" "$INTERVAL" "${CHECK:+1}" "${STRICT:+1}" "$MAX_LATE" "$STARVE" "$BESIDE" <<'EOF' || STATUS=1
import collections, json, os, re, sys
d, n, timer, tol = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r0, r1, p0, p1 = (int(x) for x in sys.argv[5:9])
idle, busy = float(sys.argv[9]), float(sys.argv[10])
send_rc, recv_rc, interval = int(sys.argv[11]), int(sys.argv[12]), int(sys.argv[13])
check, strict = sys.argv[14] == "1", sys.argv[15] == "1"
max_late = float(sys.argv[16]) if sys.argv[16] else None
psi_ns, wait_ns, span_ns = (int(x) for x in sys.argv[17].split())
bz = [int(x) for x in sys.argv[18].split()]
beside = {k: round((bz[6 + i] - bz[2 + i]) * 1000 / bz[0] / bz[1], 1)
          for i, k in enumerate(("offrx-view", "lttng-consumerd", "lttng-relayd", "offrx-send"))}
sent = collections.Counter()
errors = 0
for line in open(os.path.join(d, "sent.jsonl")):
    o = json.loads(line)
    if o.get("total"):
        continue
    if o.get("error"):
        errors += 1
    sent[(o["sha256"], o["bytes"])] += 1
try:
    r = json.load(open(os.path.join(d, "recv.json")))
except (OSError, ValueError):
    r = {"connections": [], "drops": {}}
recv = collections.Counter((c["sha256"], c["bytes"]) for c in r["connections"])
exact = sum((sent & recv).values())
timer_n = sum(c["push_timer_wait_ms"]["count"] for c in r["connections"])
waits = [c["push_timer_wait_ms"] for c in r["connections"] if c["push_timer_wait_ms"]["count"]]
late_max = max((w["max"] for w in waits), default=0.0) - timer
early_min = min((w["min"] for w in waits), default=timer) - timer
avg = (sum(w["avg"] * w["count"] for w in waits) / timer_n - timer) if timer_n else 0.0
over_conns = sum(1 for w in waits if w["max"] > timer + tol)
# every push-timer completion, bucketed by lateness: le0 (at or before the timer), le1 (0, 1] ...
hist = r.get("push_timer_late_ms", {})
edges = []
for k, v in hist.items():
    if k.startswith("le"):
        edges.append((float(k[2:]), v))
    elif k.startswith("gt"):
        edges.append((float("inf"), v))
edges.sort()
over = 0
lower = float("-inf")
for e, v in edges:
    if lower >= tol:
        over += v
    lower = e
late_max = hist.get("max", late_max)
by = collections.Counter()
for c in r["connections"]:
    by.update({k: v for k, v in c["completed_by"].items() if v})
frame = None
try:
    m = re.search(r"frame stats: (\d+) frames, up to (\d+) rows, frame time avg ([\d.]+) ms, max ([\d.]+) ms",
                  open(os.path.join(d, "view.err")).read())
    if m:
        frame = dict(frames=int(m.group(1)), rows=int(m.group(2)), avg_ms=float(m.group(3)),
                     max_ms=float(m.group(4)))
except OSError:
    pass
res = dict(conns=n, served=len(r["connections"]), byte_exact=exact, sender_errors=errors,
           rss_kib=dict(before=r0, held=r1, private_before=p0, private_held=p1),
           kib_per_conn=round((r1 - r0) / n, 2), private_kib_per_conn=round((p1 - p0) / n, 2),
           cpu_ms_per_s=dict(idle=idle, all_timers_running=busy, beside=beside),
           push_timer_completions=timer_n, completed_by=dict(by),
           late_after_timer_ms=dict(max=round(late_max, 3), avg=round(avg, 3), min=round(early_min, 3)),
           completions_over_tolerance=over, conns_over_tolerance=over_conns,
           late_histogram_ms=hist, viewer=frame, drops={k: v for k, v in r["drops"].items() if v})
json.dump(res, open(os.path.join(d, "scale.json"), "w"), indent=1)
p = f"scale {n}:"
print(f"{p} connections held {len(r['connections'])}/{n}, byte-exact {exact}/{n}, sender errors {errors}")
print(f"{p} offrx-recv RSS {r0} -> {r1} KiB: {(r1 - r0) / n:.2f} KiB per connection "
      f"(private, without LTTng's buffers: {(p1 - p0) / n:.2f}); the application's share: its "
      f"4 x 4 KiB request buffers, about 1 KiB of state and a SHA-256 context")
print(f"{p} engine CPU {busy:.1f} ms/s with every connection trickling (a segment per connection "
      f"every {interval} ms, timer {timer:.0f} ms) vs {idle:.1f} ms/s idle")
print(f"{p} push-timer completions {timer_n}; after their last byte: timer {late_max:+.3f} ms at "
      f"worst, {avg:+.3f} ms on average, {early_min:+.3f} ms at best; connections over timer + "
      f"{tol:g} ms: {over} ({over / timer_n * 100 if timer_n else 0:.3f}%, on {over_conns} "
      f"connections)")
print(f"{p} lateness histogram (ms after the timer): " +
      ", ".join(f"{k} {v}" for k, v in hist.items() if k != "max"))
print(f"{p} completions by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(by.items())))
if frame:
    print(f"{p} offrx-view (live, --batch) frame time with up to {frame['rows']} rows: "
          f"avg {frame['avg_ms']:.2f} ms, max {frame['max_ms']:.2f} ms over {frame['frames']} frames")
print(f"{p} CPU beside the engine over the same seconds (ms/s): " +
      ", ".join(f"{k} {v:.1f}" for k, v in beside.items()) +
      " (offrx-send: with the kernel TCP work run in its context)")
busy = (f"CPU pressure (PSI some) {psi_ns / span_ns * 100 if span_ns else 0:.1f}% of the "
        f"{span_ns / 1e9:.0f} s; the engine's threads waited {wait_ns / 1e6:.1f} ms in all for a CPU")
print(f"{p} the machine: {busy}")
if res["drops"]:
    print(f"{p} engine drop counters: " + ", ".join(f"{k} {v}" for k, v in sorted(res["drops"].items())))
bad = []
if len(r["connections"]) != n or exact != n or errors or send_rc or recv_rc:
    bad.append(f"not every connection served byte-exact (send exit {send_rc}, recv exit {recv_rc})")
if timer_n < n:
    bad.append(f"only {timer_n} push-timer completions for {n} connections: timers did not run")
if max_late is not None and late_max > max_late:
    bad.append(f"a completion came {late_max:.3f} ms after the timer (bound {max_late:g} ms; "
               f"the machine: {busy})")
if strict and over:
    bad.append(f"{over} completions came later than timer + {tol:g} ms")
for b in bad:
    print(f"{p} FAIL: {b}")
sys.exit(1 if check and bad else 0)
EOF
done
exit $STATUS
