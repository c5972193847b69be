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


# check_ends_with_session PID: a live export ends by itself, status 0, within 20 s of the end
# of the session it follows
check_ends_with_session() {
	if exited_within 20 "$1"; then
		check "the export ends by itself when the session ends (exit $EXIT_RC)" test "$EXIT_RC" -eq 0
	else
		check "the export ends by itself when the session ends (still running)" false
	fi
}

# has_event FILE VPID KIND: a jsonl export holds such an event
has_event() {
	grep -q "\"event\":\"$3\",\"vpid\":$2[,}]" "$1" 2>/dev/null
}

. "$SRC/tests/exporters/lib_check.sh"
