# shellcheck shell=bash disable=SC2034 # (the variables are for the scripts that source this)
# Shared by the offrx-demo tests (sourced): where the programs are, check/finish/skip
# (support/checks.sh), and what "nothing left behind" means: no namespace of the run, its XDP
# program on no interface of any namespace, no session, no process, and the LTTng daemons as
# they were before.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
DEMO=$BIN/samples/demo/offrx-demo
VIEW=$BIN/viewer/offrx-view
EXPORT=$BIN/exporters/offrx-export
WORK=$(mktemp -d /tmp/offrx-demo-test.XXXXXX)
DEMO_PIDS=()    # demos this test started (killed by pid at exit if still running)
TRACES=()       # trace directories the demos left; removed at exit with their JSON
EXTRA_CLEANUP=()
. "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"

need_root_tools() {
	[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, XDP, AF_XDP)"
	[[ -x "$DEMO" ]] || skip "$DEMO is not built (samples/CMakeLists.txt: add_subdirectory(demo))"
	local t
	for t in lttng lttng-sessiond lttng-relayd babeltrace2 python3 ip; do
		command -v "$t" >/dev/null || skip "$t missing"
	done
}

demo_cleanup() {
	set +e
	local p d f
	for f in "${EXTRA_CLEANUP[@]}"; do eval "$f"; done
	for p in "${DEMO_PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null
			for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		fi
	done
	# what the relay daemon kept of a demo that did not get to say where
	for p in "${DEMO_PIDS[@]}"; do
		for d in "$HOME"/lttng-traces/*/offrx-demo-"$p"-*; do
			[[ -d "$d" ]] && TRACES+=("$d")
		done
	done
	for d in "${TRACES[@]}"; do
		[[ -n "$d" && "$d" == /* ]] || continue
		rm -rf -- "$d" "$d.summary.json" "$d.chrome.json"
	done
	if [[ -n "${OFFRX_KEEP:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'demo_cleanup'

# running PID: the process exists and is not a zombie (an orphan waits for its reaper a while)
running() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n "$st" && "$st" != Z && "$st" != X ]]
}

# The daemons as they are now; leftovers_ok compares.
daemons_before() {
	SESSIOND_BEFORE=$(pgrep -x lttng-sessiond | sort | tr '\n' ' ' || true)
	RELAYD_BEFORE=$(pgrep -x lttng-relayd | sort | tr '\n' ' ' || true)
}

# wait_line FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN (extended regex)
wait_line() {
	for _ in $(seq $((${3:-10} * 10))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# xdp_prog_id PREFIX: the id of the XDP program on eng0 in PREFIX-eng (during the run)
xdp_prog_id() {
	ip -n "$1-eng" -d link show eng0 2>/dev/null | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1
}

# xdp_anywhere ID: is program ID attached to an interface in any namespace (or the root one)?
xdp_anywhere() {
	local ns
	ip -d link show 2>/dev/null | grep -q "prog/xdp id $1 " && return 0
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		ip -n "$ns" -d link show 2>/dev/null | grep -q "prog/xdp id $1 " && return 0
	done
	return 1
}

# leftovers_ok NAME PREFIX DEMO_PID PROG_ID PEER_PIDS: checks that nothing of that run is left
leftovers_ok() {
	local name=$1 prefix=$2 pid=$3 prog=$4 peers=$5 p
	check "$name: no namespace $prefix-eng or $prefix-peer left" \
		test ! -e "/run/netns/$prefix-eng" -a ! -e "/run/netns/$prefix-peer"
	if [[ -n "$prog" ]]; then
		check "$name: its XDP program (id $prog) is on no interface of any namespace" \
			eval '! xdp_anywhere '"$prog"
	else
		check "$name: its XDP program was seen during the run" false
	fi
	check "$name: no session offrx-demo-$pid" \
		eval '! lttng list 2>/dev/null | grep -q "offrx-demo-$pid "'
	check "$name: offrx-demo (pid $pid) has exited" eval '! running '"$pid"
	local alive=""
	for p in $peers; do running "$p" && alive="$alive $p"; done
	check "$name: no sender it started is running (${alive:-none})" test -z "$alive"
	local s r
	s=$(pgrep -x lttng-sessiond | sort | tr '\n' ' ' || true)
	r=$(pgrep -x lttng-relayd | sort | tr '\n' ' ' || true)
	if [[ -z "$SESSIOND_BEFORE" ]]; then
		check "$name: the lttng-sessiond it started is stopped" test -z "$s"
	else
		check "$name: the lttng-sessiond that ran before still runs" test "$s" = "$SESSIOND_BEFORE"
	fi
	if [[ -z "$RELAYD_BEFORE" ]]; then
		check "$name: the lttng-relayd it started is stopped" test -z "$r"
	else
		check "$name: the lttng-relayd that ran before still runs" test "$r" = "$RELAYD_BEFORE"
	fi
}

# rj FILE EXPR: a Python expression over the JSON document in FILE (as d)
rj() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
