#!/usr/bin/env bash
# A kernel sender whose veth still has tx checksum offload on sends partial TCP checksums. The
# engine must not drop them in silence: it counts them under their own reason and tells the
# user to run `ethtool -K <dev> tx off` on the sending side.
. "$(dirname "$0")/../support/e2e.sh"

ip netns exec "$NS-peer" ethtool -K peer0 tx on >/dev/null
start_recv --duration 5
peer timeout 4 "$SEND" --quiet -n 1M 10.77.0.1:5201 >/dev/null 2>&1 || true
wait_recv || true
check "partial checksums are counted as pkt.tcp_partial_csum ($(rj "d['drops']['pkt.tcp_partial_csum']"))" \
	test "$(rj "d['drops']['pkt.tcp_partial_csum'] >= 2")" = True
check "nothing was accepted as data" test "$(rj "d['bytes']")" = 0
check "the warning names the fix (ethtool -K ... tx off)" \
	grep -q 'partial checksums.*ethtool -K .* tx off' "$WORK/recv.err"

# And with offload off again, the same sender gets through.
ip netns exec "$NS-peer" ethtool -K peer0 tx off >/dev/null
start_recv --max-conns 1
peer "$SEND" --json --quiet -n 1M 10.77.0.1:5201 >"$WORK/send.json"
wait_recv
check "with tx offload off the stream is byte-exact" \
	test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
finish
