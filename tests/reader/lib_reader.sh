# Shared by the tracer/reader tests (sourced after tests/support/e2e.sh): the tool, the session
# daemon, a sender that retries while the receiver comes up, and the cleanup of what the tests
# record (offrx-recv --trace writes under ~/lttng-traces).
DUMP=$BIN/tracer/reader/offrx-trace-dump
API=$BIN/tests/reader/test_reader_api
if [[ ! -x "$DUMP" || ! -x "$API" ]]; then
	echo "skip: $DUMP or $API is not built"
	exit 77
fi
for tool in lttng lttng-sessiond lttng-relayd babeltrace2; do
	command -v "$tool" >/dev/null || { echo "skip: $tool missing"; exit 77; }
done
. "$SRC/tests/support/trace.sh"
