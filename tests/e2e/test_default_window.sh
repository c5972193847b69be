#!/usr/bin/env bash
# offrx-recv at its defaults picks a receive window its link can hold: on a veth, whose peer
# queues at most 256 frames for the XDP program, a larger window lets the kernel sender
# overrun the ring; the peer drops the surplus (its veth's TX dropped) and falls into
# recovery. Bulk streams with no tuning flag, and with the deep posting a newcomer might pick
# (--depth 16), must cost no dropped frame; --window still overrides the choice. The overrun
# shows most when the veth's NAPI runs on another CPU than the sender (--napi-threaded, or a
# machine whose scheduler puts it there): with the window of depth x buf-size + 256 KiB the
# engine advertised before it chose one, those runs dropped hundreds to thousands of frames
# per 256 MiB here.
. "$(dirname "$0")/../support/e2e.sh"

VETH_RING=256
MIN_PAYLOAD=1428 # a full segment at MTU 1500, IPv6 headers and timestamps: the least it carries

peer_tx_dropped() {
	ip -n "$NS-peer" -s link show peer0 | awk '/TX:/ { getline; print $4; exit }'
}

stream() { # stream NAME RECV-ARGS...: 256 MiB through offrx-recv, checked end to end
	local name=$1 d0 d1
	shift
	start_recv --max-conns 1 "$@"
	d0=$(peer_tx_dropped)
	peer "$SEND" --json --quiet -n 256M 10.77.0.1:5201 >"$WORK/send.json"
	wait_recv >"$WORK/wait.out" || true
	d1=$(peer_tx_dropped)
	check "$name: the stream arrived byte-exact" \
		test "$(send_shas "$WORK/send.json")" = "$(recv_shas 2>/dev/null)"
	check "$name: the peer's veth dropped no frame (TX dropped +$((d1 - d0)))" \
		test "$d1" -eq "$d0"
	check "$name: the engine chose the window itself" \
		test "$(rj "d.get('rcv_wnd_auto')" 2>/dev/null)" = True
	check "$name: the window fits the veth's $VETH_RING-frame ring of full segments" \
		test "$(rj "0 < d.get('rcv_wnd_max', 0) <= $VETH_RING * $MIN_PAYLOAD and
			d.get('burst_frames') == $VETH_RING" 2>/dev/null)" = True
	check "$name: offrx-recv said which window it chose" \
		grep -q "receive window at most .* chosen for the link" "$WORK/wait.out"
}

stream "defaults"
stream "--depth 16" --depth 16
stream "--napi-threaded" --napi-threaded
stream "--depth 16 --napi-threaded" --depth 16 --napi-threaded

# --window overrides the choice, whatever it is.
start_recv --max-conns 1 --window 500000
peer "$SEND" --json --quiet -n 1M 10.77.0.1:5201 >"$WORK/send.json"
wait_recv >"$WORK/wait.out" || true
check "--window 500000: the window in force is 500000 bytes, as set" \
	test "$(rj "(d.get('rcv_wnd_max'), d.get('rcv_wnd_auto'))" 2>/dev/null)" = "(500000, False)"
check "--window 500000: offrx-recv said so" grep -q "at most 500000 bytes, as set" "$WORK/wait.out"
finish
