#!/usr/bin/env bash
# Completion rules on the wire: the push timer completes partial requests the MSG_MORE trickle
# leaves (R10, within the timer + 20 ms), messages with PSH complete push requests at once while
# no-push requests wait until full (R10, R11), and a FIN or RST completes what is outstanding
# with posts afterwards getting INVALID_STATE (R25).
. "$(dirname "$0")/../support/e2e.sh"

conn() { rj "d['connections'][0]$1"; }

# Trickle: each write is one and a half segments (MSS 1000 less 12 bytes of timestamps) sent with
# MSG_MORE. Linux marks PSH on the last full segment a write completes, so the write must end
# mid-segment: the full segment leaves without PSH, the kernel holds the half until our ACK
# releases it (still without PSH), and the 100 ms push timer, not PSH, completes the request.
start_recv --max-conns 1 --push-timer-ms 100 --buf-size 65536
peer "$SEND" --json --quiet -p trickle -s 1482 -i 400 -c 8 --mss 1000 10.77.0.1:5201 >"$WORK/send.json"
wait_recv
check "R10 trickle: byte-exact" test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
check "R10 trickle: the push timer completed partial requests ($(conn "['completed_by']['push_timer']") of them)" \
	test "$(conn "['completed_by']['push_timer'] >= 5")" = True
check "R10 trickle: timer completions waited >= 100 ms after the last byte ($(conn "['push_timer_wait_ms']['min']") ms)" \
	test "$(conn "['push_timer_wait_ms']['min'] >= 100.0")" = True
check "R10 trickle: ... and at most 120 ms ($(conn "['push_timer_wait_ms']['max']") ms)" \
	test "$(conn "['push_timer_wait_ms']['max'] <= 120.0")" = True

# Messages with PSH into push requests: each completes on its PSH.
start_recv --max-conns 1 --buf-size 65536
peer "$SEND" --json --quiet -p messages -s 1000 -i 20 -c 30 10.77.0.1:5201 >"$WORK/send.json"
wait_recv
check "R10 messages: byte-exact" test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
check "R10 messages: push requests complete on PSH ($(conn "['completed_by']['psh']") of 30)" \
	test "$(conn "['completed_by']['psh'] >= 25")" = True
check "R10 messages: none waited for the timer" test "$(conn "['completed_by']['push_timer']")" = 0

# The same messages into 5000-byte no-push requests: they complete only when full.
start_recv --max-conns 1 --buf-size 5000 --mode nopush --depth 2
peer "$SEND" --json --quiet -p messages -s 1000 -i 20 -c 30 10.77.0.1:5201 >"$WORK/send.json"
wait_recv
check "R11 no-push messages: byte-exact" test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
check "R11 no-push messages: exactly 6 requests filled ($(conn "['completed_by']['filled']"))" \
	test "$(conn "['completed_by']['filled']")" = 6
check "R11 no-push messages: PSH ignored, no timer" \
	test "$(conn "['completed_by']['psh'] + d['connections'][0]['completed_by']['push_timer']")" = 0

# FIN with requests pending: the 4 posted complete (reason disconnect), and so do the 4 that
# offrx-recv reposts from inside those completions, after the disconnect event (R25 keeps
# INVALID_STATE for posts made after the application was told; offrx-recv stops posting then).
start_recv --max-conns 1 --buf-size 65536 --depth 4
peer "$SEND" --json --quiet -n 10000 10.77.0.1:5201 >"$WORK/send.json"
wait_recv
check "R25 FIN: byte-exact" test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
check "R25 FIN: the posted requests and the reposts from their completions completed by the disconnect ($(conn "['completed_by']['disconnect']") of 8)" \
	test "$(conn "['completed_by']['disconnect']")" = 8
check "R25 FIN: no INVALID_STATE: every post came before the application was told ($(conn "['completed_by']['invalid_state']"))" \
	test "$(conn "['completed_by']['invalid_state']")" = 0
check "R25 FIN: closed by fin" test "$(conn "['closed_by']")" = fin

# RST: outstanding requests are aborted.
start_recv --max-conns 1 --buf-size 65536 --depth 4
peer "$SEND" --json --quiet -n 10000 --rst 10.77.0.1:5201 >"$WORK/send.json" || true
wait_recv
check "R25 RST: closed by rst" test "$(conn "['closed_by']")" = rst
check "R25 RST: outstanding requests aborted ($(conn "['completed_by']['abort']"))" \
	test "$(conn "['completed_by']['abort'] >= 1")" = True

finish
