# Shared by the offrx-export tests that record traces (sourced after tests/e2e/lib.sh): the
# tools, the session daemon, a sender that retries while the receiver comes up, and the cleanup
# of what the tests start and record (processes by id, sessions, trace directories).
EXPORT=$BIN/exporters/offrx-export
CHECK=$SRC/tests/exporters/check_export.py
SCHEMA=$SRC/exporters/schema
[[ -x $EXPORT ]] || { echo "skip: $EXPORT is not built"; exit 77; }
for tool in lttng lttng-sessiond lttng-relayd babeltrace2 python3; do
	command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
# The daemons belong in the machine's namespace, not the engine's; they may stay running.
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null

PIDS=()	       # processes this test started, killed by id at exit
SESSIONS=()    # lttng sessions this test created
TRACE_DIRS=()  # removed at exit
TRACE_GLOBS=() # patterns, expanded at exit (what a relayd writes appears late)
export_cleanup() {
	local p s d g
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	for s in "${SESSIONS[@]}"; do
		lttng destroy "$s" >/dev/null 2>&1 || true
	done
	for g in "${TRACE_GLOBS[@]}"; do
		for d in $g; do TRACE_DIRS+=("$d"); done
	done
	for d in "${TRACE_DIRS[@]}"; do
		if [[ -n "$d" && -d "$d" ]]; then rm -rf "$d"; fi
	done
	cleanup
}
trap export_cleanup EXIT

# send ARGS...: offrx-send --quiet from the peer namespace, tried again while the receiver
# refuses connections (its socket answers a moment after XDP attaches).
send() {
	local i
	for i in 1 2 3 4 5; do
		peer "$SEND" --quiet "$@" 2>"$WORK/send.err" && return 0
		grep -q 'Connection refused' "$WORK/send.err" || break
		sleep 0.2
	done
	cat "$WORK/send.err"
	return 1
}

# recv_location: the trace directory or live URL offrx-recv --trace(-live) announced.
recv_location() {
	local where= i
	for i in $(seq 100); do
		where=$(sed -n 's/^offrx-recv: tracing to \([^ ]*\) .*/\1/p' "$WORK/recv.err")
		[[ -n "$where" ]] && break
		sleep 0.05
	done
	echo "$where"
}

# exited_within SECONDS PID: wait for PID to exit; its status in $EXIT_RC
exited_within() {
	local i
	for i in $(seq $(($1 * 20))); do
		kill -0 "$2" 2>/dev/null || { EXIT_RC=0; wait "$2" || EXIT_RC=$?; return 0; }
		sleep 0.05
	done
	return 1
}

# wait_for SECONDS COMMAND...: poll COMMAND every 50 ms
wait_for() {
	local i n=$(($1 * 20))
	shift
	for i in $(seq $n); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# has_event FILE VPID KIND: a jsonl export holds such an event
has_event() {
	grep -q "\"event\":\"$3\",\"vpid\":$2[,}]" "$1" 2>/dev/null
}

# subcheck NAME ARGS...: a check_export.py run, its lines shown when it fails
subcheck() {
	local name=$1
	shift
	if python3 "$CHECK" "$@" >"$WORK/sub.txt" 2>&1; then
		check "$name" true
	else
		sed 's/^/    /' "$WORK/sub.txt"
		check "$name" false
	fi
}

# py EXPR FILE: a Python expression over the JSON document in FILE (as d)
py() {
	python3 -c "
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    d = None
sys.exit(0 if ($1) else 1)" "${@:2}"
}
