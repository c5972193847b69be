#!/usr/bin/env python3
"""Write the seed corpora of tests/fuzz/corpus/<harness>/ (run from anywhere; rewrites them).

pkt:   the frames captured from the kernel stack (tests/pkt/captured_frames.h) and variants
       of them (VLAN tag, SACK and odd options, padding, IPv6 extension header).
tcp:   scripts in the byte code fuzz_tcp.c decodes: handshakes, in-order and out-of-order
       data, push timer, no-push, indications, upload, FIN, RST, wrap-around, many peers.
model: event sequences in the byte code fuzz_model.c decodes: a clean connection life, loss,
       a snapshot resync, and a trace full of rule violations.
api:   scripts in the byte code fuzz_api.c decodes: posts, indications, returns inside them,
       reposts in FIN completions, upload, close and destroy with data held.
Usage: tests/fuzz/make_seeds.py [--help]
"""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes(data))


# --- pkt ------------------------------------------------------------------------------------

def csum(b):
    if len(b) % 2:
        b = b + b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4_tcp(tcp_opts=b"", payload=b"", flags=0x18, vlan=False, pad=0):
    """An Ethernet + IPv4 + TCP frame with correct checksums."""
    while len(tcp_opts) % 4:
        tcp_opts += b"\x01"
    src, dst = bytes([10, 77, 0, 2]), bytes([10, 77, 0, 1])
    th = struct.pack("!HHIIBBHHH", 40000, 5201, 1000, 2000, (5 + len(tcp_opts) // 4) << 4,
                     flags, 512, 0, 0) + tcp_opts + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(th))
    c = csum(pseudo + th)
    th = th[:16] + struct.pack("!H", c) + th[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(th), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex("225d13d66502227476ac8700")
    eth += (b"\x81\x00\x00\x2a" if vlan else b"") + b"\x08\x00"
    return eth + ip + th + b"\0" * pad


def seeds_pkt():
    text = open(os.path.join(ROOT, "tests", "pkt", "captured_frames.h")).read()
    for m in re.finditer(r"static const uint8_t (\w+)\[\] = \{([^}]*)\}", text):
        data = [int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]{2}", m.group(2))]
        write("pkt", m.group(1), data)
    sack = b"\x01\x01\x05\x12" + struct.pack("!IIII", 3000, 4000, 5000, 6000)
    write("pkt", "ip4_sack_ts", ip4_tcp(b"\x01\x01\x08\x0a" + b"\0" * 8 + sack, b"abc"))
    write("pkt", "ip4_vlan_mss_ws", ip4_tcp(b"\x02\x04\x05\xb4\x03\x03\x0e", flags=0x02,
                                              vlan=True))
    write("pkt", "ip4_padded", ip4_tcp(payload=b"x", pad=12))
    write("pkt", "ip4_odd_opts", ip4_tcp(b"\x03\x04\x07\x00\x02\x03\x01\x08\x00", b"yz"))
    f = bytearray(ip4_tcp(payload=b"frag"))
    f[14 + 6] = 0x20  # MF
    write("pkt", "ip4_fragment", f)
    v6 = bytearray(open(os.path.join(HERE, "corpus", "pkt", "cap_ip6_data"), "rb").read())
    v6[14 + 6] = 0  # hop-by-hop next header
    write("pkt", "ip6_ext_hdr", v6)


# --- tcp ------------------------------------------------------------------------------------

OPEN, SYN, DATA, SEG, POST, ADV, POLL, RET, UPL, RST, FIN, ACKFIN, BAD = (
    0, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15)


def u16(v):
    return [(v >> 8) & 255, v & 255]


def u32(v):
    return u16(v >> 16) + u16(v & 0xFFFF)


def op_open(peer, isn, mss=True, ws=7, sackp=True, ts=True):
    bits = (1 if mss else 0) | (2 if ws is not None else 0) | (4 if sackp else 0) | \
           (8 if ts else 0)
    out = [OPEN, peer] + u32(isn) + [bits]
    if ws is not None:
        out += [ws]
    if ts:
        out += [0]  # ts_ecr
    return out


def op_data(peer, n, psh=False, fin=False, ts=False, batch=True):
    fl = (0x08 if psh else 0) | (0x01 if fin else 0) | (0x80 if ts else 0) | \
         (0x40 if batch else 0)
    return [DATA, peer] + u16(n) + [fl] + ([0] if ts else [])


def op_seg(peer, off, n, flags=0x10, base=0, batch=True, sack=None):
    mode = base | (0x20 if batch else 0) | (0x10 if sack else 0)
    out = [SEG, peer, mode] + u16(off & 0xFFFF) + u16(n) + [flags]
    if sack:
        out += [0x10, len(sack) - 1]
        for left, right in sack:
            out += u16(left) + u16(right)
    return out


def op_post(peer, reqs):
    """reqs: (len, flags, prefill or None)"""
    out = [POST, peer, len(reqs) - 1]
    for n, fl, pre in reqs:
        fl |= 0x20 if pre is not None else 0
        out += [fl] + u16(n) + ([pre] if pre is not None else [])
    return out


def op_adv(ms_index, mult=0):
    return [ADV, ms_index | (mult << 6)]


NOIND = 0x20  # c0: no recv_indicate callback


def seeds_tcp():
    push, nopush, repost = 0, 1, 0x40
    s = [NOIND, 31] + op_open(0, 1000) + op_post(0, [(4096, push, None), (4096, push, None)])
    s += op_data(0, 1448) + op_data(0, 1448) + op_data(0, 1448, psh=True) + [POLL]
    s += op_adv(3) + op_data(0, 3000, psh=True) + op_adv(4)
    write("tcp", "handshake_inorder_psh", s)

    s = [NOIND, 31] + op_open(0, 5000) + op_post(0, [(8000, push, None)])
    s += op_seg(0, 1000, 1000) + op_seg(0, 2000, 1000, flags=0x18)
    s += op_seg(0, 500, 1000) + op_data(0, 1000) + op_adv(3) + op_adv(6)
    write("tcp", "out_of_order_fill_sack", s)

    s = [NOIND, 31] + op_open(0, 77, ts=False, ws=None, sackp=False)
    s += op_post(0, [(4096, push, None), (2000, push, 10)]) + op_data(0, 100)
    s += op_adv(5) + op_adv(5) + op_data(0, 200) + op_adv(4) + op_adv(6)
    write("tcp", "push_timer_and_prefill", s)

    s = [NOIND, 31] + op_open(1, 9) + op_post(1, [(3000, nopush, None), (1000, push, None)])
    s += op_data(1, 1000, psh=True) + op_data(1, 2000) + op_data(1, 500, psh=True)
    s += op_adv(6) + op_adv(6)
    write("tcp", "no_push_filled", s)

    # Indications: answers follow the data op that triggers them (0 accept, 2 refuse,
    # 3 partial with a fraction).
    s = [0x00, 31] + op_open(0, 4242) + op_data(0, 500) + [0]
    s += op_data(0, 600) + [3, 128] + [RET, 0] + op_data(0, 300) + [2]
    s += op_post(0, [(4096, push, None)]) + [POLL] + op_data(0, 100, psh=True) + [RET, 0]
    s += op_adv(6)
    write("tcp", "indicate_accept_partial_refuse", s)

    s = [NOIND, 31] + op_open(2, 31337) + op_post(2, [(1000, push, None), (5000, push, None)])
    s += op_data(2, 1500) + [UPL, 2] + op_data(2, 700) + [RET, 0, POLL]
    write("tcp", "upload_hands_back", s)

    s = [NOIND, 31] + op_open(0, 1) + op_post(0, [(2000, push, None), (2000, push, None)])
    s += op_data(0, 100) + [FIN, 0, ACKFIN, 0] + op_post(0, [(100, push, None)]) + [POLL]
    write("tcp", "fin_then_post_invalid_state", s)

    s = [NOIND, 31] + op_open(3, 600) + op_post(3, [(2000, push, None)])
    s += op_data(3, 1000) + op_adv(3) + [RST, 3, 1, 0, 10] + [RST, 3, 0] + op_data(3, 10)
    write("tcp", "ipv6_rst_challenge_then_exact", s)

    s = [NOIND, 31] + op_open(0, 0xFFFFF000) + op_post(
        0, [(6000, push | repost, None), (6000, nopush, None)])
    for _ in range(6):
        s += op_data(0, 1460)
    s += op_data(0, 1000, psh=True) + op_adv(6) + op_adv(6)
    write("tcp", "sequence_wrap_repost", s)

    s = [NOIND | 0x40, 31] + op_open(0, 100)
    for _ in range(4):
        s += op_data(0, 2000)
    s += op_post(0, [(6000, push, None), (6000, push, None)]) + op_adv(1) + op_adv(2)
    s += op_data(0, 2000, psh=True) + op_adv(6)
    write("tcp", "zero_window_then_update", s)

    s = [NOIND, 31] + op_open(0, 10) + op_open(1, 20) + op_open(3, 30)
    s += op_post(0, [(3000, push, None)]) + op_post(1, [(3000, nopush, None)])
    s += op_post(3, [(3000, push, None)]) + op_data(1, 1000) + op_data(0, 1000)
    s += op_data(3, 3000) + op_data(1, 2000) + [FIN, 0] + [RST, 1, 0] + op_adv(6)
    write("tcp", "three_peers_mixed", s)

    s = [NOIND | 0x80, 31] + op_open(2, 50) + op_post(2, [(1000, push, None)])
    s += op_data(2, 10) + op_adv(7) + op_adv(7)
    write("tcp", "idle_timeout", s)

    s = [NOIND, 31] + [SYN, 0, 0x00] + u32(7777) + [0x0F, 7, 0]
    s += op_adv(6) + op_adv(6) + op_adv(6) + op_adv(6) + op_open(0, 8888)
    write("tcp", "synack_retries_then_open", s)

    s = [NOIND | 0x40, 31] + op_open(0, 1) + op_post(0, [(6000, push, None)])
    for i in range(1, 12):
        s += op_seg(0, i * 200, 100, sack=[(1, 100)] if i % 3 == 0 else None)
    s += op_data(0, 100) + [BAD, 0, 1, BAD, 0, 0] + op_adv(6)
    write("tcp", "ooo_storm_small_store", s)

    s = [NOIND, 31 | 0x80] + op_open(0, 1) + op_open(1, 2) + [SYN, 2, 0] + u32(3) + [0]
    s += [SYN, 3, 0] + u32(4) + [0] + op_post(0, [(2000, push, None)]) + op_data(0, 100)
    s += op_adv(6) + op_adv(6) + op_open(2, 5)
    write("tcp", "small_tables_syn_flood", s)

    s = [NOIND, 31 | 0x40] + op_open(0, 11) + op_open(3, 12)
    s += op_post(0, [(3000, push, None)]) + op_post(3, [(3000, nopush, None)])
    s += op_data(0, 1000) + op_data(3, 1000) + op_seg(0, 2000, 500)
    write("tcp", "abort_all_at_teardown", s)

    # Answers: 0x10 posts a request of 1 + 16 * next byte from inside the indication.
    s = [0x00, 31] + op_open(1, 99) + op_data(1, 500) + [0x10, 20]
    s += op_data(1, 400, psh=True) + [RET, 0] + op_data(1, 300) + [0x12, 10]
    s += op_data(1, 100, psh=True) + [RET, 0] + op_adv(6)
    write("tcp", "indicate_posts_from_upcall", s)

    s = [NOIND, 31] + op_open(0, 123456) + op_post(0, [(4096, push, None)])
    s += op_seg(0, 1000, 100) + op_data(0, 10, fin=True) + op_data(0, 990) + op_adv(6)
    write("tcp", "fin_behind_a_gap", s)


# --- model ----------------------------------------------------------------------------------

(K_OPEN, K_CLOSE, K_DISC, K_POST, K_FILL, K_TSTART, K_TRESTART, K_TCANCEL, K_TEXPIRE,
 K_COMPLETE, K_CALL, K_IND, K_RET, K_STATE, K_DROP, K_XSK, K_PAYLOAD, K_CALL_END, K_IND_CALL,
 K_HANDBACK, K_DISCARDED, K_SOURCE) = range(1, 23)  # enum otr_kind (trace_event.h)


def v(x):
    if x < 0x80:
        return [x]
    if x < 1 << 14:
        return [0x80 | x >> 8, x & 255]
    if x < 1 << 29:
        return [0xC0 | x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255]
    return [0xE0] + list(struct.pack("!Q", x & (2**64 - 1)))


def ev(kind, step_us=100, conn=0, req=0, back=False, fields=()):
    """conn/req: 0 same, 1 next, 3 previous (the header's choices)."""
    hd = (conn << 2) | (req << 4) | (0x40 if back else 0)
    out = [kind, hd] + v(step_us)
    for f in fields:
        out += f if isinstance(f, list) else v(f)
    return out


def sstr(s):
    return [len(s)] + list(s.encode())


def seeds_model():
    life = [0x01]
    life += ev(K_OPEN, conn=1, fields=[sstr("10.77.0.1"), sstr("10.77.0.2"), 5201, 40000,
                                       1460, 1000, 7])
    life += ev(K_POST, req=1, fields=[4096, 0, 1, [0]])
    life += ev(K_FILL, fields=[1448, 1448, 4096, 1001, [0]])
    life += ev(K_TSTART, fields=[[1], 500000, 1448])
    life += ev(K_FILL, fields=[1448, 2896, 4096, 2449, [1]])
    life += ev(K_TCANCEL, fields=[[1], 0, 2896])
    life += ev(K_CALL, fields=[1])
    life += ev(K_COMPLETE, fields=[8, 2896, 2896, 2, 300, 1])
    life += ev(K_IND, req=1, fields=[500, 500, 0, 1])
    life += ev(K_RET, fields=[500])
    life += ev(K_STATE, fields=[0, 0, 0, 4397, 0, 0, 65536, 3396, 0, [2]])
    life += ev(K_DISC, fields=[1, 3396])
    life += ev(K_CLOSE, fields=[1, 3396])
    write("model", "clean_connection_life", life)

    push = [0x00]
    push += ev(K_OPEN, conn=1, fields=[sstr("::1"), sstr("::2"), 5201, 1, 1460, 5, 0])
    push += ev(K_POST, req=1, fields=[1000, 0, 1, [0]])
    push += ev(K_FILL, fields=[10, 10, 1000, 6, [0]])
    push += ev(K_TSTART, fields=[[1], 500000, 10])
    push += ev(K_TEXPIRE, step_us=500000, fields=[[2], 0, 10])
    push += ev(K_CALL, fields=[1])
    push += ev(K_COMPLETE, fields=[8, 10, 10, 3, 500000, 501])
    write("model", "push_timer_expiry", push)

    loss = [0x02]
    loss += ev(K_OPEN, conn=1, fields=[sstr("a"), sstr("b"), 1, 2, 3, 4, 5])
    loss += ev(K_POST, req=1, fields=[100, 0, 1, [0]])
    loss += ev(K_POST, req=1, fields=[100, 0, 2, [1]])
    loss += ev(K_DISCARDED, fields=[12, 1, 50])
    loss += ev(K_COMPLETE, req=3, fields=[8, 100, 100, 1, 10, 1])
    loss += ev(K_STATE, fields=[1, 1, 0, 0, 0, 0, 100, 100, 2, [0x81], sstr("10.77.0.1"),
                                sstr("10.77.0.2"), 5201, 40000, 100, 0, [1]])
    loss += ev(K_STATE, conn=1, fields=[0, 0, 0, 0, 0, 0, 0, 0, 0, [0x80], sstr("fd77::1"),
                                        sstr("fd77::2"), 5201, 40001])
    loss += ev(K_SOURCE, fields=[[1], sstr("relayd gone")])
    loss += ev(K_SOURCE, fields=[[0], sstr("back")])
    loss += ev(K_XSK, fields=[10, 0, 0]) + ev(K_DROP, fields=[18, 60])
    write("model", "loss_then_snapshot_resync", loss)

    bad = [0x2A]
    bad += ev(K_OPEN, conn=1, fields=[sstr("x"), sstr("y"), 0, 0, 0, 0, 0])
    bad += ev(K_POST, req=1, fields=[10, 20, 1, [1]])  # prefill past the buffer
    bad += ev(K_POST, req=0, fields=[10, 0, 1, [0]])  # same id again
    bad += ev(K_COMPLETE, req=1, fields=[8, 5, 5, 3, 1, 1])  # push timer on no-push
    bad += ev(K_COMPLETE, req=0, fields=[8, 5, 5, 1, 1, 1])  # completed twice
    bad += ev(K_FILL, req=1, fields=[7, 7, 10, 0, [0]])  # fill of a request never posted
    bad += ev(K_TEXPIRE, back=True, fields=[[1], 1000, 0])  # before its deadline, time back
    bad += ev(K_CALL, fields=[3]) + ev(K_CALL, fields=[2])  # a call inside a call
    bad += ev(K_RET, fields=[1]) + ev(K_IND, fields=[2**40, 2**41, 7, 3000])
    bad += ev(K_STATE, fields=[70, 70, 5, 0, 0, 0, 0, 0, 1, [0]] + [[0, 0, 0]] * 64)
    bad += ev(K_CLOSE, fields=[9, 2**63]) + ev(K_COMPLETE, conn=3, fields=[0, 0, 0, 0, 0, 0])
    bad += ev(0, fields=[]) + ev(K_SOURCE, fields=[[3], sstr("error")])
    write("model", "violations_and_nonsense", bad)

    many = [0x08]
    for c in range(12):
        many += ev(K_OPEN, conn=1, fields=[sstr("h"), sstr("p"), 1, c, 1, 1, 1])
        many += ev(K_POST, req=1, fields=[100, 0, 1, [0]])
        many += ev(K_CLOSE, fields=[2, 0])
    write("model", "closed_connections_evicted", many)


# --- api -----------------------------------------------------------------------------------
# fuzz_api.c: a configuration byte, then operations; each callback reads its own bytes (how
# many actions it takes, and the indication whether it tries to return what is on offer), so
# a script lists them where the callbacks come. The fuzzer finds the rest.

(A_OPEN, A_DELIVER, A_POST, A_ADVANCE, A_IND, A_RETURN, A_UPLOAD, A_FIN, A_RST, A_CLOSE,
 A_DESTROY) = (0, 1, 3, 5, 6, 7, 8, 9, 10, 11, 12)
OWN = 0x80  # inside a callback: act on the callback's own connection


def a_op(op, conn=0, own=False):
    return [op | (OWN if own else 0)] + ([] if own or op in (A_OPEN, A_ADVANCE, A_RETURN,
                                                              A_DESTROY) else [conn])


def a_deliver(length, psh=False, conn=0, own=False):
    return a_op(A_DELIVER, conn, own) + [length >> 8, length & 0xFF, 1 if psh else 0]


def a_post(reqs, conn=0, own=False):
    """reqs: list of (chain, no_push, prefill); slots are picked by the harness."""
    out = a_op(A_POST, conn, own) + [len(reqs) - 1] + [7 * i + 1 for i in range(len(reqs))]
    for chain, no_push, prefill in reqs:
        b = (16 if no_push else 0) | (8 if prefill else 0)
        out += [b, (chain - 1) >> 8, (chain - 1) & 0xFF]
        if prefill:
            out += [prefill >> 8, prefill & 0xFF]
    return out


def seeds_api():
    cfg = 0x2A  # chunk 512 bytes, a small pool, a per-connection budget of 4 chunks
    s = [cfg] + a_op(A_OPEN) + a_post([(1000, False, 0), (1000, True, 100)])
    s += a_deliver(700) + a_deliver(900, psh=True) + [0]  # one completion call: no action
    s += a_op(A_ADVANCE) + [255] + [0] + a_op(A_FIN) + [0, 0]
    write("api", "post_fill_push_fin", s)

    s = [cfg] + a_op(A_OPEN) + a_op(A_IND) + [1, 0, 100]  # partial: 100 bytes each time
    s += a_deliver(1500) + [1, 0]  # the indication tries to return what it offers
    s += a_op(A_RETURN) + [0, 8] + a_post([(400, False, 0)]) + a_op(A_ADVANCE) + [0, 0]
    s += a_op(A_DESTROY) + [0]
    write("api", "indicate_partial_return_destroy", s)

    # A repost inside the FIN's completion comes back after the event; one inside the event
    # completes INVALID_STATE (R25).
    s = [cfg] + a_op(A_OPEN) + a_post([(800, False, 0)]) + a_deliver(300)
    s += a_op(A_FIN) + [1] + a_post([(200, False, 0)], own=True)
    s += [1] + a_post([(200, False, 0)], own=True) + [0, 0]
    write("api", "repost_in_fin_completion", s)

    # Upload with posts inside its completions and its event.
    s = [cfg] + a_op(A_OPEN) + a_post([(600, False, 0), (600, True, 0)]) + a_deliver(800)
    s += [1] + a_post([(100, False, 0)], own=True)
    s += a_op(A_UPLOAD) + [1] + a_post([(100, False, 0)], own=True) + [1]
    s += a_post([(100, False, 0)], own=True) + [0, 0]
    write("api", "upload_with_posts_inside", s)

    # Held data refused, then destroy: handed back with an RST, refused until returned.
    s = [cfg] + a_op(A_OPEN) + a_op(A_IND) + [2, 0, 0] + a_deliver(1800) + [0, 0]
    s += a_op(A_DESTROY) + [0] + a_op(A_RETURN) + [0, 8] + a_op(A_DESTROY)
    write("api", "destroy_with_held_data", s)

    # Close an open connection with a push timer running; a second one goes on.
    s = [cfg] + a_op(A_OPEN) + a_op(A_OPEN) + a_post([(2000, False, 0)], conn=0)
    s += a_deliver(50, conn=0) + a_deliver(700, conn=1) + [0, 0] + a_op(A_CLOSE, conn=0)
    s += [0] + a_op(A_ADVANCE) + [200] + a_op(A_RST, conn=1) + [0]
    write("api", "close_open_connection", s)

    # Inside an indication: upload, a FIN, a destroy and a close of its own connection.
    s = [cfg] + a_op(A_OPEN) + a_deliver(900) + [1, 3] + a_op(A_UPLOAD, own=True)
    s += [0] + a_op(A_DESTROY, own=True) + [1] + a_op(A_CLOSE, own=True) + [0, 0, 0]
    write("api", "upload_inside_indication", s)

    # Two connections share a tight pool: every byte inside a window is stored.
    s = [0x01] + a_op(A_OPEN) + a_op(A_OPEN)
    for i in range(6):
        s += a_deliver(100 + 37 * i, conn=i & 1) + [0, 0]
        s += a_op(A_RETURN) + [0, 8] + a_post([(150, True, 0)], conn=(i + 1) & 1)
    write("api", "shared_pool_two_connections", s)


def main():
    if len(sys.argv) > 1:
        print(__doc__)
        return 0 if sys.argv[1] in ("-h", "--help") else 2
    seeds_pkt()
    seeds_tcp()
    seeds_model()
    seeds_api()
    return 0


if __name__ == "__main__":
    sys.exit(main())
