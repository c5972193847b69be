# shellcheck shell=bash
# For the tests that record traces with offrx-recv --trace (sourced after tests/support/e2e.sh):
# the session daemon, the bookkeeping and cleanup of what a test starts and records (PIDS:
# processes, killed by id; SESSIONS: lttng sessions, destroyed; TRACE_DIRS, TRACE_GLOBS: trace
# directories, removed), a sender that retries while the receiver comes up, and a recorded
# trace's location.
# The daemons belong in the machine's namespace, not the engine's; they may stay running.
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null

PIDS=()	    # processes this test started, killed by id at exit
SESSIONS=() # lttng sessions this test created
TRACE_DIRS=()
TRACE_GLOBS=() # patterns, expanded at exit (what a relayd writes appears late)
trace_cleanup() {
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
. "$(dirname "${BASH_SOURCE[0]}")/on_exit.sh"
on_exit 'trace_cleanup'

# send ARGS...: offrx-send --quiet from the peer namespace; tried again while the receiver
# refuses connections (it answers once its socket is up, a moment after XDP attaches). Several
# may run at once in the background: each has its own error file.
send() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		peer "$SEND" --quiet "$@" 2>"$WORK/send.$BASHPID.err" && return 0
		grep -q 'Connection refused' "$WORK/send.$BASHPID.err" || break
		sleep 0.2
	done
	cat "$WORK/send.$BASHPID.err"
	return 1
}

# record_trace RECV-ARGS...: start offrx-recv --trace; the trace directory is removed at exit.
record_trace() {
	start_recv --trace "$@"
	TRACE_SRC=$(recv_location)
	[[ "$TRACE_SRC" == /* ]] && TRACE_DIRS+=("$TRACE_SRC")
}

# record_session NAME DIR [ENABLE-CHANNEL-OPTIONS...]: a session of the test's own writing to
# DIR (destroyed at exit): channel offrx (per-user buffers, with the options given), the offrx
# events with vpid, started.
record_session() {
	local s=$1 dir=$2
	shift 2
	SESSIONS+=("$s")
	lttng create "$s" --output="$dir" >/dev/null &&
		lttng enable-channel -u -s "$s" --buffers-uid "$@" offrx >/dev/null &&
		lttng enable-event -u -s "$s" -c offrx 'offrx:*' >/dev/null &&
		lttng add-context -u -s "$s" -c offrx -t vpid >/dev/null &&
		lttng start "$s" >/dev/null
}

# other_provider_trace NAME DIR: a trace in DIR with no offrx event: lttng-ust's libc wrapper
# records the mallocs and frees of `ls /`. 1 when the wrapper library is not installed.
other_provider_trace() {
	local s=$1 dir=$2 wrapper
	wrapper=$(ldconfig -p | awk '/liblttng-ust-libc-wrapper\.so/ && !f { print $NF; f = 1 }')
	[[ -n "$wrapper" ]] || return 1
	SESSIONS+=("$s")
	lttng create "$s" --output="$dir" >/dev/null
	lttng enable-event -u -s "$s" 'lttng_ust_libc:*' >/dev/null
	lttng start "$s" >/dev/null
	LD_PRELOAD=$wrapper ls / >/dev/null
	lttng stop "$s" >/dev/null
	lttng destroy "$s" >/dev/null
}

# exited_within SECONDS PID: wait for PID to exit; its status is in $EXIT_RC
exited_within() {
	local i
	for i in $(seq $(($1 * 20))); do
		kill -0 "$2" 2>/dev/null || { EXIT_RC=0; wait "$2" || EXIT_RC=$?; return 0; }
		sleep 0.05
	done
	return 1
}
