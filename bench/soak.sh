#!/usr/bin/env bash
# Soak: the demo's traffic mix through offrx-recv for MINUTES, with the engine's link fault
# injector dropping 1% and reordering 1% of received frames, 100 connections a second opening and
# closing, a live LTTng session followed by offrx-view --batch and offrx-export; every stream's
# SHA-256 checked against its sender's, and the RSS of the engine, the viewer and the exporter
# sampled every second, with its slope after warm-up.
#
#   bench/soak.sh [--minutes M] [--build DIR] [--name PREFIX] [--out DIR] [--ci]
#
#   --minutes M      how long the senders run (default $SOAK_MINUTES, else 30); decimals work
#   --build DIR      the build directory (default: build)
#   --name PREFIX    namespace prefix (default offrxsoak<pid>)
#   --keep-trace DIR move the trace lttng-relayd wrote of the engine's live session to DIR
#                    (default: removed), e.g. to export it afterwards (bench/bench_export.sh)
#   --out DIR        keep the logs, samples and soak.json there (default: a temporary dir,
#                    removed unless the run failed)
#   --bulk-rate MIB  MiB/s of each of the two bulk streams (default 4)
#   --churn-rate R   connections opened (and closed) a second (default 100)
#   --max-slope K    fail when a process's RSS grows faster than K KiB/min after warm-up
#                    (default 2048 with --ci, otherwise only reported). Warm-up: the first
#                    20% of the run, or its first half when it is shorter than 10 minutes:
#                    the engine's heap and the viewer reach their plateau in about 15 minutes
#                    at 100 connections a second (bench/RESULTS.md, "Soak"), so a short run
#                    judges gross leaks only (2048 KiB/min is ~350 bytes a connection) and
#                    the 30-minute make soak the rest.
#   --ci             exit 77 when not root or a tool is missing (a CTest skip)
#
# Traffic (engine on eng0 = 10.77.0.1, kernel senders in the peer namespace), like offrx-demo:
#   5201 bulk     2 streams of 64 KiB messages paced at --bulk-rate
#   5202 chat     3 streams of 512-byte messages with PSH every 20 ms
#   5203 trickle  2 MSG_MORE trickles (100 B every 5 ms, MSS 1000): the push timer decides
#   5204 nopush   4 KiB messages every 50 ms into no-push requests (offrx-recv --nopush-port)
#   5205 churn    --churn-rate connections a second, 4 KiB each, closed with FIN
# Long streams are cut into connections of at most 60 s so that they are checked as the run
# goes. Prints a progress line every 10 s and, at the end, the figures; exit 1 on any lost byte,
# hash mismatch, failed sender, crash, or (with --max-slope) a growing RSS.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$SRC/build
MINUTES=${SOAK_MINUTES:-30}
NS=offrxsoak$$
OUT=
KEEP_TRACE=
CI=
BULK_RATE=4
CHURN_RATE=100
MAX_SLOPE=
CYCLE=60
while [[ $# -gt 0 ]]; do
	case $1 in
	--minutes) MINUTES=$2; shift 2 ;;
	--build) BUILD=$(cd "$2" && pwd); shift 2 ;;
	--name) NS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--keep-trace) KEEP_TRACE=$2; shift 2 ;;
	--bulk-rate) BULK_RATE=$2; shift 2 ;;
	--churn-rate) CHURN_RATE=$2; shift 2 ;;
	--max-slope) MAX_SLOPE=$2; shift 2 ;;
	--ci) CI=1; shift ;;
	-h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ -n "$CI" && -z "$MAX_SLOPE" ]] && MAX_SLOPE=2048
skip() { # not runnable here: a CTest skip with --ci, an error otherwise
	echo "soak.sh: $*" >&2
	[[ -n "$CI" ]] && exit 77
	exit 1
}
[[ $(id -u) == 0 ]] || skip "needs root (network namespaces, XDP); run it with sudo"
for t in lttng lttng-sessiond lttng-relayd python3 ip; do
	command -v "$t" >/dev/null || skip "$t is missing (scripts/install-deps installs it)"
