#!/usr/bin/env bash
# Where a veth's NAPI runs (offrx_engine_opts.napi_threaded): by default the engine runs it in
# a kernel thread while it is attached and puts the interface's setting back when it exits;
# --napi-threaded sets it for good, --no-napi-threaded leaves it alone, and a setting the
# engine found on is never turned off. Each run receives a stream, byte-exact.
. "$(dirname "$0")/../support/e2e.sh"

threaded() { ip netns exec "$NS-eng" cat /sys/class/net/eng0/threaded; }

# run_case NAME ARGS...: start offrx-recv with ARGS, note the setting while it receives one
# stream, and after it exits; DURING, AFTER, JSON_THREADED, JSON_RESTORE and STREAM_OK are set.
run_case() {
	local name=$1; shift
	DURING=? AFTER=? JSON_THREADED=? JSON_RESTORE=? STREAM_OK=no
	if ! start_recv --max-conns 1 "$@"; then
		echo "$name: offrx-recv did not start"
		return 0
	fi
	DURING=$(threaded)
	peer "$SEND" --json --quiet -n 4M --seed 7 10.77.0.1:5201 >"$WORK/send.json" ||
		echo "$name: offrx-send failed"
	wait_recv >/dev/null || echo "$name: offrx-recv failed"
	AFTER=$(threaded)
	if [[ -s $WORK/recv.json ]]; then
		JSON_THREADED=$(rj "str(d.get('napi_threaded')).lower()")
		JSON_RESTORE=$(rj "str(d.get('napi_restore')).lower()")
		[[ $(send_shas "$WORK/send.json") == "$(recv_shas)" ]] && STREAM_OK=yes
	fi
	echo "$name: before $BEFORE, during $DURING, after $AFTER;" \
		"--json napi_threaded $JSON_THREADED, napi_restore $JSON_RESTORE; stream $STREAM_OK"
}

BEFORE=$(threaded)
check "a fresh veth's NAPI is not threaded ($BEFORE)" test "$BEFORE" = 0
run_case defaults
check "defaults: threaded while the engine runs ($DURING)" test "$DURING" = 1
check "defaults: put back to 0 at exit ($AFTER)" test "$AFTER" = 0
check "defaults: --json says threaded, to be put back ($JSON_THREADED, $JSON_RESTORE)" \
	test "$JSON_THREADED/$JSON_RESTORE" = true/true
check "defaults: the stream arrived byte-exact" test "$STREAM_OK" = yes

BEFORE=$(threaded)
run_case leave --no-napi-threaded
check "--no-napi-threaded: left in softirq while the engine runs ($DURING)" test "$DURING" = 0
check "--no-napi-threaded: still 0 after ($AFTER)" test "$AFTER" = 0
check "--no-napi-threaded: --json says so ($JSON_THREADED, $JSON_RESTORE)" \
	test "$JSON_THREADED/$JSON_RESTORE" = false/false
check "--no-napi-threaded: the stream arrived byte-exact" test "$STREAM_OK" = yes

BEFORE=$(threaded)
run_case forced --napi-threaded
check "--napi-threaded: threaded while the engine runs ($DURING)" test "$DURING" = 1
check "--napi-threaded: the setting stays after exit ($AFTER)" test "$AFTER" = 1
check "--napi-threaded: --json says threaded, left so ($JSON_THREADED, $JSON_RESTORE)" \
	test "$JSON_THREADED/$JSON_RESTORE" = true/false

# The interface is now threaded by someone else's choice: the default must not undo it.
BEFORE=$(threaded)
run_case found-on
check "defaults on a threaded veth: still threaded after exit ($AFTER)" test "$AFTER" = 1
check "defaults on a threaded veth: --json says found on, nothing to put back" \
	test "$JSON_THREADED/$JSON_RESTORE" = true/false
check "defaults on a threaded veth: the stream arrived byte-exact" test "$STREAM_OK" = yes
finish
