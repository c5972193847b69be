#!/usr/bin/env bash
# A damaged trace is salvaged: a stream file cut inside a packet header, cut inside a packet,
# or holding a packet whose magic is gone (a crash mid-write, a bad disk) is read up to its
# last whole packet. offrx-export outputs exactly the events babeltrace2 reads from a copy cut
# there by hand (packets found by ctf_packets.py, not by the reader), names the file and the
# bytes dropped on stderr and in the output, marks the output incomplete (jsonl "error" line,
# summary and chrome "complete": false, all valid against their schemas) and exits 1.
# offrx-view --batch replays the same events, shows the damage, exits 1. A file cut exactly at
# a packet boundary is a whole trace: exit 0. No trimmed copy is left behind.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/exporters/lib_export.sh"
VIEW=$BIN/viewer/offrx-view
PACKETS=$SRC/tests/reader/ctf_packets.py
[[ -x $VIEW ]] || { echo "skip: $VIEW is not built"; exit 77; }

# Small sub-buffers, so each stream file holds many packets.
s=offrxsalv$$
record_session "$s" "$WORK/rec" --subbuf-size=16384 --num-subbuf=32
start_recv --max-conns 2 --push-timer-ms 100 --depth 4
send -p messages -s 1000 -i 5 -c 60 10.77.0.1:5201
# 24 MiB: fills come one per request per receive batch (event set 2), so a bulk this size
# makes the packets 2 MiB made when they came per segment.
send -n 24M 10.77.0.1:5201
wait_recv >/dev/null || true
lttng stop "$s" >/dev/null
lttng destroy "$s" >/dev/null
GOOD=$WORK/rec
CH=ust/uid/0/64-bit
check "a trace was recorded" test -f "$GOOD/$CH/metadata"

# The stream file with the most packets, and its packets: offset, size.
best= nbest=0
for f in "$GOOD/$CH"/offrx_*; do
	n=$(python3 "$PACKETS" list "$f" | wc -l)
	if ((n > nbest)); then best=$f nbest=$n; fi