done
RECV=$BUILD/samples/offrx-recv
SEND=$BUILD/samples/send/offrx-send
VIEW=$BUILD/viewer/offrx-view
EXPORT=$BUILD/exporters/offrx-export
# Under AddressSanitizer, freed memory waits in a quarantine (up to 256 MiB) before reuse, so
# RSS climbs for minutes whatever the program does: the slopes are printed, not judged. The
# sanitizers judge memory errors and leaks there; the plain build judges the slopes.
if [[ -n "$MAX_SLOPE" ]] && ldd "$VIEW" 2>/dev/null | grep -q libasan; then
	echo "soak.sh: note: an ASan build: RSS slopes are reported but not judged" >&2
	MAX_SLOPE=
fi
TRACE=$BUILD/tracer/session/offrx-trace
for f in "$RECV" "$SEND" "$VIEW" "$EXPORT" "$TRACE"; do
	[[ -x "$f" ]] || { echo "soak.sh: $f is not built (cmake --build $BUILD)" >&2; exit 1; }
done
SECONDS_TOTAL=$(python3 -c "import sys; print(max(10, int(float(sys.argv[1]) * 60)))" "$MINUTES")

WORK=${OUT:-$(mktemp -d /tmp/offrx-soak.XXXXXX)}
mkdir -p "$WORK"
PIDS=()
SESSION=
EXPORT_SESSION=
NS_UP=
FAILED=1
cleanup() {
	set +e
	local p
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for p in "$SESSION" "$EXPORT_SESSION"; do
		if [[ -n "$p" ]] && lttng list "$p" >/dev/null 2>&1; then
			lttng destroy "$p" >/dev/null 2>&1
		fi
	done
	[[ -n "$NS_UP" ]] && "$SRC/scripts/netns" down --name "$NS" >/dev/null 2>&1
	if [[ -n "$SESSION" ]]; then # what lttng-relayd wrote of the live session
		for p in "$HOME"/lttng-traces/*/{"$SESSION","$EXPORT_SESSION"}-*; do
			[[ -d "$p" ]] || continue
			if [[ -n "$KEEP_TRACE" && $p == */"$SESSION"-* && ! -e "$KEEP_TRACE" ]]; then
				mv "$p" "$KEEP_TRACE" && echo "soak.sh: the engine's trace is in $KEEP_TRACE" >&2
			else
				rm -rf "$p"
			fi
		done
	fi
	if [[ -z "$OUT" && $FAILED == 0 ]]; then rm -rf "$WORK"; fi
	if [[ $FAILED != 0 ]]; then echo "soak.sh: logs in $WORK" >&2; fi
}
. "$(dirname "${BASH_SOURCE[0]}")/../tests/support/on_exit.sh"
on_exit 'cleanup'
trap 'exit 130' INT TERM

pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null
pgrep -x lttng-relayd >/dev/null || lttng-relayd --daemonize >/dev/null
"$SRC/scripts/netns" up --name "$NS" >/dev/null
NS_UP=1

# The engine: all five ports, no-push on 5204, 1% drop and 1% reorder, a live session.
ip netns exec "$NS-eng" "$RECV" --iface eng0 --port 5201 --port 5202 --port 5203 \
	--port 5204 --port 5205 --nopush-port 5204 --fault-drop 1 --fault-reorder 1 \
	--trace-live >"$WORK/recv.out" 2>"$WORK/recv.err" &
RECV_PID=$!
PIDS+=("$RECV_PID")
URL=
for _ in $(seq 200); do
	grep -q 'receiving on' "$WORK/recv.err" && break
	kill -0 "$RECV_PID" 2>/dev/null || break
	sleep 0.05
