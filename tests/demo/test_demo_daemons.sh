#!/usr/bin/env bash
# The daemons offrx-demo starts are the ones it stops, and a demo that was killed is cleaned up
# by the next one. In a private mount and network namespace (its own /run/lttng, /dev/shm and
# loopback, so no LTTng daemon of this machine is seen or touched): a demo killed with SIGKILL
# leaves its namespaces, session and the daemons it started; the next run with the same --name
# removes the namespaces and the session and leaves those daemons running (not its own); a run
# that has to start lttng-sessiond and lttng-relayd stops both. The machine's daemons never move.
. "$OFFRX_SRC/tests/demo/lib.sh"
need_root_tools
command -v unshare >/dev/null || skip "unshare (util-linux) missing"

if [[ "${1:-}" != --inner ]]; then
	daemons_before
	rc=0
	unshare -m -n --propagation private "$0" --inner >"$WORK/inner.txt" 2>&1 || rc=$?
	[[ $rc -eq 77 ]] && { cat "$WORK/inner.txt"; exit 77; }
	grep -v ' passed, .* failed$' "$WORK/inner.txt" || true
	read -r ip _ if _ < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 x \2 x/p' "$WORK/inner.txt")
	PASSED=$((PASSED + ${ip:-0}))
	FAILED=$((FAILED + ${if:-1}))
	check "the machine's lttng-sessiond is untouched (${SESSIOND_BEFORE:-none})" \
		test "$(pgrep -x lttng-sessiond | sort | tr '\n' ' ' || true)" = "$SESSIOND_BEFORE"
	check "the machine's lttng-relayd is untouched (${RELAYD_BEFORE:-none})" \
		test "$(pgrep -x lttng-relayd | sort | tr '\n' ' ' || true)" = "$RELAYD_BEFORE"
	finish
	exit
fi

# ---- inside the private namespaces ----
ip link set lo up
mkdir -p /run/lttng
mount -t tmpfs offrx-demo-test /run/lttng
mount -t tmpfs offrx-demo-test /dev/shm
export HOME=$WORK/home # where the relay daemons write
mkdir -p "$HOME"
PREFIX=odd$$
OUTSIDE_RELAYD=$(pgrep -x lttng-relayd | tr '\n' ' ' || true)
OUTSIDE_SESSIOND=$(pgrep -x lttng-sessiond | tr '\n' ' ' || true)
OUTSIDE_CONSUMERD=$(pgrep -x lttng-consumerd | tr '\n' ' ' || true)
new_pids() { # COMM OUTSIDE: running pids of COMM not in OUTSIDE
	local p
	for p in $(pgrep -x "$1" || true); do
		[[ " $2 " == *" $p "* ]] || ! running "$p" || echo "$p"
	done
}
check "no session daemon answers in here" eval '! lttng list >/dev/null 2>&1'

# 1. killed mid-run
"$DEMO" --headless --duration 30 --name "$PREFIX" >"$WORK/k.out" 2>"$WORK/k.err" &
kp=$!
DEMO_PIDS+=("$kp")
wait_line "$WORK/k.err" 'senders running' 30 || true
wait_for 10 eval '[[ -n $(ip netns pids "$PREFIX-peer" 2>/dev/null) ]]' || true
peers=$(ip netns pids "$PREFIX-peer" 2>/dev/null | tr '\n' ' ')
kill -KILL "$kp"
wait "$kp" 2>/dev/null || true
check "the first demo started lttng-sessiond" grep -q 'started lttng-sessiond' "$WORK/k.err"
check "... and lttng-relayd" grep -q 'started lttng-relayd' "$WORK/k.err"
sd=$(new_pids lttng-sessiond "$OUTSIDE_SESSIOND" | tr '\n' ' ')
rd=$(new_pids lttng-relayd "$OUTSIDE_RELAYD" | tr '\n' ' ')
EXTRA_CLEANUP+=("kill $rd $sd 2>/dev/null")
check "killed with SIGKILL: its namespaces stay behind" test -e "/run/netns/$PREFIX-eng"
check "... and its private directory" eval 'compgen -G "/tmp/offrx-demo-$kp.*" >/dev/null'
sleep 0.5
alive=""
for p in $peers; do running "$p" && alive="$alive $p"; done
check "... but its senders died with it (${alive:-none} alive)" test -z "$alive"

