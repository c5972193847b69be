#!/usr/bin/env bash
# --verify on traces of event set 3 (fills summed per receive batch, restarts and the R08 start
# folded into them, the derived events the reader adds marked "derived"),
# with no LTTng: tests/model/test_batch_trace drives the core through random scenarios in
# bursts of 1..40 segments and writes what its trace sink got as offrx-events/1 lines. The
# trace must verify clean, and every trace fault of tests/verify/trace_mutants.py that finds a
# site in it must be caught with its rule (the faults of event set 2's fields included).
#   run_batched.sh [--seeds N]      (default 8: enough for a site of each fault, in seconds)
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
EXPORT=$BIN/exporters/offrx-export
GEN=$BIN/tests/model/test_batch_trace
SEEDS=8
while [[ $# -gt 0 ]]; do
	case $1 in
	--seeds) SEEDS=$2; shift 2 ;;
	*) echo "run_batched.sh: unknown argument '$1' (see the comment at its top)" >&2; exit 2 ;;
	esac
done
for f in "$EXPORT" "$GEN"; do
	[[ -x $f ]] || { echo "skip: $f is not built"; exit 77; }
done
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-batched.XXXXXX)
. "$SRC/tests/support/on_exit.sh"
on_exit 'rm -rf "$WORK"'

"$GEN" --jsonl "$WORK/batched.jsonl" "$SEEDS" >"$WORK/gen.log" 2>&1 ||
	{ echo "FAIL: test_batch_trace --jsonl (the model disagreed with the engine):"; cat "$WORK/gen.log"; exit 1; }
fills=$(grep -c '"event":"fill"' "$WORK/batched.jsonl")
multi=$(grep -c '"event":"fill".*"segs":\([2-9]\|[1-9][0-9]\)' "$WORK/batched.jsonl" || true)
folded=$(grep -c '"event":"fill".*"deadline_ns"' "$WORK/batched.jsonl" || true)
echo "$SEEDS scenarios: $fills fills, $multi of several segments, $folded carrying a restart"
[[ $multi -gt 0 && $folded -gt 0 ]] || { echo "FAIL: no batched fill or no folded restart"; exit 1; }

rc=0
"$EXPORT" --verify --input-jsonl "$WORK/batched.jsonl" >"$WORK/verify.txt" 2>&1 || rc=$?
if [[ $rc -ne 0 ]] || ! grep -q "^verdict: OK, no violation$" "$WORK/verify.txt"; then
	echo "FAIL: --verify raised alarms on a correct batched trace (exit $rc):"
	head -20 "$WORK/verify.txt"
	exit 1
fi
echo "ok: --verify finds no violation in the batched trace"

mkdir -p "$WORK/edits"
python3 "$SRC/tests/verify/trace_mutants.py" "$EXPORT" "$WORK/batched.jsonl" "$WORK/edits" \
	>"$WORK/mutants.txt"
killed=$(grep -c ' killed$' "$WORK/mutants.txt" || true)
if grep -q SURVIVED "$WORK/mutants.txt"; then
	echo "FAIL: trace faults the verifier missed in the batched trace:"
	grep -A3 SURVIVED "$WORK/mutants.txt"
	exit 1
fi
echo "ok: $killed trace faults planted in the batched trace, all caught"
for m in r12_drop_restart r03_seq r15_fill_total r09_filled_reason; do
	grep -q "^trace $m [A-Z0-9]* killed$" "$WORK/mutants.txt" ||
		{ echo "FAIL: trace fault $m found no site in the batched trace"; exit 1; }
done

# A trace of a newer event set is refused, naming both sets (the CTF reader does the same on
# conn_open and conn_state: tracer/reader/decode.c).
cur=$(grep -o '"event_set":[0-9]*' "$WORK/batched.jsonl" | head -1 | cut -d: -f2)
[[ -n $cur ]] || { echo "FAIL: the batched trace names no event set"; exit 1; }
newer=$((cur + 1))
sed "0,/\"event_set\":$cur/s//\"event_set\":$newer/" "$WORK/batched.jsonl" >"$WORK/newer.jsonl"
rc=0
"$EXPORT" --input-jsonl "$WORK/newer.jsonl" >/dev/null 2>"$WORK/newer.err" || rc=$?
if [[ $rc -eq 0 ]] || ! grep -q "event set $newer; this offrx reads event sets 1 to $cur" "$WORK/newer.err"; then
	echo "FAIL: a trace of event set $newer was not refused as such (exit $rc):"
	cat "$WORK/newer.err"
	exit 1
fi
echo "ok: a trace of a newer event set is refused: $(head -1 "$WORK/newer.err")"
