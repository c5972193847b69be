#!/usr/bin/env bash
# offrx-export's throughput per format against babeltrace2's own text output, on one trace of
# at least 5 million events (recorded here from a bulk transfer through the engine unless one is
# given), and its peak RSS after a quarter of the trace and after all of it: memory must not
# grow with the trace's length.
#
#   bench/bench_export.sh [--build DIR] [--trace DIR] [--bytes N] [--rounds N] [--keep]
#   bench/bench_export.sh --length-minutes M [--build DIR]
#
#   --build DIR   the build directory (default: $OFFRX_BIN, else build)
#   --trace DIR   use this recorded trace instead of recording one (no root needed then)
#   --bytes N     bulk bytes to record (default 4G: some 6 million events)
#   --rounds N    timed runs of each tool, alternating; the median counts (default 3)
#   --keep        keep the recorded trace (its path is printed)
#   --length-minutes M  instead: memory against the trace's length, with no trace and no root:
#                 M/10 and M minutes of soak-like events (2 bulk streams of 4 MiB/s, 100 short
#                 connections a second) made up as jsonl and exported with chrome and perfetto
#                 (--input-jsonl); prints events, output sizes and peak RSS of each
#
# Recording needs root (namespaces, XDP) and lttng-sessiond (started if missing). Prints, for
# babeltrace2 and each format, events/s, the ratio to babeltrace2 (targets: jsonl >= 1.0x,
# chrome >= 0.8x), and peak RSS (target < 64 MiB, flat in the trace's length); then perfetto
# against chrome side by side: output sizes (target: perfetto <= 1/4 of chrome's) and speed
# (target: perfetto >= 1.0x chrome's events/s). Figures only, no verdict.
set -euo pipefail
prog=${0##*/}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${OFFRX_BIN:-$SRC/build}
TRACE=
BYTES=4G
ROUNDS=3
KEEP=
LENGTH=
while [[ $# -gt 0 ]]; do
	case $1 in
	--build) BUILD=$(cd "$2" && pwd); shift 2 ;;
	--trace) TRACE=$2; shift 2 ;;
	--bytes) BYTES=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--length-minutes) LENGTH=$2; shift 2 ;;
	-h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$prog: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "$prog: --rounds $ROUNDS: give a count" >&2; exit 2; }
EXPORT=$BUILD/exporters/offrx-export
RECV=$BUILD/samples/offrx-recv
SEND=$BUILD/samples/send/offrx-send
[[ -x $EXPORT ]] || { echo "$prog: $EXPORT is not built (cmake --build $BUILD)" >&2; exit 1; }
command -v babeltrace2 >/dev/null || { echo "$prog: babeltrace2 missing" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "$prog: GNU time (/usr/bin/time) missing: apt-get install time" >&2; exit 1; }

WORK=$(mktemp -d /tmp/offrx-bench-export.XXXXXX)

# --length-minutes: made-up events, so the length is the only thing that changes.
if [[ -n $LENGTH ]]; then
	[[ $LENGTH =~ ^[1-9][0-9]*$ ]] || { echo "$prog: --length-minutes $LENGTH: give whole minutes" >&2; exit 2; }
	trap 'rm -rf "$WORK"' EXIT
	cat >"$WORK/synth.py" <<'EOF'
import sys
secs = int(float(sys.argv[1]) * 60)
T0 = 1_700_000_000 * 10**9
w = sys.stdout.write
def post(t, c, r, d):
    w('{"ts_ns":%d,"event":"post","vpid":1,"conn":%d,"req":%d,"buf_len":65536,"depth":%d}\n' % (t, c, r, d))
def fill(t, c, r, b, tot):
    w('{"ts_ns":%d,"event":"fill","vpid":1,"conn":%d,"req":%d,"bytes":%d,"total":%d}\n' % (t, c, r, b, tot))