# 2. the next run cleans up after it, and leaves the daemons it found
rc=0
"$DEMO" --headless --duration 5 --scenario chat --name "$PREFIX" >"$WORK/r.out" 2>"$WORK/r.err" || rc=$?
DEMO_PIDS+=("$(sed -n 's/.*(session offrx-demo-\([0-9]*\)).*/\1/p' "$WORK/r.err" | head -1)")
check "the next run with the same --name exits 0 ($rc)" test "$rc" -eq 0
check "... after removing the killed run's namespaces" grep -q 'removing namespaces .* left by an earlier run' "$WORK/r.err"
check "... and its session offrx-demo-$kp" grep -q "removed session offrx-demo-$kp, left by an offrx-demo that is gone" "$WORK/r.err"
check "... and its private directory" eval '! compgen -G "/tmp/offrx-demo-$kp.*" >/dev/null'
check "... and it stops no daemon it did not start" eval '! grep -q "stopped lttng-" "$WORK/r.err"'
check "... so they still run (sessiond $sd, relayd $rd)" eval 'kill -0 '"$sd"' && kill -0 '"$rd"
[[ $FAILED -eq 0 ]] || sed 's/^/  | /' "$WORK/r.err"
kill $rd $sd 2>/dev/null || true
for _ in $(seq 100); do
	[[ -z "$(new_pids lttng-sessiond "$OUTSIDE_SESSIOND")$(new_pids lttng-relayd "$OUTSIDE_RELAYD")" ]] && break
	sleep 0.1
done

# 3. a run that starts the daemons stops them
rc=0
"$DEMO" --headless --duration 5 --scenario trickle --name "$PREFIX" >"$WORK/s.out" 2>"$WORK/s.err" || rc=$?
check "a run with no daemon about exits 0 ($rc)" test "$rc" -eq 0
sp=$(sed -n 's/.*stopped lttng-sessiond (pid \([0-9]*\)), which the demo had started.*/\1/p' "$WORK/s.err")
rp=$(sed -n 's/.*stopped lttng-relayd (pid \([0-9]*\)), which the demo had started.*/\1/p' "$WORK/s.err")
check "... it started and stopped lttng-sessiond (${sp:-?})" \
	eval 'grep -q "started lttng-sessiond" "$WORK/s.err" && [[ -n "$sp" ]] && ! running '"${sp:-0}"
check "... and lttng-relayd (${rp:-?})" \
	eval 'grep -q "started lttng-relayd" "$WORK/s.err" && [[ -n "$rp" ]] && ! running '"${rp:-0}"
check "... no daemon of its own is left (consumer daemons included)" \
	test -z "$(new_pids lttng-sessiond "$OUTSIDE_SESSIOND")$(new_pids lttng-relayd "$OUTSIDE_RELAYD")$(new_pids lttng-consumerd "$OUTSIDE_CONSUMERD")"
check "... its trace is where it said" test -d "$(sed -n 's/^trace: *//p' "$WORK/s.out")"
if [[ -x "$EXPORT" ]]; then
	vrc=0
	"$EXPORT" --verify "$(sed -n 's/^trace: *//p' "$WORK/s.out")" >"$WORK/verify.txt" 2>&1 || vrc=$?
	check "... and passes offrx-export --verify ($vrc)" test "$vrc" -eq 0
fi
check "no namespace $PREFIX-* left" test ! -e "/run/netns/$PREFIX-eng" -a ! -e "/run/netns/$PREFIX-peer"
[[ $FAILED -eq 0 ]] || sed 's/^/  | /' "$WORK/s.err"
finish
