#!/usr/bin/env bash
# The flight recorder catches a push-timer stall: offrx-trace start --flight-recorder with the
# triggers 'wait > 150ms' and 'wait > 400ms', then a MSG_MORE trickle into offrx-recv with a
# 200 ms push timer (one request at a time, so each request waits about one trickle interval,
# 250 ms). The first trigger saves a snapshot holding a matching completion and the fills of
# its request before it, and at most one per --interval however many completions match; the
# trigger above the timer saves none. The same condition on the trickle's port 5201 saves one
# too, and on port 5202 none. The snapshot opens with babeltrace2, offrx-export and
# offrx-view; offrx-view --batch on a live session of its own shows it (fr_snapshot=); status
# lists it; stop removes the triggers and the watcher.
. "$(dirname "$0")/../support/e2e.sh"
. "$(dirname "$0")/../support/trace.sh"
. "$(dirname "$0")/../support/relayd.sh"
set +e
T=$BIN/tracer/session/offrx-trace
EXPORT=$BIN/exporters/offrx-export
VIEW=$BIN/viewer/offrx-view
for tool in babeltrace2 lttng; do
	command -v "$tool" >/dev/null || skip "$tool is missing: run scripts/install-deps"
done
[[ -x $EXPORT ]] || skip "offrx-export is not built (OFFRX_EXPORTERS=OFF)"

NAME=offrx-fr$$
DIR=$WORK/snapshots
fr_cleanup() {
	"$T" stop --name "$NAME" >/dev/null 2>&1
	lttng list-triggers 2>/dev/null | sed -n "s/^- name: \(offrx-fr:$NAME:.*\)/\1/p" |
		while read -r t; do lttng remove-trigger "$t" >/dev/null 2>&1; done
	trace_cleanup
}
on_exit 'fr_cleanup'

# run ARGS...: offrx-trace ARGS, stdout in $WORK/out, stderr in $WORK/err, status in $RC
run() {
	RC=0
	timeout 60 "$T" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
	if [[ -s "$WORK/err" ]]; then sed 's/^/  stderr: /' "$WORK/err"; fi
}
out_has() { grep -qF -- "$1" "$WORK/out"; }
# snaps CAUSE: the snapshot directories of that cause, oldest first
snaps() { find "$DIR" -maxdepth 1 -name "$1-[0-9]*-[0-9]*-[0-9]*" 2>/dev/null | sort; }

run start --flight-recorder --name "$NAME" --output "$DIR" --keep 10s --rate 2000 \
	--interval 2s --trigger 'wait > 150ms' --trigger 'wait>400ms' \
	--trigger 'port == 5201 && wait > 150ms' --trigger 'port == 5202 && wait > 150ms'
sed 's/^/  /' "$WORK/out"
check "start --flight-recorder succeeds (got $RC)" test "$RC" = 0
check "start prints the ring and what it keeps" \
	eval 'out_has "overwrite, 4 x 512 KiB per CPU" && out_has "ring: keeps about 12.3 s at 2000 events/s"'
check "start prints each trigger and its cause" \
	eval 'out_has "trigger: wait > 150ms -> snapshot wait-gt-150ms" && out_has "trigger: wait > 400ms -> snapshot wait-gt-400ms"'
WATCHER=$(sed -n 's/^watcher: pid \([0-9]*\) .*/\1/p' "$WORK/out")
lttng list "$NAME" >"$WORK/lttng-list" 2>&1
check "lttng list: snapshot mode, overwrite, per-UID" eval \
	'grep -qF "[active snapshot]" "$WORK/lttng-list" && grep -q "Event-loss mode: *overwrite" "$WORK/lttng-list" &&
	 grep -q "Buffering scheme: per-user" "$WORK/lttng-list"'
lttng list-triggers >"$WORK/triggers" 2>&1
check "lttng list-triggers: offrx:complete filtered, a snapshot of $NAME, once after 1" eval \
	'grep -qF "offrx-fr:$NAME:$WATCHER:wait > 150ms" "$WORK/triggers" &&
	 grep -qF "filter: post_to_complete_ns > 150000000" "$WORK/triggers" &&
	 grep -qF "filter: post_to_complete_ns > 400000000" "$WORK/triggers" &&
	 grep -q "snapshot session \`$NAME\`" "$WORK/triggers" &&
	 grep -qF "name: wait-gt-150ms, rate policy: once after 1 occurrences" "$WORK/triggers"'
