# Shared by the offrx-export tests that record traces (sourced after tests/support/e2e.sh): the
# tools, the session daemon, a sender that retries while the receiver comes up, and the cleanup
# of what the tests start and record (processes by id, sessions, trace directories).
EXPORT=$BIN/exporters/offrx-export
CHECK=$SRC/tests/exporters/check_export.py
SCHEMA=$SRC/exporters/schema
[[ -x $EXPORT ]] || { echo "skip: $EXPORT is not built"; exit 77; }
for tool in lttng lttng-sessiond lttng-relayd babeltrace2 python3; do
	command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
. "$SRC/tests/support/trace.sh"

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
