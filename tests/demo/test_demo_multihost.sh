#!/usr/bin/env bash
# Two hosts simulated on one machine: two offrx-demo engines, each in its own namespace pair,
# trace live to one lttng-relayd in sessions of their own. offrx-view --batch attaches to either
# session while both run and sees that engine's connections only; both runs are byte-exact; and
# offrx-export exports both recorded traces, each with its own engine's connections.
. "$OFFRX_SRC/tests/demo/lib.sh"
need_root_tools
[[ -x "$VIEW" ]] || skip "$VIEW is not built"

# One relay daemon for both, in the machine's namespace. If none runs, this test starts it
# (and stops it at the end), so that neither demo owns the one the other uses.
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null
daemons_before
OWN_RELAYD=
if [[ -z "$RELAYD_BEFORE" ]]; then
	lttng-relayd --daemonize -C tcp://127.0.0.1:5342 -D tcp://127.0.0.1:5343 \
		-L tcp://127.0.0.1:5344 >/dev/null
	OWN_RELAYD=$(pgrep -x lttng-relayd | head -1)
	EXTRA_CLEANUP+=("kill $OWN_RELAYD 2>/dev/null")
	daemons_before
fi

# host A: trickle (port 5203); host B: chat (port 5202)
start_demo() { # NAME SCENARIO
	"$DEMO" --headless --duration 14 --scenario "$2" --name "odm$1$$" --json "$WORK/$1.json" \
		>"$WORK/$1.out" 2>"$WORK/$1.err" &
	DEMO_PIDS+=($!)
}
start_demo a trickle
PID_a=$!
wait_line "$WORK/a.err" 'senders running' 20 || true
start_demo b chat
PID_b=$!
wait_line "$WORK/b.err" 'senders running' 20 || true
url_a=$(sed -n 's/^offrx-demo: tracing to \(net:[^ ]*\).*/\1/p' "$WORK/a.err")
url_b=$(sed -n 's/^offrx-demo: tracing to \(net:[^ ]*\).*/\1/p' "$WORK/b.err")
check "host A traces live to $url_a" test -n "$url_a"
check "host B traces live to $url_b" test -n "$url_b"
check "... through the same relay daemon, in two sessions" \
	test "${url_a%/*}" = "${url_b%/*}" -a "$url_a" != "$url_b"
prog_a=$(xdp_prog_id "odma$$")
prog_b=$(xdp_prog_id "odmb$$")
peers_a=$(ip netns pids "odma$$-peer" 2>/dev/null | tr '\n' ' ')
peers_b=$(ip netns pids "odmb$$-peer" 2>/dev/null | tr '\n' ' ')
check "two engines, two XDP programs ($prog_a, $prog_b)" \
	test -n "$prog_a" -a -n "$prog_b" -a "$prog_a" != "$prog_b"

# one live viewer per session: both at once
"$VIEW" --batch --interval 1000 --iterations 4 "$url_a" >"$WORK/va.txt" 2>"$WORK/va.err" &
va=$!
"$VIEW" --batch --interval 1000 --iterations 4 "$url_b" >"$WORK/vb.txt" 2>"$WORK/vb.err" &
vb=$!
rca=0 rcb=0
wait "$va" || rca=$?
wait "$vb" || rcb=$?
check "offrx-view --batch on host A's session: status 0 ($rca)" test "$rca" -eq 0
check "offrx-view --batch on host B's session: status 0 ($rcb)" test "$rcb" -eq 0
# The viewers attach after the connections opened: a live viewer sees what follows its attach,
# so the rows carry no addresses yet. The engine's pid and the request size tell them apart:
# the trickle's 64 KiB requests (host A), the chat's 4 KiB ones (host B).
check "A's view: live, host A's engine with its trickle connections (64 KiB requests)" \
	eval 'grep -q "^source where=$url_a kind=live " "$WORK/va.txt" && grep -Eq "^$PID_a [0-9]+ .* open [0-9-]+ [0-9]+ [0-9]+/65536 push " "$WORK/va.txt"'
check "... and nothing of host B" eval '! grep -Eq "^$PID_b |/4096 " "$WORK/va.txt"'
check "B's view: live, host B's engine with its chat connections (4 KiB requests)" \
	eval 'grep -q "^source where=$url_b kind=live " "$WORK/vb.txt" && grep -Eq "^$PID_b [0-9]+ .* open [0-9-]+ [0-9]+ [0-9]+/4096 push " "$WORK/vb.txt"'
check "... and nothing of host A" eval '! grep -Eq "^$PID_a |/65536 " "$WORK/vb.txt"'
[[ $FAILED -eq 0 ]] || { tail -n 5 "$WORK/va.err" "$WORK/vb.err"; grep -E '^(source|conns|[0-9]+ )' "$WORK/va.txt" "$WORK/vb.txt" | tail -20; }

for h in a b; do
	if [[ $h == a ]]; then p=$PID_a; else p=$PID_b; fi
	rc=0
	wait "$p" || rc=$?
	check "host $h: offrx-demo exits 0 ($rc), byte-exact" \
		eval 'test $rc -eq 0 && grep -q "^byte-exact: all " "$WORK/$h.out"'
	[[ $rc -eq 0 ]] || tail -n 20 "$WORK/$h.err" "$WORK/$h.out"
	if [[ -s "$WORK/$h.json" ]]; then
		t=$(rj "$WORK/$h.json" "d['trace']")
		[[ -n "$t" ]] && TRACES+=("$t")
		if [[ $h == a ]]; then TRACE_a=$t; else TRACE_b=$t; fi
	fi
done

if [[ -x "$EXPORT" ]]; then
	for h in a b; do
		if [[ $h == a ]]; then
			t=${TRACE_a:-} p=$PID_a port=5203
		else
			t=${TRACE_b:-} p=$PID_b port=5202
		fi
		rc=0
		"$EXPORT" --format summary "$t" >"$WORK/$h.summary.json" 2>"$WORK/$h.exp.err" || rc=$?
		check "offrx-export host $h's trace: status 0 ($rc)" test "$rc" -eq 0
		rc=0
		"$EXPORT" --verify --vpid "$p" "$t" >"$WORK/$h.verify.txt" 2>&1 || rc=$?
		check "... and it passes offrx-export --verify ($rc)" test "$rc" -eq 0
		check "... its connections, all of engine $p on port $port" \
			test "$(rj "$WORK/$h.summary.json" "len(d['connections']) >= 2 and all(c['vpid'] == $p and c['local'].endswith(':$port') for c in d['connections'])")" = True
		if [[ $FAILED -gt 0 ]]; then
			rj "$WORK/$h.summary.json" "[(c['vpid'], c['local'], c['state']) for c in d['connections']]"
			grep -i 'warning' "$WORK/$h.err" || true
		fi
	done
else
	echo "note: $EXPORT is not built: the export checks are skipped"
fi

leftovers_ok "host A" "odma$$" "$PID_a" "$prog_a" "$peers_a"
leftovers_ok "host B" "odmb$$" "$PID_b" "$prog_b" "$peers_b"
finish
