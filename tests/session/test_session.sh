#!/usr/bin/env bash
# offrx-trace drives real LTTng daemons: a normal session is created with the offrx channel
# (per-UID, offrx:*), reports its counters, refuses a duplicate name and leaves a trace path
# on stop; a live session is listed by babeltrace2's lttng-live; bad usage exits 2.
# Needs root. Daemons it starts (through offrx-trace) are left running, as `lttng create`
# leaves them; daemons that were already running are used and never stopped.
set -uo pipefail
T=${1:?usage: test_session.sh PATH/TO/offrx-trace}
if [[ $(id -u) -ne 0 ]]; then
	echo "skip: needs root (the root session daemon traces offrx-recv, which runs as root)"
	exit 77
fi
for tool in lttng lttng-sessiond lttng-relayd babeltrace2 timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool is missing: run scripts/install-deps"
		exit 77
	fi
done

NAME=t$$
LIVE=tl$$
HOST=$(hostname)
WORK=$(mktemp -d /tmp/offrx-session.XXXXXX)
. "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
TRACES=()

cleanup() {
	local s d
	for s in "$NAME" "${NAME}b" "$LIVE"; do
		lttng destroy "$s" >/dev/null 2>&1 || true
	done
	for d in "${TRACES[@]}"; do
		[[ -n "$d" && "$d" == /* ]] && rm -rf "$d"
	done
	# The live trace written by a relay daemon that runs as root (default output).
	rm -rf "$HOME/lttng-traces/$HOST/$LIVE"-[0-9]*
	rm -rf "$WORK"
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'cleanup'

# run ARGS...: offrx-trace ARGS, stdout in $WORK/out, stderr in $WORK/err, status in $RC
run() {
	RC=0
	timeout 60 "$T" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
	if [[ -s "$WORK/err" ]]; then sed 's/^/  stderr: /' "$WORK/err"; fi
}
out_has() { grep -qF -- "$1" "$WORK/out"; }
err_has() { grep -qF -- "$1" "$WORK/err"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
in_lttng_list() { lttng list 2>/dev/null | grep -qE "^ *[0-9]+\) $1 "; }

had_sessiond=no
if pgrep -x lttng-sessiond >/dev/null; then had_sessiond=yes; fi
had_relayd=no
if port_open 5342 && port_open 5344; then had_relayd=yes; fi
echo "# before: session daemon running: $had_sessiond, relay daemon on 127.0.0.1: $had_relayd"

# --- usage ---------------------------------------------------------------------------
run; check "no command is a usage error (exit 2, got $RC)" test "$RC" = 2
run frobnicate; check "an unknown command exits 2 (got $RC)" test "$RC" = 2
run start --bogus
check "an unknown option exits 2 and names it (got $RC)" \
	eval 'test "$RC" = 2 && err_has "unknown option '"'"'--bogus'"'"'"'
run start --subbuf-size 3k
check "a sub-buffer size that is not a power of two exits 2 (got $RC)" \
	eval 'test "$RC" = 2 && err_has "3072 is not a power of two"'
run start --num-subbuf x; check "a bad --num-subbuf exits 2 (got $RC)" test "$RC" = 2
run start --live --output "$WORK/x"
check "--live with --output exits 2 (got $RC)" test "$RC" = 2
run status extra; check "an extra argument exits 2 (got $RC)" test "$RC" = 2
for cmd in start stop status list; do
	run "$cmd" --help
	check "$cmd --help prints its usage" eval 'test "$RC" = 0 && out_has "Usage: offrx-trace $cmd"'
done
run --help; check "--help lists the commands" eval 'test "$RC" = 0 && out_has "status"'
run --version; check "--version prints the version" eval 'test "$RC" = 0 && out_has "offrx-trace (offrx) "'

# --- a normal session ------------------------------------------------------------------
run start --name "$NAME"
TRACE=$(sed -n 's/^trace: //p' "$WORK/out")
TRACES+=("$TRACE")
check "start creates session $NAME and prints its trace path ($TRACE)" \
	eval 'test "$RC" = 0 && [[ "$TRACE" == /*/"$NAME"-[0-9]*-[0-9]* ]]'
if [[ $had_sessiond == no ]]; then
	check "start says it started lttng-sessiond" err_has "started lttng-sessiond"
fi
lttng list "$NAME" >"$WORK/lttng-list" 2>&1
check "lttng list shows the session" in_lttng_list "$NAME"
check "lttng list: per-UID buffers" grep -q "Buffering scheme: per-user" "$WORK/lttng-list"
check "lttng list: channel offrx enabled" grep -q -- "- offrx: \[enabled\]" "$WORK/lttng-list"
check "lttng list: event offrx:* enabled" \
	grep -qF "offrx:* (type: tracepoint) [enabled]" "$WORK/lttng-list"
check "lttng list: discard mode, 8 sub-buffers of 4 MiB" eval \
	'grep -q "Event-loss mode: *discard" "$WORK/lttng-list" &&
	 grep -q "Sub-buffer size: *4194304 bytes" "$WORK/lttng-list" &&
	 grep -q "Sub-buffer count: *8$" "$WORK/lttng-list"'

run status --name "$NAME"
check "status shows the session active with per-uid buffers" \
	eval 'test "$RC" = 0 && out_has "state: active" && out_has "per-uid buffers"'
check "status shows the counters" eval 'out_has "0 discarded events, 0 lost packets"'
run list
check "list shows the session and its path" eval 'test "$RC" = 0 && out_has "$NAME" && out_has "$TRACE"'

run start --name "$NAME"
check "starting $NAME again fails with exit 1 (got $RC)" test "$RC" = 1
check "... and says it exists and how to stop it" \
	err_has "session '$NAME' exists: stop it with 'offrx-trace stop --name $NAME'"

run stop --name "$NAME"
check "stop succeeds (got $RC)" test "$RC" = 0
check "stop prints the same trace path" out_has "trace: $TRACE"
check "stop prints the channel's counters" out_has "channel offrx (ust, per-uid): 0 discarded events"
if find "$TRACE" -name metadata 2>/dev/null | grep -q .; then
	check "the trace directory has metadata" test -d "$TRACE"
else
	# No program with offrx tracepoints ran: the trace may be empty, and stop says so.
	check "stop says no events were recorded" out_has "no events recorded"
fi
check "the session is gone from lttng list" eval '! in_lttng_list "$NAME"'
run stop --name "$NAME"
check "stopping an unknown session exits 1 and says so (got $RC)" \
	eval 'test "$RC" = 1 && err_has "no session named '"'"'$NAME'"'"'"'
run status --name "$NAME"
check "status of an unknown session exits 1 (got $RC)" test "$RC" = 1

# --- sizes, --output and --keep ------------------------------------------------------------
run start --name "${NAME}b" --subbuf-size 1M --num-subbuf 4 --output "$WORK/out-dir"
check "start with --output writes there" eval 'test "$RC" = 0 && out_has "trace: $WORK/out-dir"'
lttng list "${NAME}b" >"$WORK/lttng-list" 2>&1
check "lttng list: 4 sub-buffers of 1 MiB" eval \
	'grep -q "Sub-buffer size: *1048576 bytes" "$WORK/lttng-list" &&
	 grep -q "Sub-buffer count: *4$" "$WORK/lttng-list"'
run stop --name "${NAME}b" --keep
check "stop --keep keeps the session, inactive" \
	eval 'test "$RC" = 0 && lttng list "${NAME}b" 2>/dev/null | grep -q "\[inactive\]"'
run stop --name "${NAME}b"
check "stop after --keep destroys it" eval 'test "$RC" = 0 && ! in_lttng_list "${NAME}b"'

# --- a live session ------------------------------------------------------------------------
URL="net://localhost/host/$HOST/$LIVE"
run start --live --name "$LIVE"
check "start --live prints the lttng-live URL (got $RC)" eval 'test "$RC" = 0 && out_has "live: $URL"'
if [[ $had_relayd == no ]]; then
	check "start --live says it started lttng-relayd" err_has "started lttng-relayd"
fi
check "the relay daemon accepts on 127.0.0.1:5342 and :5344" eval 'port_open 5342 && port_open 5344'
check "lttng list: live timer 100000 us" \
	eval 'lttng list 2>/dev/null | grep -A3 -E "\) $LIVE " | grep -q "Live timer interval: 100000 us"'
timeout 15 babeltrace2 --input-format=lttng-live net://localhost >"$WORK/bt" 2>&1
check "babeltrace2 lttng-live lists $URL" grep -qF "$URL " "$WORK/bt"
run status --name "$LIVE"
check "status says live, timer 100000 us" eval 'test "$RC" = 0 && out_has "mode: live (timer 100000 us)"'
run list
check "list shows the live URL" eval 'out_has "$URL"'
run stop --name "$LIVE"
check "stop of the live session succeeds and prints the URL" \
	eval 'test "$RC" = 0 && out_has "live: $URL"'
check "the live session is gone" eval '! in_lttng_list "$LIVE"'

started=()
[[ $had_sessiond == no ]] && started+=(lttng-sessiond)
[[ $had_relayd == no ]] && started+=(lttng-relayd)
if [[ ${#started[@]} -gt 0 ]]; then
	echo "# note: this test started ${started[*]} (through offrx-trace) and leaves them running"
fi
finish
