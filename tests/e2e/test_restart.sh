#!/usr/bin/env bash
# offrx-recv stopped and started again at once, 20 times: the kernel releases a closed AF_XDP
# socket's queue asynchronously, and every start must still attach (the engine waits for the
# release) and receive a whole stream, byte-exact. Some rounds also start and Ctrl-C a
# receiver that got nothing, right before the one that receives.
. "$(dirname "$0")/../support/e2e.sh"

ROUNDS=20

# Wait for the receiver to exit, returning the moment it does (lib.sh's wait_recv polls every
# 100 ms, time in which the kernel may well have released the queue). A watchdog interrupts a
# receiver still running after 60 s.
wait_exit() {
	local rc=0 dog
	(sleep 60 && kill -INT "$RECV_PID" 2>/dev/null) &
	dog=$!
	wait "$RECV_PID" || rc=$?
	kill "$dog" 2>/dev/null || true
	wait "$dog" 2>/dev/null || true
	RECV_PID=
	[[ -s "$WORK/recv.err" ]] && sed 's/^/  recv: /' "$WORK/recv.err"
	return $rc
}
ok_starts=0 ok_streams=0
for ((i = 1; i <= ROUNDS; i++)); do
	if ((i % 4 == 0)); then
		# Started and stopped at once, as a user who changed their mind.
		if start_recv; then
			kill -INT "$RECV_PID"
			wait_exit >/dev/null || true
		else
			echo "round $i: the start before the interrupt failed"
			continue
		fi
	fi
	if ! start_recv --max-conns 1; then
		echo "round $i: offrx-recv did not start"
		continue
	fi
	ok_starts=$((ok_starts + 1))
	# A stream of its own for each round (seed i), so no round can pass on another's bytes.
	peer "$SEND" --json --quiet -n 4M --seed "$i" 10.77.0.1:5201 >"$WORK/send.json" ||
		echo "round $i: offrx-send failed"
	# --max-conns 1: the receiver exits as the stream closes; the next round starts at once.
	if wait_exit >"$WORK/wait.out" && [[ -s $WORK/recv.json ]] &&
		[[ $(send_shas "$WORK/send.json") == "$(recv_shas)" ]]; then
		ok_streams=$((ok_streams + 1))
	else
		echo "round $i: the stream did not arrive whole (SHA-256 differs or no summary)"
		cat "$WORK/wait.out"
	fi
done
check "each of $ROUNDS starts right after a stop attached ($ok_starts)" test "$ok_starts" -eq "$ROUNDS"
check "each of $ROUNDS restarted receivers got its stream byte-exact ($ok_streams)" \
	test "$ok_streams" -eq "$ROUNDS"
finish