check "lttng list-triggers: a port trigger filters on offrx:complete's local_port" \
	grep -qF "filter: local_port == 5201 && post_to_complete_ns > 150000000" "$WORK/triggers"

# 16 writes of 1.5 segments every 250 ms: every request completes by the push timer, 200 ms
# after its last byte and about 250 ms after its post; 4 s of it, so a --interval of 2 s lets
# the trigger save again once.
start_recv --max-conns 1 --push-timer-ms 200 --buf-size 65536 --depth 1
# offrx-view watching a live session (of a relayd of the test's own) while it happens.
LS=offrx-frlive$$
SESSIONS+=("$LS")
relayd_start && session_start "$LS"
"$VIEW" --batch --interval 1000 --iterations 7 "net://127.0.0.1:$LIVE/host/$(hostname)/$LS" \
	>"$WORK/live.txt" 2>&1 &
VIEW_PID=$!
PIDS+=("$VIEW_PID")
send --json -p trickle -s 1482 -i 250 -c 16 --mss 1000 10.77.0.1:5201 >"$WORK/send.json"
wait_recv
check "the trickle arrived byte-exact" test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
NTIMER=$(rj "d['connections'][0]['completed_by']['push_timer']")
check "the push timer completed the trickle's requests ($NTIMER of them)" test "$NTIMER" -ge 10

# What the first snapshot must hold: a completion that waited > 150 ms with bytes placed, and
# every fill of its request before it, adding up to its bytes.
cat >"$WORK/check.py" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"ts_ns"')]
hits = [e for e in ev if e["event"] == "complete" and e["post_to_complete_ns"] > 150e6
        and e["placed"] > 0]
assert hits, "no completion with post_to_complete_ns > 150 ms and bytes placed"
c = hits[0]
key = (c["vpid"], c["conn"], c["req"])
fills = [e for e in ev if e["event"] == "fill" and (e["vpid"], e["conn"], e["req"]) == key]
assert fills, "no fill of request %s before the completion" % (key,)
assert all(f["ts_ns"] <= c["ts_ns"] for f in fills), "a fill after its completion"
assert fills[-1]["total"] == c["bytes"], "the fills place %d bytes, the completion says %d" % (
    fills[-1]["total"], c["bytes"])
print("completion conn %d req %d reason %s wait %.1f ms, %d bytes in %d fills before it" % (
    c["conn"], c["req"], c["reason"], c["post_to_complete_ns"] / 1e6, c["bytes"], len(fills)))
EOF
# The session daemon writes a snapshot a moment after its trigger, one CPU's stream after
# the other: read the first one until it holds all that (or 15 s have passed).
SNAP=
for _ in $(seq 150); do
	SNAP=$(snaps wait-gt-150ms | head -1)
	if [[ -n $SNAP ]] && "$EXPORT" -f jsonl "$SNAP" >"$WORK/snap.jsonl" 2>"$WORK/export.err" &&
		python3 "$WORK/check.py" "$WORK/snap.jsonl" >"$WORK/check.out" 2>&1; then
		break
	fi
	sleep 0.1
done
echo "# snapshot: ${SNAP:-none}"
cat "$WORK/check.out" "$WORK/export.err" 2>/dev/null | tail -5 | sed 's/^/  /'
check "'wait > 150ms' saved a snapshot named by its cause and time" \
	eval '[[ $(basename "$SNAP") =~ ^wait-gt-150ms-[0-9]{8}-[0-9]{6}-[0-9]+$ ]]'
check "offrx-export reads the snapshot" grep -q '"event":"complete"' "$WORK/snap.jsonl"
check "the snapshot holds a completion that waited > 150 ms and the fills before it" \
	grep -q "^completion conn" "$WORK/check.out"
