#!/usr/bin/env bash
# Every queue of the interface (#17): a veth pair with two queues each way and offrx-recv on
# both (one engine thread per queue, pinned to CPUs 0 and 1). The peer's XPS picks the tx
# queue by the sending CPU, and a frame the peer sends on tx queue Q arrives on eng0's rx
# queue Q: so senders pinned to CPU 0 and CPU 1 open connections on queue 0 and queue 1.
#  1. 16 connections, 8 from each CPU: both queues take connections and frames, every stream
#     byte-exact, every connection closed by FIN.
#  2. Connections that move: 4 paced connections opened on queue 0, then XPS swapped while
#     they send, so their frames arrive on queue 1. Queue 1 hands them to queue 0's thread
#     (mq.moved), nothing is reset or lost: byte-exact, closed by FIN.
E2E_NETNS_ARGS="--queues 2"
. "$(dirname "$0")/../support/e2e.sh"

[[ $(nproc) -ge 2 ]] || skip "needs 2 CPUs to steer the peer's flows by XPS"
command -v taskset >/dev/null || skip "needs taskset (util-linux)"

xps() { # xps MASK0 MASK1: the peer sends on tx-0 from the CPUs of MASK0, on tx-1 from MASK1
	peer sh -c "echo $1 >/sys/class/net/peer0/queues/tx-0/xps_cpus &&
		echo $2 >/sys/class/net/peer0/queues/tx-1/xps_cpus"
}
# Frames eng0's rx queue Q took for the XDP program (veth's per-queue counter).
rxq_packets() {
	ip netns exec "$NS-eng" ethtool -S eng0 |
		awk -v k="rx_queue_$1_xdp_packets:" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}
# wait_packets Q N: until queue Q has taken at least N frames, at most 20 s
wait_packets() {
	for _ in $(seq 400); do
		(($(rxq_packets "$1") >= $2)) && return 0
		sleep 0.05
	done
	echo "queue $1 took $(rxq_packets "$1") frames in 20 s, not $2"
	return 1
}
all_shas() { cat "$@" | python3 -c "
import json,sys
for l in sys.stdin:
    d=json.loads(l)
    if 'sha256' in d: print(d['sha256'])" | sort; }

# --- 1. 16 connections through 2 queues ---------------------------------------------------
xps 1 2
start_recv --max-conns 16 --cpus 0,1
peer taskset -c 0 "$SEND" --json --quiet -n 4M --conns 8 -S 1 10.77.0.1:5201 >"$WORK/s0.json" &
s0=$!
peer taskset -c 1 "$SEND" --json --quiet -n 4M --conns 8 -S 101 10.77.0.1:5201 >"$WORK/s1.json"
wait "$s0"
wait_recv
check "16 connections: SHA-256 equal on both sides" \
	test "$(all_shas "$WORK/s0.json" "$WORK/s1.json")" = "$(recv_shas)"
check "16 connections: 16 streams, every one closed by FIN" \
	test "$(rj "len(d['connections']) == 16 and all(c['closed_by'] == 'fin' for c in d['connections'])")" = True
check "offrx-recv took both queues by default (--queues all)" \
	test "$(rj "[q['queue'] for q in d['queues']]")" = "[0, 1]"
check "both queues took connections" \
	test "$(rj "all(q['conns_total'] > 0 for q in d['queues'])")" = True
check "both queues' connections seen in the streams" \
	test "$(rj "sorted(set(c['queue'] for c in d['connections']))")" = "[0, 1]"
check "both queues' sockets delivered frames" \
	test "$(rj "all(q['rx_frames'] > 1000 for q in d['queues'])")" = True
check "veth: both sockets in copy mode (no zero-copy AF_XDP)" \
	test "$(rj "[q['mode'] for q in d['queues']]")" = "['copy', 'copy']"
check "threads pinned as asked (--cpus 0,1)" \
	test "$(rj "[q['cpu'] for q in d['queues']]")" = "[0, 1]"

# --- 2. connections that move from queue 0 to queue 1 mid-stream ----------------------------
xps 1 2
start_recv --max-conns 4 --cpus 0,1
before=$(rxq_packets 1)
before0=$(rxq_packets 0) # the counters run on from part 1: wait on what this part adds
# 4 connections of 300 messages of 4 KiB, one every 5 ms: about 1.5 s each. Between two
# messages nothing is in flight, so the peer's kernel picks the tx queue again (XPS) for the
# next one.
peer taskset -c 0 "$SEND" --json --quiet -p messages -c 300 -s 4K -i 5 --conns 4 -S 201 \
	10.77.0.1:5201 >"$WORK/s2.json" &
s2=$!
wait_packets 0 $((before0 + 400)) # past the 4 SYNs: every connection opened on queue 0
xps 2 1 # from now on CPU 0 sends on tx-1: the flows' frames arrive on queue 1
wait "$s2"
wait_recv
check "moved: SHA-256 equal on both sides" test "$(all_shas "$WORK/s2.json")" = "$(recv_shas)"
check "moved: every connection closed by FIN (none reset)" \
	test "$(rj "len(d['connections']) == 4 and all(c['closed_by'] == 'fin' for c in d['connections'])")" = True
check "moved: the connections live on queue 0, where their SYNs arrived" \
	test "$(rj "[c['queue'] for c in d['connections']]")" = "[0, 0, 0, 0]"
check "moved: their frames arrived on queue 1 after the swap" \
	test "$(($(rxq_packets 1) - before))" -gt 100
check "moved: queue 1 handed frames to queue 0 (mq.moved, moved_out, moved_in)" \
	test "$(rj "d['drops']['mq.moved'] > 100 and d['queues'][1]['moved_out'] == d['drops']['mq.moved'] and d['queues'][0]['moved_in'] == d['drops']['mq.moved']")" = True
check "moved: no segment answered with a RST (tcp.no_conn)" \
	test "$(rj "d['drops']['tcp.no_conn']")" = 0

finish