done
stream=${best##*/}
mapfile -t P < <(python3 "$PACKETS" list "$best")
check "the stream file $stream holds at least 3 packets ($nbest)" test "$nbest" -ge 3
off() { set -- ${P[$1]}; echo "$1"; }
len() { set -- ${P[$1]}; echo "$2"; }
size=$(stat -c %s "$best")

export TMPDIR=$WORK/tmp # where the reader makes its trimmed copies
mkdir "$TMPDIR"

# bt_events DIR: the offrx events babeltrace2 reads there
bt_events() { babeltrace2 "$1" 2>/dev/null | grep -c ' offrx:' || true; }
# jsonl_events FILE: the event lines of a jsonl export that the trace holds (not the events the
# reader derives from an event set 3 trace)
jsonl_events() { grep -v -e '"derived":true' "$1" | grep -vc -e '^{"event":"\(header\|end\|error\|discarded\|source\)"' || true; }

# damage NAME CUT [MAGIC-AT]: a copy of the trace, its stream file cut at CUT bytes (or, with
# MAGIC-AT, whole but with the 4 bytes there overwritten); prints its directory
damage() {
	local t=$WORK/$1
	cp -a "$GOOD" "$t"
	if [[ -n "${3:-}" ]]; then
		printf '\xef\xbe\xad\xde' | dd of="$t/$CH/$stream" bs=1 seek="$3" conv=notrunc status=none
	else
		truncate -s "$2" "$t/$CH/$stream"
	fi
	echo "$t"
}

# expected NAME KEPT: the same trace cut by hand at KEPT bytes (no index: it would not match)
expected() {
	local t=$WORK/$1.expected
	cp -a "$GOOD" "$t"
	rm -rf "$t/$CH/index"
	truncate -s "$2" "$t/$CH/$stream"
	((${2} > 0)) || rm "$t/$CH/$stream"
	bt_events "$t"
}

# salvaged NAME DIR KEPT WHY: the checks on a damaged copy read up to KEPT bytes
salvaged() {
	local name=$1 t=$2 kept=$3 why=$4 rc=0 bt n
	local cut_size dropped
	cut_size=$(stat -c %s "$t/$CH/$stream")
	dropped=$((cut_size - kept))
	bt=$(expected "$name" "$kept")
	# empty outputs first: a failing export leaves them so, and the checks below say so
	: >"$WORK/$name.jsonl"
	: >"$WORK/$name.summary.json"
	: >"$WORK/$name.chrome.json"
	"$EXPORT" -o "$WORK/$name.jsonl" "$t" 2>"$WORK/$name.err" || rc=$?
	check "$name: offrx-export exits 1 ($rc)" test "$rc" -eq 1
	check "$name: stderr names the file, where and the bytes dropped ($dropped of $cut_size)" \
		grep -qF "the stream file $t/$CH/$stream $why" "$WORK/$name.err"
	grep -qF "dropped $dropped of its $cut_size bytes" "$WORK/$name.err" ||
		check "$name: stderr: dropped $dropped of its $cut_size bytes" false
	n=$(jsonl_events "$WORK/$name.jsonl")
	check "$name: jsonl holds the events of the whole packets, as babeltrace2 reads them cut by hand ($n of $bt)" \
		test "$n" -eq "$bt"
	python3 - "$WORK/$name.jsonl" "$t/$CH/$stream" "$kept" "$dropped" <<'EOF' && ok=true || ok=false
import json, sys
lines = open(sys.argv[1]).read().splitlines()
last = json.loads(lines[-1]) if lines else {"event": None}
d = last.get("damaged", [{}])[0]
sys.exit(0 if last["event"] == "error" and last.get("complete") is False and
         d.get("file") == sys.argv[2] and d.get("kept_bytes") == int(sys.argv[3]) and
         d.get("dropped_bytes") == int(sys.argv[4]) and sys.argv[2] in last["message"] else 1)
EOF
	check "$name: jsonl ends with an error line: complete false, the file, kept and dropped bytes" $ok
	{ head -1 "$WORK/$name.jsonl"; tail -1 "$WORK/$name.jsonl"; } >"$WORK/$name.ends.jsonl"
	subcheck "$name: its header and error lines validate against offrx-events/1" \
		schema "$SCHEMA/offrx-events-1.schema.json" "$WORK/$name.ends.jsonl" --lines
	rc=0
	"$EXPORT" -f summary -o "$WORK/$name.summary.json" "$t" 2>/dev/null || rc=$?
	check "$name: summary: exit 1 ($rc), complete false, the damage listed" \
		eval "[[ $rc -eq 1 ]] && py \"d['complete'] is False and d['damaged'][0]['kept_bytes'] == $kept\" '$WORK/$name.summary.json'"
	subcheck "$name: summary validates against offrx-summary/1" \
		schema "$SCHEMA/offrx-summary-1.schema.json" "$WORK/$name.summary.json"
	rc=0
	"$EXPORT" -f chrome -o "$WORK/$name.chrome.json" "$t" 2>/dev/null || rc=$?
	check "$name: chrome: exit 1 ($rc), metadata complete false, the damage listed" \
		eval "[[ $rc -eq 1 ]] && py \"d['metadata']['complete'] is False and d['metadata']['damaged'][0]['dropped_bytes'] == $dropped\" '$WORK/$name.chrome.json'"
	subcheck "$name: chrome follows Perfetto's rules" chrome "$WORK/$name.chrome.json"
	rc=0
	timeout -k 5 60 "$VIEW" --batch --speed 0 "$t" >"$WORK/$name.view" 2>"$WORK/$name.view.err" || rc=$?
	n=$(sed -n 's/^events total=\([0-9]*\) .*/\1/p' "$WORK/$name.view" | tail -1)
	check "$name: offrx-view --batch exits 1 ($rc) and says why on stderr" \
		eval "[[ $rc -eq 1 ]] && grep -qF 'the stream file $t/$CH/$stream' '$WORK/$name.view.err'"
	check "$name: ... its source line says error, its message the damage" \
		eval "grep -q '^source where=$t kind=replay state=error' '$WORK/$name.view' &&
		      grep -qF 'dropped $dropped of its $cut_size bytes' '$WORK/$name.view'"
	check "$name: ... having replayed the whole packets ($n events, babeltrace2 $bt)" \
		test "$((${n:-0} - bt))" -ge 0 -a "$((${n:-0} - bt))" -le 1
}

o2=$(off 2)
check "the packets before the third hold events (the cases below compare counts)" \
	test "$(expected before-third "$o2")" -gt 0
t=$(damage cut-in-header $((o2 + 20)))
salvaged cut-in-header "$t" "$o2" "ends inside the packet header at byte $o2"
t=$(damage cut-mid-packet $((o2 + $(len 2) / 2)))
salvaged cut-mid-packet "$t" "$o2" "ends inside the packet at byte $o2 ($(($(len 2) / 2)) of its $(len 2) bytes)"
t=$(damage cut-in-first-packet $(($(len 0) / 2)))
salvaged cut-in-first-packet "$t" 0 "ends inside the packet at byte 0"
o1=$(off 1)
t=$(damage bad-magic "$size" "$o1")
salvaged bad-magic "$t" "$o1" "has a corrupt packet at byte $o1: it does not start with the CTF magic 0xc1fc1fc1 (0xdeadbeef)"

# Cut exactly between two packets: nothing is damaged, the trace is whole (shorter).
t=$(damage cut-at-boundary "$o2")
bt=$(bt_events "$t")
rc=0
"$EXPORT" -o "$WORK/boundary.jsonl" "$t" 2>"$WORK/boundary.err" || rc=$?
n=$(jsonl_events "$WORK/boundary.jsonl")
check "cut-at-boundary: a whole trace: exit 0 ($rc), $n events as babeltrace2 ($bt)" \
	test "$rc" -eq 0 -a "$n" -eq "$bt"
check "cut-at-boundary: ... ending complete" \
	grep -q '^{"event":"end","complete":true' "$WORK/boundary.jsonl"
full=$(bt_events "$GOOD")
check "... and the whole trace has more ($full)" test "$full" -gt "$bt"

check "no trimmed copy is left in TMPDIR" test -z "$(ls -A "$TMPDIR")"
finish