def complete(t, c, r, b, reason, p2c):
    w('{"ts_ns":%d,"event":"complete","vpid":1,"conn":%d,"req":%d,"status":"SUCCESS","bytes":%d,"placed":%d,"reason":"%s","post_to_complete_ns":%d,"last_fill_to_complete_ns":1000}\n' % (t, c, r, b, b, reason, p2c))
def conn(t, c, ev, port=0):
    if ev == "conn_open":
        w('{"ts_ns":%d,"event":"conn_open","vpid":1,"conn":%d,"local_addr":"10.77.0.1","local_port":%d,"remote_addr":"10.77.0.2","remote_port":%d}\n' % (t, c, port, 40000 + c % 20000))
    else:
        w('{"ts_ns":%d,"event":"%s","vpid":1,"conn":%d,"reason":"fin"}\n' % (t, ev, c))
nreq = {1: 0, 2: 0}
conn(T0, 1, "conn_open", 5201)
conn(T0, 2, "conn_open", 5201)
for c in (1, 2):
    for d in range(1, 9):
        nreq[c] += 1
        post(T0, c, nreq[c], d)
done = {1: 0, 2: 0}
cid = 2
for s in range(secs):
    base = T0 + s * 10**9
    for i in range(64):  # 64 requests of 64 KiB a second per bulk stream: 4 MiB/s
        t = base + i * 15_000_000
        for c in (1, 2):
            done[c] += 1
            tot = 0
            for k in range(45):
                b = 1448 if k < 44 else 65536 - 44 * 1448
                tot += b
                fill(t + k * 300_000 + c, c, done[c], b, tot)
            complete(t + 14_000_000 + c, c, done[c], 65536, "filled", 14_000_000)
            nreq[c] += 1
            post(t + 14_000_100 + c, c, nreq[c], 8)
    for i in range(100):  # 100 short connections a second
        cid += 1
        t = base + i * 10_000_000 + 3
        conn(t, cid, "conn_open", 5205)
        post(t + 10, cid, 1, 1)
        for k in range(3):
            fill(t + 100 + k * 100, cid, 1, 1448 if k < 2 else 1200, 1448 * min(k + 1, 2) + (1200 if k == 2 else 0))
        complete(t + 500, cid, 1, 4096, "psh", 490)
        conn(t + 600, cid, "disconnect")
        conn(t + 700, cid, "conn_close")
EOF
	printf '%-10s %10s %16s %16s %14s %14s\n' "length" "events" "chrome bytes" "perfetto bytes" "chrome RSS" "perfetto RSS"
	for min in $(awk -v m="$LENGTH" 'BEGIN { print m / 10, m }'); do
		python3 "$WORK/synth.py" "$min" >"$WORK/in.jsonl"
		n=$(wc -l <"$WORK/in.jsonl")
		for f in chrome perfetto; do
			/usr/bin/time -f "%M" -o "$WORK/rss.$f" "$EXPORT" -f "$f" -o "$WORK/out.$f" \
				--input-jsonl "$WORK/in.jsonl"
		done
		printf '%-10s %10d %16d %16d %10.1f MiB %10.1f MiB\n' "$min min" "$n" \
			"$(stat -c %s "$WORK/out.chrome")" "$(stat -c %s "$WORK/out.perfetto")" \
			"$(awk '{ print $1 / 1024 }' "$WORK/rss.chrome")" \
			"$(awk '{ print $1 / 1024 }' "$WORK/rss.perfetto")"
		rm -f "$WORK/in.jsonl" "$WORK/out.chrome" "$WORK/out.perfetto"
	done
	exit 0
fi

NS=offrxbx$$
RECV_PID=
NS_UP=
RECORDED=
cleanup() {
	set +e
	[[ -n "$RECV_PID" ]] && kill -INT "$RECV_PID" 2>/dev/null && wait "$RECV_PID" 2>/dev/null
	[[ -n "$NS_UP" ]] && "$SRC/scripts/netns" down --name "$NS" >/dev/null 2>&1
	if [[ -n "$KEEP" && -n "$RECORDED" ]]; then
		echo "$prog: kept the trace in $RECORDED"
	elif [[ -n "$RECORDED" ]]; then
		rm -rf "$RECORDED"
	fi
	rm -rf "$WORK"
}
. "$(dirname "${BASH_SOURCE[0]}")/../tests/support/on_exit.sh"
on_exit 'cleanup'