# (to a file: with pipefail, grep -q ending first made a long output's babeltrace2 die of SIGPIPE)
check "babeltrace2 reads the snapshot" \
	eval 'babeltrace2 "$SNAP" >"$WORK/snap.txt" 2>/dev/null && grep -q "offrx:complete" "$WORK/snap.txt"'
timeout 60 "$VIEW" --batch --speed 0 "$SNAP" >"$WORK/view.out" 2>&1
check "offrx-view reads the snapshot (the connection, its push-timer completions)" \
	eval 'grep -q "^source .*state=ended" "$WORK/view.out" && grep -q "10.77.0.1:5201" "$WORK/view.out" &&
	 grep -Eq "^completions total=[0-9]+ .*push_timer=[1-9]" "$WORK/view.out"'

exited_within 30 "$VIEW_PID"
# The port trigger matches the same completions, so its snapshot may be the newest one shown.
check "offrx-view live shows the snapshot saved and why (its source line)" \
	grep -qE '^source .*kind=live.* fr_snapshot="[0-9]{2}:[0-9]{2}:[0-9]{2} (port-eq-5201\+)?wait-gt-150ms"' "$WORK/live.txt"

# The rate limit: about 16 completions matched; one snapshot per 2 s interval.
N150=$(snaps wait-gt-150ms | wc -l)
check "a storm of matches saved one snapshot per interval: $N150 (at least 2, at most 3)" \
	eval '[[ $N150 -ge 2 && $N150 -le 3 ]]'
check "'wait > 400ms', above the timer, saved none" test -z "$(snaps wait-gt-400ms)"
# The port triggers: the trickle goes to local port 5201 only, so the same condition on port
# 5202 matches nothing, and the completions in 5201's snapshot name their port (a per-UID
# session may also hold other engines' events: not every completion need be ours).
P5201=$(snaps 'port-eq-5201+wait-gt-150ms' | head -1)
check "'port == 5201 && wait > 150ms' saved a snapshot" test -n "$P5201"
check "'port == 5202 && wait > 150ms', another port, saved none" \
	test -z "$(snaps 'port-eq-5202+wait-gt-150ms')"
for _ in $(seq 50); do
	[[ -n $P5201 ]] && "$EXPORT" -f jsonl "$P5201" >"$WORK/port.jsonl" 2>/dev/null &&
		grep -q '"event":"complete"' "$WORK/port.jsonl" && break
	sleep 0.1
done
check "its completions carry local_port 5201" \
	grep -q '"event":"complete".*"local_port":5201' "$WORK/port.jsonl"
# The later snapshot (some 2 s in) holds a conn_state, which the engine writes every 500 ms
# per connection: a reader of a ring that began mid-stream takes its queue from it.
LAST=$(snaps wait-gt-150ms | tail -1)
for _ in $(seq 50); do
	"$EXPORT" -f jsonl "$LAST" >"$WORK/last.jsonl" 2>/dev/null &&
		grep -q '"event":"conn_state"' "$WORK/last.jsonl" && break
	sleep 0.1
done
check "the later snapshot holds the engine's periodic conn_state" \
	grep -q '"event":"conn_state".*"local_port":5201' "$WORK/last.jsonl"

run status --name "$NAME"
check "status: flight recorder, the triggers with a running watcher" eval \
	'test "$RC" = 0 && out_has "mode: flight recorder (snapshot)" &&
	 out_has "trigger: wait > 150ms (watcher pid $WATCHER running)"'
check "status lists the snapshot with its cause and path" \
	eval 'grep -qE "^snapshot: [0-9-]+ [0-9:]+  wait-gt-150ms  $SNAP$" "$WORK/out"'

run stop --name "$NAME"
check "stop removes the four triggers" eval 'test "$RC" = 0 && out_has "removed 4 flight-recorder triggers"'
check "stop lists the snapshots" out_has "snapshots: $DIR"
# (the list is read whole first: with pipefail, grep -q ending at a match could leave lttng to
# die of SIGPIPE, and the negated pipeline would then pass)
check "no trigger of $NAME is left" eval '! grep -qF "offrx-fr:$NAME:" <<<"$(lttng list-triggers 2>/dev/null)"'
check "the watcher is gone" eval '! grep -qs _fr-watch "/proc/$WATCHER/cmdline"'
finish
