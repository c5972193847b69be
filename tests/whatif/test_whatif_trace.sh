#!/usr/bin/env bash
# offrx-export --what-if on traces recorded here: replaying with the recorded push timer
# reproduces every recorded completion (bulk, messages, trickle, no-push); a 50 ms prediction
# made from a 200 ms trickle agrees with a live 50 ms run within 10 %; a trace with discarded
# events and a trace with no posts are refused with the reason.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/exporters/lib_export.sh"

# record NAME RECV-ARGS... : run offrx-recv --trace; the senders come from $SENDS (one per line)
record() {
	local name=$1 src
	shift
	start_recv --trace "$@"
	VPID[$name]=$RECV_PID
	src=$(recv_location)
	[[ "$src" == /* ]] && TRACE_DIRS+=("$src")
	while read -r line; do
		[[ -n "$line" ]] && eval send "$line"
	done <<<"$SENDS"
	wait_recv >/dev/null || true
	mv "$src" "$WORK/$name"
	[[ -n "${OFFRX_KEEP:-}" ]] || TRACE_DIRS+=("$WORK/$name")
}

# wj NAME EXPR: a Python expression over the what-if JSON of NAME (as d)
wj() { python3 -c "import json; d=json.load(open('$WORK/$1.json')); print($2)"; }

# A per-UID session records every offrx engine of the user: look at ours only (--vpid).
declare -A VPID
TRICKLE="-p trickle -s 1482 -i 400 -c 12 --mss 1000 10.77.0.1:5201"

# --- fidelity ------------------------------------------------------------------------------
SENDS="-p messages -s 1000 -i 20 -c 30 10.77.0.1:5201
-n 8M 10.77.0.1:5201
$TRICKLE"
record push200 --max-conns 3 --push-timer-ms 200 --buf-size 65536 --depth 4
SENDS="-p messages -s 1000 -i 20 -c 30 10.77.0.1:5201"
record nopush --max-conns 1 --buf-size 5000 --mode nopush --depth 2

for t in push200 nopush; do
	rc=0
	"$EXPORT" --what-if push-timer=50,100,200 --format json --vpid "${VPID[$t]}" \
		-o "$WORK/$t.json" "$WORK/$t" \
		2>"$WORK/$t.err" || rc=$?
	check "$t: --what-if exits 0 ($rc $(head -c 300 "$WORK/$t.err"))" test "$rc" -eq 0
	check "$t: schema offrx-whatif/1" test "$(wj $t "d['schema']")" = offrx-whatif/1
	check "$t: fidelity 1.0 ($(wj $t "d['fidelity_detail']['matched']") of $(wj $t "d['fidelity_detail']['compared']") completions)" \
		test "$(wj $t "d['fidelity'] == 1.0 and d['fidelity_detail']['compared'] > 0")" = True
	[[ "$(wj $t "d['fidelity']")" == 1.0 ]] || wj $t "d['fidelity_detail']['mismatches'][:5]"
done
check "push200: the recorded timer read from the trace (200 ms)" \
	test "$(wj push200 "d['recorded_push_timer_ms'], d['recorded_push_timer_source']")" = "200 trace"
check "nopush: no-push requests replay as filled only" \
	test "$(wj nopush "d['totals'][0]['completed_by']['filled'] > 0 and d['totals'][0]['completed_by']['push_timer'] == 0")" = True
"$EXPORT" --what-if push-timer=50 --vpid "${VPID[push200]}" "$WORK/push200" >"$WORK/table.txt"
check "table: a fidelity line and the caveat" \
	bash -c "grep -q '^fidelity: 1.0000' '$WORK/table.txt' && grep -q 'replay holds the recorded arrivals fixed' '$WORK/table.txt'"

# --- a prediction against reality ------------------------------------------------------------
SENDS="$TRICKLE"
record trickle200 --max-conns 1 --push-timer-ms 200 --buf-size 65536 --depth 4
record trickle50 --max-conns 1 --push-timer-ms 50 --buf-size 65536 --depth 4
"$EXPORT" --what-if push-timer=50 --format json --vpid "${VPID[trickle200]}" -o "$WORK/pred.json" "$WORK/trickle200"
"$EXPORT" --what-if push-timer=50 --format json --vpid "${VPID[trickle50]}" -o "$WORK/real.json" "$WORK/trickle50"
pred=$(wj pred "d['totals'][1]['completed_by']['push_timer']")
real=$(wj real "d['recorded']['completed_by']['push_timer']")
check "trickle: predicted push-timer completions at 50 ms ($pred) within 10 % of a live 50 ms run ($real)" \
	python3 -c "import sys; sys.exit(0 if $real > 0 and abs($pred - $real) <= 0.1 * $real else 1)"
for lat in post_to_complete_ms last_fill_to_complete_ms; do
	pred=$(wj pred "d['totals'][1]['$lat']['p50']")
	real=$(wj real "d['recorded']['$lat']['p50']")
	check "trickle: predicted $lat p50 at 50 ms ($pred) within 10 % of the live run ($real)" \
		python3 -c "import sys; sys.exit(0 if $real > 0 and abs($pred - $real) <= 0.1 * $real else 1)"
done
p99r=$(wj pred "d['recorded']['last_fill_to_complete_ms']['p99']")
p99p=$(wj pred "d['totals'][1]['last_fill_to_complete_ms']['p99']")
check "trickle: last-fill p99 falls from about 200 ms ($p99r) to about 50 ms ($p99p)" \
	python3 -c "import sys; sys.exit(0 if 195 <= $p99r <= 215 and 49 <= $p99p <= 60 else 1)"

# --- refusals ------------------------------------------------------------------------------
# A session whose two 4 KiB sub-buffers overflow in a bulk transfer discards events.
TRACE_TINY=$WORK/tiny
SESSIONS+=(offrxwi$$)
lttng create offrxwi$$ --output "$TRACE_TINY" >/dev/null
lttng enable-channel -u --buffers-uid --subbuf-size=4096 --num-subbuf=2 offrx -s offrxwi$$ >/dev/null
lttng enable-event -u -c offrx 'offrx:*' -s offrxwi$$ >/dev/null
lttng add-context -u -c offrx -t vpid -s offrxwi$$ >/dev/null
lttng start offrxwi$$ >/dev/null
# With fills per receive batch (event set 2) the queue's events no longer fill even these
# buffers: each segment's payload (segment_payload, 256 bytes) makes the loss.
start_recv --max-conns 1 --push-timer-ms 200 --trace-payload 256
send -n 32M 10.77.0.1:5201
wait_recv >/dev/null || true
lttng destroy offrxwi$$ >/dev/null
rc=0
"$EXPORT" --what-if push-timer=50 "$TRACE_TINY" >"$WORK/tiny.out" 2>"$WORK/tiny.err" || rc=$?
check "discarded events: refused, status $rc, with the reason ($(grep -o 'discarded [0-9]* events' "$WORK/tiny.err" | head -1))" \
	bash -c "[[ $rc -ne 0 ]] && grep -q 'what-if refused: the tracer discarded' '$WORK/tiny.err'"

# No posts: a window before the first post (the trace's first 1 ns holds the conn_open only,
# or nothing of a connection at all).
rc=0
"$EXPORT" --what-if push-timer=50 --to 1ns "$WORK/nopush" >"$WORK/np.out" 2>"$WORK/np.err" || rc=$?
check "no posts: refused, status $rc, with the reason" \
	bash -c "[[ $rc -ne 0 ]] && grep -q 'holds no offrx:post event' '$WORK/np.err'"

finish