done
URL=$(sed -n 's/^offrx-recv: tracing to \([^ ]*\) (session \(.*\))$/\1/p' "$WORK/recv.err")
SESSION=$(sed -n 's/^offrx-recv: tracing to [^ ]* (session \(.*\))$/\1/p' "$WORK/recv.err")
if ! grep -q 'receiving on' "$WORK/recv.err" || [[ $URL != net://* ]]; then
	echo "soak.sh: offrx-recv did not come up:" >&2
	cat "$WORK/recv.err" >&2
	exit 1
fi
ENGINE_PID=$(pgrep -P "$RECV_PID" -x offrx-recv || echo "$RECV_PID") # ip netns exec execs

# The live tools talk to lttng-relayd. On a shared machine it may have been started inside some
# other network namespace (by a test run under 'ip netns exec'): then they join that one.
RELAYD_NS=()
RELAYD_PID=$(pgrep -x lttng-relayd | head -n 1 || true)
if [[ -n "$RELAYD_PID" && $(readlink "/proc/$RELAYD_PID/ns/net") != $(readlink /proc/self/ns/net) ]]; then
	echo "soak.sh: note: lttng-relayd runs in another network namespace; the viewer and the exporter join it"
	RELAYD_NS=(nsenter "--net=/proc/$RELAYD_PID/ns/net")
fi
# A user's live tools: the viewer on offrx-recv's session, the exporter on a second live session
# (lttng-relayd serves one live reader per session), made with offrx-trace as a user would; it
# records every traced offrx process of root, so the exporter keeps this engine's (--vpid).
# Only the viewer's "events" lines and the exporter's last lines are kept: the figures, not
# gigabytes of output.
EXPORT_SESSION=offrx-soak-export-$$
"$TRACE" start --live --name "$EXPORT_SESSION" >"$WORK/export-session.out" 2>&1 ||
	{ cat "$WORK/export-session.out" >&2; exit 1; }
EXPORT_URL=${URL%/*}/$EXPORT_SESSION
"${RELAYD_NS[@]}" "$VIEW" --batch -d 1000 "$URL" > >(grep --line-buffered -E '^(events|conns) ' >"$WORK/view.events") \
	2>"$WORK/view.err" &
VIEW_PID=$!
PIDS+=("$VIEW_PID")
"${RELAYD_NS[@]}" "$EXPORT" -f jsonl --vpid "$ENGINE_PID" "$EXPORT_URL" > >(tail -n 2 >"$WORK/export.tail") \
	2>"$WORK/export.err" &
EXPORT_PID=$!
PIDS+=("$EXPORT_PID")

START=$(date +%s)
END=$((START + SECONDS_TOTAL))
# sender KIND PORT SEED ARGS...: offrx-send in connections of at most $CYCLE s until END; each
# cycle has its own seeds, so every stream in the run is different.
sender() {
	local kind=$1 port=$2 seed=$3 cycle=0 left
	shift 3
	while :; do
		left=$((END - $(date +%s)))
		((left >= 2)) || break
		((left > CYCLE)) && left=$CYCLE
		ip netns exec "$NS-peer" "$SEND" --json --quiet -S $((seed + cycle * 1000000)) \
			-d "$left" "$@" "10.77.0.1:$port" >>"$WORK/sent-$kind.jsonl" \
			2>>"$WORK/sent-$kind.err" ||
			echo "$kind cycle $cycle: offrx-send exit $?" >>"$WORK/sender-failures"
		cycle=$((cycle + 1))
	done
}
BULK_INTERVAL=$((64 * 1000 / (BULK_RATE * 1024))) # ms between 64 KiB messages
((BULK_INTERVAL >= 1)) || BULK_INTERVAL=1
SENDERS=()
sender bulk 5201 1000000000 -p messages -s 64K -i "$BULK_INTERVAL" -C 2 & SENDERS+=($!)
sender chat 5202 2000000000 -p messages -s 512 -i 20 -C 3 & SENDERS+=($!)
sender trickle 5203 3000000000 -p trickle -s 100 -i 5 --mss 1000 -C 2 & SENDERS+=($!)
sender nopush 5204 4000000000 -p messages -s 4K -i 50 & SENDERS+=($!)
sender churn 5205 5000000000 -p churn --rate "$CHURN_RATE" --bytes 4K & SENDERS+=($!)
PIDS+=("${SENDERS[@]}")

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || true; }
# the engine's RSS by kind (anonymous, file, shared memory: LTTng's ring buffers are shm)
rss_parts() { awk '/^Rss(Anon|File|Shmem):/ {printf "%s%s", s, $2; s="/"}' "/proc/$1/status" 2>/dev/null || true; }
wire_bytes() { ip netns exec "$NS-peer" cat /sys/class/net/peer0/statistics/tx_bytes; }
echo "soak.sh: ${SECONDS_TOTAL} s of traffic; engine pid $ENGINE_PID, session $SESSION, logs in $WORK"
: >"$WORK/rss.tsv"
NEXT_PROGRESS=$START
while :; do
	now=$(date +%s)
	((now < END)) || break
	for p in "$ENGINE_PID" "$VIEW_PID" "$EXPORT_PID"; do
		kill -0 "$p" 2>/dev/null || { echo "soak.sh: process $p exited early" >&2; break 2; }
	done
	printf '%d\t%s\t%s\t%s\t%s\n' $((now - START)) "$(rss "$ENGINE_PID")" "$(rss "$VIEW_PID")" \
		"$(rss "$EXPORT_PID")" "$(rss_parts "$ENGINE_PID")" >>"$WORK/rss.tsv"
	if ((now >= NEXT_PROGRESS)); then
		NEXT_PROGRESS=$((NEXT_PROGRESS + 10))
		printf 'soak: %4d/%d s  wire %6d MiB  conns closed %7d  RSS KiB engine %s viewer %s exporter %s\n' \
			$((now - START)) "$SECONDS_TOTAL" $(($(wire_bytes) >> 20)) \
			"$(grep -c '^conn .* sha256' "$WORK/recv.out" || true)" \
			"$(rss "$ENGINE_PID")" "$(rss "$VIEW_PID")" "$(rss "$EXPORT_PID")"
	fi
	sleep 1
done

# The senders end on their own; then the last churn connections close, then the engine stops
# (its session with it, which ends the live viewer and exporter).
for p in "${SENDERS[@]}"; do wait "$p" || true; done
sleep 3
CRASH=
kill -0 "$ENGINE_PID" 2>/dev/null || CRASH="offrx-recv died before the end"
kill -INT "$RECV_PID" 2>/dev/null || true
RECV_RC=0
wait "$RECV_PID" || RECV_RC=$?
[[ $RECV_RC == 0 ]] || CRASH="${CRASH:+$CRASH; }offrx-recv exit $RECV_RC"
"$TRACE" stop --name "$EXPORT_SESSION" >"$WORK/export-session.stop" 2>&1 || true
for p in "$VIEW_PID" "$EXPORT_PID"; do
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -INT "$p" 2>/dev/null || true
done
VIEW_RC=0
EXPORT_RC=0
wait "$VIEW_PID" || VIEW_RC=$?
wait "$EXPORT_PID" || EXPORT_RC=$?
[[ $VIEW_RC == 0 ]] || CRASH="${CRASH:+$CRASH; }offrx-view exit $VIEW_RC"
[[ $EXPORT_RC == 0 ]] || CRASH="${CRASH:+$CRASH; }offrx-export exit $EXPORT_RC"
PIDS=()
sleep 0.5 # the process substitutions write their last lines

FAILED=0
python3 - "$WORK" "$SECONDS_TOTAL" "${MAX_SLOPE:-}" "$CRASH" <<'EOF' || FAILED=1
import collections, glob, json, os, re, sys
work, total_s, max_slope, crash = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sent = collections.Counter()
sent_bytes = sent_conns = sender_errors = 0
for f in glob.glob(os.path.join(work, "sent-*.jsonl")):
    for line in open(f):
        o = json.loads(line)
        if o.get("total"):
            continue
        if o.get("error"):
            sender_errors += 1
            print("sender error:", o["error"])
            continue
        sent[(o["sha256"], o["bytes"])] += 1
        sent_bytes += o["bytes"]
        sent_conns += 1
line_re = re.compile(r"^conn (\d+) (\S+) -> (\S+): (\d+) bytes .* closed by (\S+), sha256 ([0-9a-f]{64})$")
recv = collections.Counter()
recv_conns = recv_bytes = 0
for line in open(os.path.join(work, "recv.out")):
    m = line_re.match(line.strip())
    if m:
        recv[(m.group(6), int(m.group(4)))] += 1
        recv_conns += 1
        recv_bytes += int(m.group(4))
missing = sent - recv
extra = recv - sent
lost = sum(k[1] * n for k, n in missing.items())
drops = {}
for line in open(os.path.join(work, "recv.err")):
    if line.startswith("offrx-recv: drops:"):
        for part in line.split(":", 2)[2].split(","):
            name, n = part.split()
            drops[name] = int(n)
def discarded(path, key):
    try:
        text = open(path).read()
    except OSError:
        return None
    vals = re.findall(key + r"[=\":]+(\d+)", text)
    return int(vals[-1]) if vals else None
view_disc = discarded(os.path.join(work, "view.events"), "discarded")
export_disc = discarded(os.path.join(work, "export.tail"), "discarded_events")
# Series of (minutes, KiB). The engine's VmRSS includes LTTng's ring buffers (shared memory,
# fixed in size, but mapped and unmapped as any root session starts or ends on the machine), so
# the verdict is on its private part (anonymous + file); VmRSS is reported beside it.
series = collections.defaultdict(list)
for l in open(os.path.join(work, "rss.tsv")):
    r = l.rstrip("\n").split("\t")
    if len(r) < 5 or not all(x.strip() for x in r[1:4]):
        continue
    t = int(r[0]) / 60.0
    series["engine"].append((t, int(r[1])))
    series["viewer"].append((t, int(r[2])))
    series["exporter"].append((t, int(r[3])))
    parts = r[4].split("/")
    if len(parts) == 3:
        series["engine_private"].append((t, int(parts[0]) + int(parts[1])))
def slope(name):
    warm = 0.2 if total_s >= 600 else 0.5  # see --max-slope
    pts = [p for p in series[name] if p[0] * 60 >= warm * total_s]
    if len(pts) < 3:
        return None, None
    # Theil-Sen: the median of the slopes between every two samples. A leak climbs all along,
    # so every pair sees it; a one-off step (an allocator arena or a table growing once, as a
    # loaded machine's backlog can cause) moves only the pairs across it, and least squares
    # would read that step at the end of a short run as a slope.
    pair = sorted((b[1] - a[1]) / (b[0] - a[0])
                  for i, a in enumerate(pts) for b in pts[i + 1:] if b[0] > a[0])
    if not pair:
        return 0.0, pts[-1][1]
    m = len(pair)
    return (pair[m // 2] if m % 2 else (pair[m // 2 - 1] + pair[m // 2]) / 2), pts[-1][1]
slopes = {name: slope(name) for name in ("engine", "engine_private", "viewer", "exporter")}
failures = []
if crash:
    failures.append(crash)
if missing:
    failures.append(f"{sum(missing.values())} sent streams not received byte-exact ({lost} bytes)")
if extra:
    failures.append(f"{sum(extra.values())} received streams match no sender")
if sender_errors:
    failures.append(f"{sender_errors} sender connections failed")
try:
    failures += [l.strip() for l in open(os.path.join(work, "sender-failures"))]
except OSError:
    pass
for name, (s, last) in slopes.items():
    if s is None:
        failures.append(f"no RSS samples of the {name} after warm-up")
    elif max_slope and name != "engine" and s > float(max_slope):
        failures.append(f"{name} RSS grows {s:.0f} KiB/min after warm-up (limit {max_slope})")
faults = drops.get("link.fault_dropped", 0) + drops.get("link.fault_reordered", 0)
res = {
    "seconds": total_s, "connections_sent": sent_conns, "connections_received": recv_conns,
    "bytes_sent": sent_bytes, "bytes_received": recv_bytes, "bytes_lost": lost,
    "streams_mismatched": sum(missing.values()), "faults_dropped": drops.get("link.fault_dropped", 0),
    "faults_reordered": drops.get("link.fault_reordered"), "drops": drops,
    "rss_slope_kib_per_min": {k: (round(v[0], 1) if v[0] is not None else None) for k, v in slopes.items()},
    "rss_last_kib": {k: v[1] for k, v in slopes.items()},
    "discarded_events": {"viewer": view_disc, "exporter": export_disc},
    "failures": failures,
}
json.dump(res, open(os.path.join(work, "soak.json"), "w"), indent=1)
print(f"soak: {total_s / 60:.1f} min, {sent_conns} connections sent, {recv_conns} received, "
      f"{sent_bytes} bytes sent, {recv_bytes} received")
print(f"soak: faults injected: {drops.get('link.fault_dropped', 0)} frames dropped, "
      f"{drops.get('link.fault_reordered', 'n/a')} reordered; bytes lost {lost}; "
      f"streams not byte-exact {sum(missing.values())}")
other = {k: v for k, v in drops.items() if not k.startswith("link.fault")}
if other:
    print("soak: engine drop counters:", ", ".join(f"{k} {v}" for k, v in sorted(other.items())))
for name, (s, last) in slopes.items():
    print(f"soak: RSS slope after warm-up ({name}): " +
          (f"{s:+.1f} KiB/min (last {last} KiB)" if s is not None else "n/a"))
print(f"soak: discarded trace events: viewer {view_disc} (offrx-recv's session, default sizing), "
      f"exporter {export_disc} (a second session, default sizing)")
for f in failures:
    print("soak: FAIL:", f)
print("soak:", "FAIL" if failures else "PASS")
sys.exit(1 if failures else 0)
EOF
exit $FAILED