if [[ -z $TRACE ]]; then
	[[ $(id -u) -eq 0 ]] || { echo "$prog: recording needs root (or give --trace DIR)" >&2; exit 1; }
	for f in "$RECV" "$SEND"; do
		[[ -x $f ]] || { echo "$prog: $f is not built" >&2; exit 1; }
	done
	pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize
	"$SRC/scripts/netns" up --name "$NS" >/dev/null
	NS_UP=1
	ip netns exec "$NS-eng" "$RECV" --iface eng0 --port 5201 --max-conns 1 --quiet --trace \
		>/dev/null 2>"$WORK/recv.err" &
	RECV_PID=$!
	for _ in $(seq 100); do
		[[ "$(ip -n "$NS-eng" link show eng0)" == *xdp* ]] && break
		sleep 0.05
	done
	echo "$prog: recording a $BYTES bulk transfer through offrx-recv --trace ..."
	for i in 1 2 3 4 5; do
		ip netns exec "$NS-peer" "$SEND" --quiet -n "$BYTES" 10.77.0.1:5201 2>"$WORK/send.err" && break
		grep -q 'Connection refused' "$WORK/send.err" || { cat "$WORK/send.err"; exit 1; }
		sleep 0.2
	done
	wait "$RECV_PID" || true
	RECV_PID=
	TRACE=$(sed -n 's/^offrx-recv: trace in \([^ ]*\).*/\1/p' "$WORK/recv.err" | head -1)
	[[ -d $TRACE ]] || { echo "$prog: offrx-recv recorded no trace:"; cat "$WORK/recv.err"; exit 1; }
	RECORDED=$TRACE
	"$SRC/scripts/netns" down --name "$NS" >/dev/null
	NS_UP=
fi

# The trace's size: offrx-export's own count, checked against babeltrace2's below.
"$EXPORT" -f summary -o "$WORK/summary.json" "$TRACE"
read -r EVENTS DUR DISC < <(python3 -c "
import json
t = json.load(open('$WORK/summary.json'))['trace']
print(t['events'], t['duration_s'], t['discarded_events'])")
echo "trace: $TRACE"
echo "  $EVENTS offrx events over $DUR s, $DISC discarded, $(du -sh "$TRACE" | cut -f1) on disk"
((EVENTS >= 5000000)) || echo "  (fewer than 5 million events: give --bytes more)"

# run NAME COMMAND...: one timed run; appends "seconds rss_kib" to $WORK/NAME
run() {
	local name=$1
	shift
	/usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/$name.err" || {
		echo "$prog: $name failed:"; cat "$WORK/$name.err"; exit 1; }
	cat "$WORK/time.txt" >>"$WORK/$name"
}

FORMATS="jsonl chrome perfetto summary csv verify"
echo "timing $ROUNDS rounds (babeltrace2, then each format, order alternating) ..."
for r in $(seq "$ROUNDS"); do
	order="bt $FORMATS"
	((r % 2)) || order="verify csv summary perfetto chrome jsonl bt"
	for t in $order; do
		case $t in
		bt) run bt babeltrace2 "$TRACE" ;;
		verify) run verify "$EXPORT" --verify -o /dev/null "$TRACE" ;;
		*) run "$t" "$EXPORT" -f "$t" -o /dev/null "$TRACE" ;;
		esac
	done
done
# A quarter of the trace: the same reading stopped early with --to, for the RSS growth.
QUARTER=$(python3 -c "print('%.6fs' % ($DUR / 4))")
for t in $FORMATS; do
	if [[ $t == verify ]]; then
		run "q_$t" "$EXPORT" --verify --to "$QUARTER" -o /dev/null "$TRACE"
	else
		run "q_$t" "$EXPORT" -f "$t" --to "$QUARTER" -o /dev/null "$TRACE"
	fi
