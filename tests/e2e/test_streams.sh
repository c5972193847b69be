#!/usr/bin/env bash
# Streams from real kernel senders through the engine over AF_XDP, byte-exact (SHA-256 on both
# sides): bulk into 64 KiB push requests and into 1500-byte no-push requests, eight concurrent
# connections, a socat stream, and a stream through a lossy, reordering link.
. "$(dirname "$0")/../support/e2e.sh"

bulk() { # bulk NAME BYTES CONNS RECV-ARGS...
	local name=$1 bytes=$2 conns=$3; shift 3
	start_recv --max-conns "$conns" "$@"
	peer "$SEND" --json --quiet -n "$bytes" --conns "$conns" 10.77.0.1:5201 >"$WORK/send.json"
	wait_recv
	check "$name: $conns connection(s) of $bytes, SHA-256 equal on both sides" \
		test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
	check "$name: every connection closed by FIN" \
		test "$(rj "all(c['closed_by'] == 'fin' for c in d['connections'])")" = True
	# R25: offrx-recv stops posting once the disconnect is indicated, so no request of its
	# completes INVALID_STATE (reposts made inside the FIN's completions come back after it).
	check "$name: R25 no request completed invalid_state" \
		test "$(rj "sum(c['completed_by']['invalid_state'] for c in d['connections'])")" = 0
}

bulk "bulk, 64 KiB push requests" 256M 1 --buf-size 65536 --depth 8
check "bulk push: requests completed (filled or PSH)" \
	test "$(rj "d['connections'][0]['completed'] > 4000")" = True
bulk "bulk, 1500-byte no-push requests" 256M 1 --buf-size 1500 --depth 64 --mode nopush
check "bulk no-push: no request completed by PSH or timer" \
	test "$(rj "d['connections'][0]['completed_by']['psh'] + d['connections'][0]['completed_by']['push_timer']")" = 0
bulk "eight concurrent connections" 32M 8 --buf-size 65536
check "eight connections: eight distinct streams" test "$(rj "len(d['connections'])")" = 8

# Busy polling: no poll() kicks the socket, so the engine's own sendto() must send the SYN-ACK
# and all that follows. -D bounds the run should the handshake never finish.
bulk "busy poll (--busy-poll)" 32M 1 --busy-poll -D 60

# socat, a third-party sender
head -c 5000000 /dev/urandom >"$WORK/socat.in"
start_recv --max-conns 1
peer socat -u "FILE:$WORK/socat.in" TCP:10.77.0.1:5201
wait_recv
check "socat stream byte-exact" \
	test "$(sha256sum <"$WORK/socat.in" | cut -d' ' -f1)" = "$(recv_shas)"

# Link faults: the engine loses and reorders 1% of frames; the sender retransmits.
bulk "1% drop + 1% reorder on the link" 32M 1 --fault-drop 1 --fault-reorder 1
check "faults: the injector really dropped frames" \
	test "$(rj "d['drops']['link.fault_dropped'] > 0")" = True

finish
