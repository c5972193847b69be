#!/usr/bin/env bash
# offrx-demo --headless --duration 20: every connection of the five patterns arrives byte-exact
# (the engine's SHA-256 equals its sender's), the trickle connections complete by the push timer
# and the chat connections by PSH, no-push requests only when full; the summary and Chrome JSON
# exist beside the trace and the trace passes offrx-export --verify; and the teardown leaves no
# namespace, XDP program, session, process or daemon of its own behind.
. "$OFFRX_SRC/tests/demo/lib.sh"
need_root_tools
PREFIX=odh$$
daemons_before

"$DEMO" --headless --duration 20 --name "$PREFIX" --json "$WORK/report.json" \
	>"$WORK/out.txt" 2>"$WORK/err.txt" &
pid=$!
DEMO_PIDS+=("$pid")
prog='' peers=''
if wait_line "$WORK/err.txt" 'senders running' 20; then
	# the senders connect: their processes are in the peer namespace
	wait_for 10 eval '[[ -n $(ip netns pids "$PREFIX-peer" 2>/dev/null) ]]' || true
	prog=$(xdp_prog_id "$PREFIX")
	peers=$(ip netns pids "$PREFIX-peer" 2>/dev/null | tr '\n' ' ')
fi
rc=0
wait "$pid" || rc=$?
check "offrx-demo --headless --duration 20 exits 0 ($rc)" test "$rc" -eq 0
if [[ $rc -ne 0 || ! -s "$WORK/report.json" ]]; then
	sed 's/^/  | /' "$WORK/err.txt" "$WORK/out.txt" | tail -40
fi
[[ -s "$WORK/report.json" ]] || { finish; exit 1; }
R=$WORK/report.json
trace=$(rj "$R" "d['trace']")
[[ -n "$trace" ]] && TRACES+=("$trace")

n=$(rj "$R" "d['connections_total']")
check "the engine received connections of every pattern ($n)" \
	test "$(rj "$R" "sorted(d['patterns'])")" = "['bulk', 'chat', 'churn', 'nopush', 'trickle']"
check "every connection byte-exact: $(rj "$R" "d['byte_exact']") of $n match a sent stream" \
	test "$(rj "$R" "d['byte_exact'] == d['connections_total'] > 0 and all(c['match'] for c in d['connections'])")" = True
check "... and every sent stream was received ($(rj "$R" "d['sender_streams_unmatched']") unmatched)" \
	test "$(rj "$R" "d['sender_streams_unmatched'] + d['sender_streams_failed']")" = 0
check "the report says so" grep -q '^byte-exact: all ' "$WORK/out.txt"
check "bulk moved at least 100 MiB ($(rj "$R" "d['patterns']['bulk']['bytes']") bytes)" \
	test "$(rj "$R" "d['patterns']['bulk']['bytes'] >= 100 << 20")" = True
# #17: the demo's veth has 2 queues (offrx-demo --queues, default 2) and the engine takes both:
# the peer's kernel spreads its flows over its tx queues, each lands on eng0's rx queue of the
# same number, so both carry connections and frames.
check "2 receive queues, both with connections and frames ($(rj "$R" "[(q['queue'], q['conns_total'], q['rx_frames']) for q in d['queues']]"))" \
	test "$(rj "$R" "[q['queue'] for q in d['queues']] == [0, 1] and all(q['conns_total'] > 0 and q['rx_frames'] > 100 for q in d['queues'])")" = True
check "connections of both queues in the report" \
	test "$(rj "$R" "sorted(set(c['queue'] for c in d['connections']))")" = "[0, 1]"
check "the report says which queue carried what" grep -q '^receive queues: queue 0: .*; queue 1: ' "$WORK/out.txt"
check "churn opened and closed many connections ($(rj "$R" "d['patterns']['churn']['connections']"))" \
	test "$(rj "$R" "d['patterns']['churn']['connections'] >= 20")" = True

# data completions: the ones that carried bytes and were not the FIN's
data() { rj "$R" "(lambda c: c['filled'] + c['psh'] + c['push_timer'])(d['patterns']['$1']['completed_by'])"; }
by() { rj "$R" "d['patterns']['$1']['completed_by']['$2']"; }
check "trickle: completed by the push timer ($(by trickle push_timer) of $(data trickle))" \
	test "$(rj "$R" "(lambda c: c['push_timer'] >= 20 and c['push_timer'] >= 0.8 * (c['filled'] + c['psh'] + c['push_timer']))(d['patterns']['trickle']['completed_by'])")" = True
check "trickle: each waited the 100 ms timer after its last byte (mean $(rj "$R" "d['patterns']['trickle']['push_timer_wait_ms']['mean']") ms)" \
	test "$(rj "$R" "100 <= d['patterns']['trickle']['push_timer_wait_ms']['mean'] <= 130")" = True
check "trickle: the timer is most of its latency (share $(rj "$R" "d['patterns']['trickle']['push_timer_share']"))" \
	test "$(rj "$R" "d['patterns']['trickle']['push_timer_share'] >= 0.5")" = True
check "chat: completed by PSH ($(by chat psh) of $(data chat)), never by the timer" \
	test "$(rj "$R" "(lambda c: c['push_timer'] == 0 and c['psh'] >= 0.95 * (c['filled'] + c['psh']) and c['psh'] > 100)(d['patterns']['chat']['completed_by'])")" = True
check "nopush: only filled requests ($(by nopush filled)), PSH ignored, no timer" \
	test "$(rj "$R" "(lambda c: c['filled'] >= 3 and c['psh'] + c['push_timer'] == 0)(d['patterns']['nopush']['completed_by'])")" = True

check "the trace is where the demo says ($trace)" test -d "$trace"
summary=$(rj "$R" "d['summary']")
chrome=$(rj "$R" "d['chrome']")
if [[ -x "$EXPORT" ]]; then
	check "summary JSON beside the trace ($summary)" test "$summary" = "$trace.summary.json" -a -s "$summary"
	check "... an offrx-summary/1 document, complete, with the demo's $n connections" \
		test "$(rj "$summary" "d['schema'] == 'offrx-summary/1' and d['complete'] and len(d['connections']) == $n")" = True
	check "chrome JSON beside the trace, with trace events" \
		test "$(rj "$chrome" "len(d['traceEvents'] if isinstance(d, dict) else d) > 1000")" = True
	vrc=0
	"$EXPORT" --verify --vpid "$pid" "$trace" >"$WORK/verify.txt" 2>&1 || vrc=$?
	check "the trace passes offrx-export --verify ($vrc)" test "$vrc" -eq 0
	[[ $vrc -eq 0 ]] || sed 's/^/  | /' "$WORK/verify.txt" | tail -20
	check "the trace holds the demo's engine only" \
		eval '! babeltrace2 "$trace" | grep -o "vpid = [0-9]*" | grep -qv "vpid = $pid\$"'
else
	echo "note: $EXPORT is not built: the JSON checks are skipped"
	check "the demo says offrx-export is missing" grep -q 'offrx-export is not built' "$WORK/err.txt"
fi

leftovers_ok "teardown" "$PREFIX" "$pid" "$prog" "$peers"
finish