done
# babeltrace2 to the same point (its --end takes seconds from the clock's origin).
END=$(python3 -c "
import json
t = json.load(open('$WORK/summary.json'))['trace']
e = t['start_ns'] + int($DUR / 4 * 1e9)
print('%d.%09d' % (e // 10**9, e % 10**9))")
run q_bt babeltrace2 --end="$END" "$TRACE"
bt_lines=$(babeltrace2 "$TRACE" 2>/dev/null | grep -c ' offrx:' || true)

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk '{ print $1 }' "$WORK/$1" | median; }
rss() { awk '{ print $2 }' "$WORK/$1" | sort -n | tail -1; }

bt_s=$(secs bt)
bt_rate=$(awk -v e="$EVENTS" -v s="$bt_s" 'BEGIN { printf "%.0f", e / s }')
echo
echo "babeltrace2 counts $bt_lines offrx events (offrx-export: $EVENTS)"
printf '%-28s %8s %12s %8s %8s %14s %14s\n' "tool" "s" "events/s" "ratio" "target" \
	"peak RSS" "RSS at 1/4"
printf '%-28s %8.2f %12s %8s %8s %11.1f MiB %10.1f MiB\n' "babeltrace2 > /dev/null" "$bt_s" \
	"$bt_rate" "1.00x" "" "$(awk -v k="$(rss bt)" 'BEGIN { print k / 1024 }')" \
	"$(awk -v k="$(rss q_bt)" 'BEGIN { print k / 1024 }')"
for t in $FORMATS; do
	s=$(secs "$t")
	target=
	[[ $t == jsonl ]] && target=">=1.0x"
	[[ $t == chrome ]] && target=">=0.8x"
	[[ $t == perfetto ]] && target=">=chrome"
	name="offrx-export -f $t"
	[[ $t == verify ]] && name="offrx-export --verify"
	printf '%-28s %8.2f %12.0f %7.2fx %8s %11.1f MiB %10.1f MiB\n' "$name" "$s" \
		"$(awk -v e="$EVENTS" -v s="$s" 'BEGIN { print e / s }')" \
		"$(awk -v a="$bt_s" -v b="$s" 'BEGIN { print a / b }')" "$target" \
		"$(awk -v k="$(rss "$t")" 'BEGIN { print k / 1024 }')" \
		"$(awk -v k="$(rss "q_$t")" 'BEGIN { print k / 1024 }')"
done
echo "(ratio: offrx-export's events/s over babeltrace2's. RSS target < 64 MiB, flat: the 1/4"
echo " column is the same run stopped a quarter of the way in (--to; babeltrace2 --end). What"
echo " babeltrace2 itself maps of the trace's packets moves both columns alike.)"

# perfetto against chrome: the same trace written to files, for the sizes; the speeds are the
# timed runs' medians above.
"$EXPORT" -f chrome -o "$WORK/out.json" "$TRACE"
"$EXPORT" -f perfetto -o "$WORK/out.pftrace" "$TRACE"
ch_b=$(stat -c %s "$WORK/out.json")
pf_b=$(stat -c %s "$WORK/out.pftrace")
rm -f "$WORK/out.json" "$WORK/out.pftrace"
echo
printf '%-28s %14s %14s %10s %8s\n' "perfetto against chrome" "chrome" "perfetto" "ratio" "target"
printf '%-28s %14s %14s %9.3fx %8s\n' "output size (bytes)" "$ch_b" "$pf_b" \
	"$(awk -v p="$pf_b" -v c="$ch_b" 'BEGIN { print p / c }')" "<=0.25x"
printf '%-28s %14.2f %14.2f %9.2fx %8s\n' "export time (s, median)" "$(secs chrome)" \
	"$(secs perfetto)" "$(awk -v c="$(secs chrome)" -v p="$(secs perfetto)" 'BEGIN { print c / p }')" \
	">=1.0x"
echo "(size ratio: perfetto's bytes over chrome's; speed ratio: chrome's seconds over perfetto's)"
