# shellcheck shell=bash
# A namespace pair of the test's own with offrx-recv in it (sourced by every test that runs the
# engine on real parts: tests/e2e, trace, reader, exporters, viewer, whatif). Root only (77
# otherwise). The engine namespace $NS-eng (eng0, 10.77.0.1), the peer $NS-peer (kernel
# senders: peer CMD...), a work directory $WORK, and check/finish (checks.sh); at exit the
# receiver is stopped, the namespaces and $WORK removed (OFFRX_KEEP=1 keeps $WORK).
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
RECV=$BIN/samples/offrx-recv
SEND=$BIN/samples/send/offrx-send
if [[ $(id -u) -ne 0 ]]; then
	echo "skip: needs root (network namespaces, XDP, AF_XDP)"
	exit 77
fi
NS=offrxe$$
WORK=$(mktemp -d /tmp/offrx-e2e.XXXXXX)
RECV_PID=

cleanup() {
	[[ -n "$RECV_PID" ]] && kill "$RECV_PID" 2>/dev/null && wait "$RECV_PID" 2>/dev/null
	"$SRC/scripts/netns" down --name "$NS" >/dev/null 2>&1 || true
	if [[ -n "${OFFRX_KEEP:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
. "$(dirname "${BASH_SOURCE[0]}")/on_exit.sh"
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
on_exit 'cleanup'
# E2E_NETNS_ARGS: more options for scripts/netns up (e.g. --queues 2), set before sourcing.
# shellcheck disable=SC2086
"$SRC/scripts/netns" up --name "$NS" ${E2E_NETNS_ARGS:-} >/dev/null

peer() { ip netns exec "$NS-peer" "$@"; }

# start_recv ARGS...: offrx-recv on eng0 port 5201 in the engine namespace, JSON to $WORK/recv.json
start_recv() {
	rm -f "$WORK/recv.json" "$WORK/recv.err"
	ip netns exec "$NS-eng" "$RECV" --iface eng0 --port 5201 --json --quiet "$@" \
		>"$WORK/recv.json" 2>"$WORK/recv.err" &
	RECV_PID=$!
	# offrx-recv says "receiving on" once the program, the socket and the port map are all
	# in place; before that a SYN would reach the kernel and be refused.
	for _ in $(seq 100); do
		grep -q "receiving on" "$WORK/recv.err" 2>/dev/null && return 0
		if ! kill -0 "$RECV_PID" 2>/dev/null; then
			local rc=0
			wait "$RECV_PID" || rc=$?
			RECV_PID=
			echo "offrx-recv exited with status $rc before attaching:"
			cat "$WORK/recv.err"
			return 1
		fi
		sleep 0.05
	done
	echo "offrx-recv did not attach within 5 s"; cat "$WORK/recv.err"; return 1
}

# recv_location: the trace directory or live URL offrx-recv --trace(-live) announced (waits up to
# 10 s for it; empty if it did not say).
recv_location() {
	local where= i
	for i in $(seq 200); do
		where=$(sed -n 's/^offrx-recv: tracing to \([^ ]*\) .*/\1/p' "$WORK/recv.err")
		[[ -n "$where" ]] && break
		sleep 0.05
	done
	echo "$where"
}

# wait_recv: wait for offrx-recv to exit on its own (--max-conns), at most 120 s
wait_recv() {
	local rc=0
	for _ in $(seq 1200); do
		kill -0 "$RECV_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$RECV_PID" 2>/dev/null; then
		echo "offrx-recv still running after 120 s: stopping it"
		kill -INT "$RECV_PID"
	fi
	wait "$RECV_PID" || rc=$?
	RECV_PID=
	[[ -s "$WORK/recv.err" ]] && sed 's/^/  recv: /' "$WORK/recv.err"
	return $rc
}

# jq-like queries on the receiver's JSON, in python3
rj() { python3 -c "import json,sys; d=json.load(open('$WORK/recv.json')); print($1)"; }

# The SHA-256 values of the sender's connections (one per line), and of the receiver's.
send_shas() { python3 -c "
import json,sys
for l in open('$1'):
    d=json.loads(l)
    if 'sha256' in d: print(d['sha256'])" | sort; }
recv_shas() { rj "'\n'.join(sorted(c['sha256'] for c in d['connections']))"; }
