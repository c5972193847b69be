#!/usr/bin/env python3
"""Adversarial traffic against offrx-recv over AF_XDP, table-driven.

Every row of CASES names a case, the RFC rule it follows, what is sent and what must happen:
the drop counters that must move (exactly: every other counter must stay put during the case)
and the behaviour on the wire (challenge ACK, ACK number, window, RST or silence, the stream
stored and its SHA-256, the connection's state). Frames are built by hand here (no scapy), so
the suite can send what no stack would: bad checksums, cut headers, bad option lengths, VLAN
tags, IP options, fragments, timestamps from the past, 2^32 sequence wraps.

The outer part (root, host namespace) makes one namespace pair for the whole run, starts
offrx-recv in PREFIX-eng and re-runs this file in PREFIX-peer (--peer ...). The wire part talks
to the engine from 10.77.0.99, an address the peer kernel does not own: the engine's replies
reach peer0, but the peer kernel drops them, so it never answers our crafted connections with
an RST. Between cases it reads the engine's drop counters (SIGUSR1 to offrx-recv, which prints
them as one JSON line), so each case is checked against its own counters.

  test_adversarial.py            run (needs root; exit 77 when not root)
  test_adversarial.py --list-md  the table as Markdown (docs/ADVERSARIAL.md is made from it)
"""
import errno
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

PORT = 5301
STALL_PORT = 5302  # offrx-recv --stall-port: a reader that stops, so the window closes
OTHER_PORT = 5399  # not the engine's: its segments go to the kernel (XDP_PASS)
ENG_IP = "10.77.0.1"
PEER_IP = "10.77.0.2"
CRAFT_IP = "10.77.0.99"  # not configured anywhere: see the docstring
ENG_IP6 = "fd77::1"
CRAFT_IP6 = "fd77::99"  # the same, for IPv6
HALFOPEN_MAX = 1024  # tcp_rx default max_halfopen
OOO_MAX = 256 << 10  # tcp_rx default ooo_max
OOO_PIECE_COST = 64  # what tcp_rx charges each out-of-order piece on top of its bytes
FLOOD = 10000
FLOOD_PORT0 = 20000
RSS_BOUND_KIB = 8 << 10  # what a storm may add to offrx-recv's resident memory
QUIET_S = 0.12  # delayed ACKs go out after 40 ms: silence this long means "not answered"
SKIP = 77

F_FIN, F_SYN, F_RST, F_PSH, F_ACK, F_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, payload, proto=6, ident=0, frag=0x4000, options=b"", bad_csum=False,
        tot_len=None, ttl=64):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot_len or ihl * 4 + len(payload), ident,
                      frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    hdr += options
    c = csum(hdr) ^ (0x5A5A if bad_csum else 0)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def tcp_hdr(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", payload=b"",
            urg=0, doff=None, bad_csum=False):
    opts += b"\0" * (-len(opts) % 4)
    off = doff if doff is not None else 5 + len(opts) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4,
                    flags, win, 0, urg) + opts
    seg = h + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg) ^ (0x5A5A if bad_csum else 0)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ip6(src, dst, payload, nh=6, ext=b""):
    """IPv6 header; ext is a chain of extension headers (their next-header bytes set by the
    caller), nh the next header of the fixed header."""
    return struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + ext + payload


def tcp6_hdr(src, dst, *args, **kw):
    """tcp_hdr with the IPv6 pseudo-header (RFC 8200 8.1) in its checksum."""
    kw = dict(kw)
    bad = kw.pop("bad_csum", False)
    seg = bytearray(tcp_hdr("0.0.0.0", "0.0.0.0", *args, **kw))
    seg[16:18] = b"\0\0"
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
              struct.pack("!IxxxB", len(seg), 6))
    seg[16:18] = struct.pack("!H", csum(pseudo + bytes(seg)) ^ (0x5A5A if bad else 0))
    return bytes(seg)


def eth(dst, src, payload, etype=0x0800, vlan=None):
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return dst + src + tag + struct.pack("!H", etype) + payload


def o_ts(val, ecr):
    return struct.pack("!BBBBII", 1, 1, 8, 10, val & 0xFFFFFFFF, ecr & 0xFFFFFFFF)


def o_mss(v):
    return struct.pack("!BBH", 2, 4, v)


def o_ws(v):
    return struct.pack("!BBBB", 1, 3, 3, v)


O_SACKOK = b"\x01\x01\x04\x02"


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(":"))


class Reply:
    """One TCP segment the engine (or the engine namespace's kernel) sent to CRAFT_IP."""

    def __init__(self, frame, vlan):
        self.vlan = vlan
        et = struct.unpack("!H", frame[12:14])[0]
        l3 = 14
        if et == 0x8100:
            self.vlan = struct.unpack("!H", frame[14:16])[0] & 0xFFF
            et = struct.unpack("!H", frame[16:18])[0]
            l3 = 18
        if et == 0x86DD:
            plen = struct.unpack("!H", frame[l3 + 4:l3 + 6])[0]
            th = frame[l3 + 40:l3 + 40 + plen]
        else:
            ihl = (frame[l3] & 0xF) * 4
            tot = struct.unpack("!H", frame[l3 + 2:l3 + 4])[0]
            th = frame[l3 + ihl:l3 + tot]
        (self.sport, self.dport, self.seq, self.ack, off, fl, self.win, _,
         _) = struct.unpack("!HHIIBBHHH", th[:20])
        self.flagbits = fl
        self.flags = "".join(c for b, c in ((1, "F"), (2, "S"), (4, "R"), (8, "P"), (16, "A"),
                                           (32, "U")) if fl & b)
        self.opts = {}
        o, i = th[20:(off >> 4) * 4], 0
        while i < len(o):
            k = o[i]
            if k == 0:
                break
            if k == 1:
                i += 1
                continue
            n = o[i + 1]
            v = o[i + 2:i + n]
            if k == 2:
                self.opts["MSS"] = struct.unpack("!H", v)[0]
            elif k == 3:
                self.opts["WScale"] = v[0]
            elif k == 4:
                self.opts["SAckOK"] = True
            elif k == 8:
                self.opts["TS"] = struct.unpack("!II", v)
            elif k == 5:
                self.opts["SAck"] = [struct.unpack("!II", v[j:j + 8]) for j in range(0, len(v), 8)]
            i += n
        self.payload_len = len(th) - (off >> 4) * 4

    def __repr__(self):
        return "<%s seq %d ack %d win %d%s>" % (self.flags, self.seq, self.ack, self.win,
                                                " vlan %d" % self.vlan if self.vlan else "")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Wire:
    """Frames out and in through AF_PACKET sockets on peer0; the replies to CRAFT_IP are queued
    per destination port by a reader thread."""

    SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID = 263, 8, 0x10

    def __init__(self, iface, eng_mac):
        self.eng_mac = mac_bytes(eng_mac)
        self.mac = mac_bytes(open("/sys/class/net/%s/address" % iface).read().strip())
        self.out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.out.bind((iface, 0))
        self.out.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.inp = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.inp.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE: SYN-ACK bursts
        self.inp.setsockopt(self.SOL_PACKET, self.PACKET_AUXDATA, 1)
        self.inp.bind((iface, 0))
        self.got = {}
        self.cv = threading.Condition()
        self.running = True
        self.craft = socket.inet_aton(CRAFT_IP)
        self.craft6 = socket.inet_pton(socket.AF_INET6, CRAFT_IP6)
        self.th = threading.Thread(target=self._reader, daemon=True)
        self.th.start()

    def _reader(self):
        while self.running:
            r, _, _ = select.select([self.inp], [], [], 0.1)
            if not r:
                continue
            data, anc, _, addr = self.inp.recvmsg(65536, socket.CMSG_SPACE(32))
            if addr[2] == 4:  # PACKET_OUTGOING: our own frames
                continue
            vlan = None
            for lvl, typ, d in anc:
                if lvl == self.SOL_PACKET and typ == self.PACKET_AUXDATA and len(d) >= 20:
                    st, _, _, _, _, tci = struct.unpack("IIIHHH", d[:18])
                    if st & self.TP_STATUS_VLAN_VALID:
                        vlan = tci & 0xFFF
            l3 = 18 if data[12:14] == b"\x81\x00" else 14
            if data[l3 - 2:l3] == b"\x86\xdd":
                if len(data) < l3 + 60 or data[l3 + 6] != 6 or \
                        data[l3 + 24:l3 + 40] != self.craft6:
                    continue
            elif len(data) < l3 + 40 or data[l3 + 9] != 6 or data[l3 + 16:l3 + 20] != self.craft:
                continue
            try:
                p = Reply(data, vlan)
            except (struct.error, IndexError):
                continue
            with self.cv:
                self.got.setdefault(p.dport, []).append(p)
                self.cv.notify_all()

    def send_raw(self, frame):
        # ENOBUFS: the veth's ring for the XDP program was full (the engine, starved of CPU
        # on a loaded machine, had not drained it) and the frame was dropped, not sent. A real
        # sender would send it again; so do we, for a bounded time.
        deadline = None
        while True:
            try:
                self.out.send(frame)
                return
            except OSError as e:
                if e.errno != errno.ENOBUFS:
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + 5.0
                elif now > deadline:
                    raise
                time.sleep(0.001)

    def send_ip(self, packet, vlan=None):
        self.send_raw(eth(self.eng_mac, self.mac, packet, vlan=vlan))

    def burst(self, frames, per=32, pause=0.0005):
        """Paced so neither the veth's XDP ring nor the AF_XDP ring overflows."""
        for i in range(0, len(frames), per):
            for f in frames[i:i + per]:
                self.send_raw(f)
            time.sleep(pause)

    def next(self, port, timeout):
        end = time.monotonic() + timeout
        with self.cv:
            while not self.got.get(port):
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)
            return self.got[port].pop(0)

    def drain(self, port):
        with self.cv:
            return self.got.pop(port, [])

    def quiet(self, port, what, seconds=QUIET_S):
        p = self.next(port, seconds)
        check(p is None, "%s: expected no reply within %.2f s, got %r" % (what, seconds, p))

    def ports_seen(self):
        with self.cv:
            return {k: len(v) for k, v in self.got.items() if v}


class Conn:
    """One crafted connection from CRAFT_IP:sport. Offsets are stream offsets: byte `off` of
    the stream is sequence number isn + 1 + off."""

    def __init__(self, w, sport, isn=None, ts=True, vlan=None, dport=PORT, v6=False):
        self.w = w
        self.v6 = v6
        self.sport = sport
        self.dport = dport
        self.isn = random.getrandbits(32) if isn is None else isn & 0xFFFFFFFF
        self.ts = ts
        self.tsval = random.randrange(1000, 1 << 30)
        self.ts_ecr = 0
        self.iss = 0
        self.vlan = vlan
        self.wscale = 0

    def seq(self, off):
        return (self.isn + 1 + off) & 0xFFFFFFFF

    def rel(self, p):
        return (p.ack - self.isn - 1) & 0xFFFFFFFF

    def opts(self):
        if not self.ts:
            return b""
        self.tsval += 1
        return o_ts(self.tsval, self.ts_ecr)

    def frame(self, flags, off=0, payload=b"", seq=None, ack=None, opts=None, win=65535,
              ip_kw=None, **kw):
        args = (self.sport, self.dport, self.seq(off) if seq is None else seq,
                (self.iss + 1 if ack is None else ack) if flags & F_ACK else 0, flags, win,
                self.opts() if opts is None else opts, payload)
        if self.v6:
            return eth(self.w.eng_mac, self.w.mac, ip6(CRAFT_IP6, ENG_IP6, tcp6_hdr(
                CRAFT_IP6, ENG_IP6, *args, **kw)), etype=0x86DD, vlan=self.vlan)
        t = tcp_hdr(CRAFT_IP, ENG_IP, *args, **kw)
        return eth(self.w.eng_mac, self.w.mac, ip4(CRAFT_IP, ENG_IP, t, **(ip_kw or {})),
                   vlan=self.vlan)

    def send(self, flags, off=0, payload=b"", **kw):
        self.w.send_raw(self.frame(flags, off, payload, **kw))

    def data(self, off, payload, flags=F_PSH | F_ACK, **kw):
        self.send(flags, off, payload, **kw)

    def next(self, timeout=1.0):
        return self.w.next(self.sport, timeout)

    def quiet(self, what, seconds=QUIET_S):
        self.w.quiet(self.sport, what, seconds)

    def syn(self, opts=None, payload=b""):
        o = (o_mss(1460) + O_SACKOK + (o_ts(self.tsval, 0) if self.ts else b"") + o_ws(7)
             if opts is None else opts)
        self.send(F_SYN, seq=self.isn, opts=o, payload=payload)

    def synack(self, what="SYN"):
        sa = self.next(2.0)
        check(sa is not None, "no SYN-ACK within 2 s for a %s to port %d" % (what, self.dport))
        check(sa.flags == "SA", "%s answered with %r, not a SYN-ACK" % (what, sa))
        check(self.rel(sa) == 0, "the SYN-ACK acknowledges %d bytes past our ISN + 1, not 0 "
              "(a SYN's data must not be acknowledged before it is stored)" % self.rel(sa))
        if self.vlan is not None:
            check(sa.vlan == self.vlan, "SYN-ACK carries VLAN %s, the SYN had %d" %
                  (sa.vlan, self.vlan))
        self.iss = sa.seq
        self.wscale = sa.opts.get("WScale", 0)
        if self.ts:
            check("TS" in sa.opts, "the SYN-ACK has no timestamp, the SYN offered one")
            self.ts_ecr = sa.opts["TS"][0]
        return sa

    def handshake(self, opts=None, syn_payload=b""):
        self.syn(opts, syn_payload)
        sa = self.synack()
        self.send(F_ACK)
        return sa

    def expect_ack(self, upto, what, timeout=1.0, flags="A"):
        """Wait for an ACK of the first `upto` stream bytes; fail on one that acknowledges
        more (bytes the engine cannot have stored), or on anything but `flags`."""
        end = time.monotonic() + timeout
        while True:
            p = self.next(max(0.0, end - time.monotonic()))
            check(p is not None, "%s: no ACK of %d bytes within %.1f s" % (what, upto, timeout))
            self.max_edge = max(getattr(self, "max_edge", 0), self.rel(p) + self.window(p))
            check(p.flags == flags or (flags == "A" and p.flags == "A"),
                  "%s: got %r, expected flags %s" % (what, p, flags))
            got = self.rel(p)
            check(got <= upto or got > 0x80000000, "%s: ACK of %d bytes, but only %d were "
                  "acceptable" % (what, got, upto))
            if "TS" in p.opts:
                self.ts_ecr = p.opts["TS"][0]
            if got == upto:
                return p

    def expect_only(self, upto, what, flags="A"):
        """The one answer to a segment: an ACK of exactly `upto`, right away."""
        p = self.next(1.0)
        check(p is not None, "%s: no answer within 1 s (expected an ACK of %d)" % (what, upto))
        check(p.flags == flags and self.rel(p) == upto,
              "%s: answered %r (ack %d), expected %s ack %d" % (what, p, self.rel(p), flags, upto))
        if "TS" in p.opts:
            self.ts_ecr = p.opts["TS"][0]
        return p

    def window(self, p):
        return p.win << self.wscale

    def close(self, total):
        """Our FIN after `total` bytes, the engine's FIN-ACK, our ACK: closed by 'fin'."""
        self.send(F_FIN | F_ACK, total)
        self.expect_ack(total + 1, "close: FIN-ACK", flags="FA")
        self.send(F_ACK, total + 1, ack=self.iss + 2)


def sha(b):
    return hashlib.sha256(b).hexdigest()


class Engine:
    """What offrx-recv says: drop counters on demand (SIGUSR1) and one line per closed
    connection, both on its stdout."""

    CONN_RE = re.compile(r"^conn (\d+) (\S+) -> (\S+): (\d+) bytes .*closed by (\w+), "
                         r"sha256 ([0-9a-f]{64})$")

    def __init__(self, pid, out_path, err_path):
        self.pid = pid
        self.out_path = out_path
        self.err_path = err_path
        self.nsnap = 0

    def lines(self):
        """Complete lines only: offrx-recv may be in the middle of writing the last one."""
        with open(self.out_path) as f:
            return f.read().split("\n")[:-1]

    def drops(self):
        self.nsnap += 1
        os.kill(self.pid, signal.SIGUSR1)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            snaps = [ln for ln in self.lines() if ln.startswith('{"drops"')]
            if len(snaps) >= self.nsnap:
                return json.loads(snaps[self.nsnap - 1])["drops"]
            time.sleep(0.002)
        raise Fail("offrx-recv printed no drop counters within 3 s of SIGUSR1")

    def conn(self, remote, timeout=1.5):
        end = time.monotonic() + timeout
        while True:
            for ln in self.lines():
                m = self.CONN_RE.match(ln)
                if m and m.group(2) == remote:
                    return {"id": int(m.group(1)), "bytes": int(m.group(4)),
                            "closed_by": m.group(5), "sha256": m.group(6)}
            if time.monotonic() > end:
                return None
            time.sleep(0.01)

    def stream(self, remote, data, closed_by="fin"):
        """The connection from `remote` closed by `closed_by` with exactly `data` stored."""
        c = self.conn(remote)
        check(c is not None, "no closed connection from %s in offrx-recv's output" % remote)
        check(c["closed_by"] == closed_by, "connection %s closed by %s, expected %s" %
              (remote, c["closed_by"], closed_by))
        check(c["bytes"] == len(data) and c["sha256"] == sha(data),
              "connection %s stored %d bytes sha256 %s…, sent %d bytes sha256 %s…" %
              (remote, c["bytes"], c["sha256"][:12], len(data), sha(data)[:12]))
        return "%d bytes, sha256 %s…" % (len(data), sha(data)[:12])

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
        return 0

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()


def remote(c):
    if c.v6:
        return "[%s]:%d" % (CRAFT_IP6, c.sport)
    return "%s:%d" % (CRAFT_IP, c.sport)


# --------------------------------------------------------------------------------------------
# The cases. Each takes (wire, engine) and returns a short note of what it saw.
# --------------------------------------------------------------------------------------------

def c_handshake_options(w, e):
    c = Conn(w, 40040)
    syn_ts = c.tsval
    sa = c.handshake()
    o = sa.opts
    check(o.get("MSS") == 1460, "SYN-ACK MSS %r, expected 1460 (MTU 1500 - 40)" % o.get("MSS"))
    check(o.get("WScale") == 7 and o.get("SAckOK"),
          "SYN-ACK options %r lack the window scale 7 or SACK-permitted we were offered" % o)
    check(o["TS"][1] == syn_ts, "SYN-ACK TSecr %d does not echo our TSval %d" %
          (o["TS"][1], syn_ts))
    check(sa.win > 0, "SYN-ACK window 0")
    d = os.urandom(100)
    c.data(0, d)
    p = c.expect_ack(100, "data")
    check(p.opts.get("TS", (0, 0))[1] == c.tsval, "the ACK's TSecr %r is not our last TSval %d"
          % (p.opts.get("TS"), c.tsval))
    c.close(100)
    return "MSS 1460, WScale 7, SAckOK, TSecr echoed; " + e.stream(remote(c), d)


def c_handshake_bare(w, e):
    c = Conn(w, 40041, ts=False)
    sa = c.handshake(opts=b"")
    check("WScale" not in sa.opts and "TS" not in sa.opts and "SAckOK" not in sa.opts,
          "a SYN without options got a SYN-ACK with %r" % sa.opts)
    check(sa.opts.get("MSS") == 1460, "SYN-ACK MSS %r, expected 1460" % sa.opts.get("MSS"))
    d = os.urandom(3000)
    for off in range(0, 3000, 1000):
        c.data(off, d[off:off + 1000])
    c.expect_ack(3000, "data without timestamps or scaling")
    c.close(3000)
    return "SYN-ACK has MSS only; " + e.stream(remote(c), d)


def c_ooo_filled(w, e):
    c = Conn(w, 40001)
    c.handshake()
    d = os.urandom(2000)
    c.data(1000, d[1000:])
    p = c.expect_only(0, "after the out-of-order [1000,2000)")
    blocks = [((l - c.isn - 1) & 0xFFFFFFFF, (r - c.isn - 1) & 0xFFFFFFFF)
              for l, r in p.opts.get("SAck", [])]
    check(blocks == [(1000, 2000)], "SACK blocks %r, expected [(1000, 2000)]" % blocks)
    c.data(0, d[:1000])
    c.expect_ack(2000, "after filling [0,1000)")
    c.close(2000)
    return "dup ACK 0 + SACK [1000,2000), then ACK 2000; " + e.stream(remote(c), d)


def c_overlap(w, e):
    c = Conn(w, 40002)
    c.handshake()
    a, b, z = b"\xa1" * 1000, b"\xb2" * 1000, b"\xc3" * 500
    c.data(1000, a)
    c.expect_only(0, "after [1000,2000)")
    c.data(500, b)  # [500,1500): its [1000,1500) disagrees with what is stored
    c.expect_only(0, "after [500,1500)")
    c.data(0, z)
    c.expect_ack(2000, "after [0,500)")
    c.close(2000)
    return "A kept in [1000,1500); " + e.stream(remote(c), z + b[:500] + a)


def c_bad_tcp_csum(w, e):
    c = Conn(w, 40003)
    c.handshake()
    c.data(0, b"x" * 100, bad_csum=True)
    c.quiet("a segment with a bad TCP checksum")
    d = os.urandom(100)
    c.data(0, d)
    c.expect_ack(100, "the same offset with a good checksum")
    c.close(100)
    return "not ACKed; " + e.stream(remote(c), d)


def c_truncated(w, e):
    c = Conn(w, 40004)
    c.handshake()
    hdr = tcp_hdr(CRAFT_IP, ENG_IP, c.sport, PORT, c.seq(0), c.iss + 1, F_PSH | F_ACK)
    # 12 bytes of TCP in the IP length, the frame padded as Ethernet pads short frames: the
    # XDP program reads the port from the padding, pkt_parse must go by IP's length.
    w.send_ip(ip4(CRAFT_IP, ENG_IP, hdr[:12] + bytes(20), tot_len=20 + 12))
    c.quiet("a TCP header cut to 12 bytes")
    d = os.urandom(50)
    c.data(0, d)
    c.expect_ack(50, "data after the cut header")
    c.close(50)
    return "no answer; " + e.stream(remote(c), d)


def c_bad_doff(w, e):
    c = Conn(w, 40005)
    c.handshake()
    c.data(0, b"y" * 10, opts=b"", doff=15)  # 60-byte header in a 30-byte segment
    c.quiet("data offset 60 in a 30-byte segment")
    d = os.urandom(50)
    c.data(0, d)
    c.expect_ack(50, "data after the bad data offset")
    c.close(50)
    return "no answer; " + e.stream(remote(c), d)


def c_opt_len_zero(w, e):
    c = Conn(w, 40006)
    c.handshake()
    c.data(0, b"y" * 10, opts=b"\x08\x00\x01\x01")
    c.quiet("option kind 8 with length 0")
    d = os.urandom(10)
    c.data(0, d)
    c.expect_ack(10, "data after the bad option")
    c.close(10)
    return "no answer; " + e.stream(remote(c), d)


def c_opt_past_header(w, e):
    c = Conn(w, 40007)
    c.handshake()
    c.data(0, b"y" * 10, opts=b"\x01\x01\x02\x08")  # MSS of length 8, 2 option bytes left
    c.quiet("MSS option of length 8 with 2 option bytes left")
    d = os.urandom(10)
    c.data(0, d)
    c.expect_ack(10, "data after the bad option")
    c.close(10)
    return "no answer; " + e.stream(remote(c), d)


def c_sack_malformed(w, e):
    c = Conn(w, 40008)
    c.handshake()
    d = os.urandom(100)
    # A SACK option of length 5 (not 2 + 8n) and one with a block of garbage edges: walkable,
    # so ignored as Linux ignores them; the data is good.
    c.data(0, d[:50], opts=o_ts(c.tsval + 1, c.ts_ecr) + b"\x05\x05\x00\x00\x00\x01")
    c.tsval += 1
    c.data(50, d[50:], opts=o_ts(c.tsval + 1, c.ts_ecr) + b"\x01\x01\x05\x0a" +
           struct.pack("!II", 0xDEADBEEF, 0x12345678))
    c.tsval += 1
    c.expect_ack(100, "data carrying malformed SACK options")
    c.close(100)
    return "ignored, data ACKed; " + e.stream(remote(c), d)


def c_rst_in_window(w, e):
    c = Conn(w, 40009)
    c.handshake()
    d = os.urandom(200)
    c.data(0, d[:100])
    p = c.expect_ack(100, "first 100 bytes")
    check(c.window(p) > 1000, "advertised window %d too small for the test" % c.window(p))
    c.send(F_RST, 100 + 1000)
    p = c.expect_only(100, "an RST at rcv_nxt + 1000")
    c.data(100, d[100:])
    c.expect_ack(200, "data after the challenged RST (the connection must survive)")
    c.close(200)
    return "challenge ACK 100, connection lives on; " + e.stream(remote(c), d)


def c_rst_outside(w, e):
    c = Conn(w, 40010)
    c.handshake()
    d = os.urandom(100)
    c.send(F_RST, 0x40000000)
    c.quiet("an RST a gigabyte past the window")
    c.data(0, d)
    c.expect_ack(100, "data after the RST outside the window")
    c.close(100)
    return "ignored; " + e.stream(remote(c), d)


def c_rst_exact(w, e):
    c = Conn(w, 40011)
    c.handshake()
    d = os.urandom(300)
    c.data(0, d)
    c.expect_ack(300, "300 bytes")
    c.send(F_RST, 300)
    c.quiet("an exact RST")
    return "closed, no answer; " + e.stream(remote(c), d, closed_by="rst")


def c_after_rst(w, e):
    c = Conn(w, 40011)  # the connection the exact RST closed
    c.isn, c.iss = 0, 0
    c.send(F_PSH | F_ACK, payload=b"late", seq=0x1000, ack=0x2000)
    p = c.next(1.0)
    check(p is not None and p.flags == "R" and p.seq == 0x2000,
          "data for a closed connection answered %r, expected RST seq 0x2000" % p)
    return "RST seq = SEG.ACK"


def c_rst_no_conn(w, e):
    c = Conn(w, 40012)
    c.send(F_RST, seq=12345)
    c.quiet("an RST for no connection")
    return "ignored"


def c_synack_to_listener(w, e):
    c = Conn(w, 40013)
    c.send(F_SYN | F_ACK, seq=777, ack=0xABCDEF)
    p = c.next(1.0)
    check(p is not None and p.flags == "R" and p.seq == 0xABCDEF,
          "a SYN-ACK to the listener answered %r, expected RST seq = its ACK" % p)
    return "RST seq 0xabcdef"


def c_ack_to_listener(w, e):
    c = Conn(w, 40014)
    c.send(F_ACK, seq=777, ack=0x1234, payload=b"hello")
    p = c.next(1.0)
    check(p is not None and p.flags == "R" and p.seq == 0x1234,
          "an ACK to the listener answered %r, expected RST seq 0x1234" % p)
    return "RST seq = SEG.ACK"


def c_bad_handshake_ack(w, e):
    c = Conn(w, 40015)
    c.syn()
    c.synack()
    c.send(F_ACK, ack=c.iss + 1000)
    p = c.next(1.0)
    check(p is not None and p.flags == "R" and p.seq == (c.iss + 1000) & 0xFFFFFFFF,
          "an ACK of an unsent byte in SYN-RECEIVED answered %r, expected RST seq = its ACK" % p)
    c.send(F_ACK)  # the right ACK still completes the handshake
    d = os.urandom(100)
    c.data(0, d)
    c.expect_ack(100, "data after the handshake")
    c.close(100)
    return "RST, then the good ACK completes it; " + e.stream(remote(c), d)


def c_syn_retransmit(w, e):
    c = Conn(w, 40016)
    c.syn()
    sa1 = c.synack()
    c.syn()
    sa2 = c.synack("retransmitted SYN")
    check(sa1.seq == sa2.seq, "the second SYN-ACK has ISS %d, the first %d" % (sa2.seq, sa1.seq))
    c.send(F_ACK)
    d = os.urandom(64)
    c.data(0, d)
    c.expect_ack(64, "data")
    c.close(64)
    return "same SYN-ACK again; " + e.stream(remote(c), d)


def c_dup_syn_established(w, e):
    c = Conn(w, 40017)
    c.handshake()
    d = os.urandom(200)
    c.data(0, d[:100])
    c.expect_ack(100, "first 100 bytes")
    c.send(F_SYN, seq=c.isn + 5000, opts=o_mss(1460) + o_ts(c.tsval + 1, 0))
    c.tsval += 1
    c.expect_only(100, "a SYN on the established connection")
    c.data(100, d[100:])
    c.expect_ack(200, "data after the SYN (the connection must survive)")
    c.close(200)
    return "challenge ACK 100, connection lives on; " + e.stream(remote(c), d)


def c_syn_with_data(w, e):
    c = Conn(w, 40018)
    d = os.urandom(300)
    c.syn(payload=d)
    c.synack("SYN with 300 bytes")  # checks: it acknowledges the SYN only
    c.send(F_ACK)
    c.quiet("the ACK completing the handshake")
    c.data(0, d)  # the peer sends it again, as it would after the SYN-ACK
    c.expect_ack(300, "the SYN's data sent again")
    c.close(300)
    return "SYN-ACK acks ISN+1 only; resent data stored; " + e.stream(remote(c), d)


def c_ack_unsent(w, e):
    c = Conn(w, 40019)
    c.handshake()
    d = os.urandom(100)
    c.data(0, d, ack=c.iss + 1 + 5000)
    c.expect_only(0, "data acknowledging 5000 bytes we never sent")
    c.data(0, d)
    c.expect_ack(100, "the same data with a good ACK")
    c.close(100)
    return "ACK 0, data not taken; " + e.stream(remote(c), d)


def c_no_ack_flag(w, e):
    c = Conn(w, 40020)
    c.handshake()
    c.data(0, b"z" * 40, flags=F_PSH)
    c.quiet("data without the ACK bit")
    d = os.urandom(40)
    c.data(0, d)
    c.expect_ack(40, "data with the ACK bit")
    c.close(40)
    return "dropped in silence; " + e.stream(remote(c), d)


def c_past_window(w, e):
    c = Conn(w, 40021)
    c.handshake()
    d = os.urandom(100)
    c.data(0, d)
    p = c.expect_ack(100, "first 100 bytes")
    wnd = c.window(p)
    check(wnd > 0, "a zero window with nothing pending")
    c.data(100 + wnd, b"!")  # the first byte past the right edge
    p = c.expect_only(100, "a byte at rcv_nxt + window (%d)" % wnd)
    check(c.window(p) > 0, "the answering ACK advertises a zero window")
    c.close(100)
    return "ACK 100 window %d, byte not taken; " % c.window(p) + e.stream(remote(c), d)


def c_ooo_ack_only(w, e):
    c = Conn(w, 40022)
    c.handshake()
    c.send(F_ACK, 0x20000000)
    c.expect_only(0, "a bare ACK half a gigabyte ahead")
    d = os.urandom(30)
    c.data(0, d)
    c.expect_ack(30, "data")
    c.close(30)
    return "ACK 0; " + e.stream(remote(c), d)


def c_old_duplicate(w, e):
    c = Conn(w, 40023)
    c.handshake()
    d = os.urandom(3000)
    c.data(0, d[:1000])
    c.data(1000, d[1000:2000])
    c.expect_ack(2000, "2000 bytes")
    c.data(500, b"\xee" * 1000)  # [500,1500) again, with other bytes
    c.expect_only(2000, "an old duplicate below rcv_nxt")
    c.data(2000, d[2000:])
    c.expect_ack(3000, "the rest")
    c.close(3000)
    return "ACK 2000, not delivered twice; " + e.stream(remote(c), d)


def c_seq_wrap(w, e):
    c = Conn(w, 40024, isn=(1 << 32) - 1500)  # byte 1499 is sequence 0
    c.handshake()
    d = os.urandom(6000)
    for off in range(0, 3000, 1000):  # [1000,2000) crosses the wrap
        c.data(off, d[off:off + 1000])
    c.expect_ack(3000, "3000 bytes across 2^32")
    c.data(4000, d[4000:5000])  # out of order past the wrap, then the hole
    c.expect_only(3000, "out of order after the wrap")
    c.data(3000, d[3000:4000])
    c.data(5000, d[5000:])
    c.expect_ack(6000, "6000 bytes")
    c.close(6000)
    return "ISN 2^32-1500; " + e.stream(remote(c), d)


def c_wscale_15(w, e):
    notes = []
    for sport, ws in ((40025, 15), (40026, 255)):
        c = Conn(w, sport)
        sa = c.handshake(opts=o_mss(1460) + O_SACKOK + o_ts(c.tsval, 0) + o_ws(ws))
        check(sa.opts.get("WScale") == 7, "SYN-ACK window scale %r, expected ours (7)" %
              sa.opts.get("WScale"))
        d = os.urandom(2000)
        c.data(0, d[:1000])
        c.data(1000, d[1000:])
        c.expect_ack(2000, "data on a connection whose peer offered window scale %d" % ws)
        c.close(2000)
        e.stream(remote(c), d)
        notes.append(str(ws))
    log = e.stderr()
    for ws in (15, 255):
        check("offered window scale %d; using 14" % ws in log,
              "offrx-recv's log does not name the window scale %d it clamped" % ws)
    return "shifts %s used as 14 and logged; streams byte-exact" % "/".join(notes)


def c_paws(w, e):
    c = Conn(w, 40027)
    c.handshake()
    d = os.urandom(200)
    c.data(0, d[:100])
    c.expect_ack(100, "first 100 bytes")
    recent = c.tsval
    c.data(100, b"\xdd" * 100, opts=o_ts(recent - 1000, c.ts_ecr))
    p = c.expect_only(100, "a segment whose timestamp went back 1000")
    check(p.opts.get("TS", (0, 0))[1] == recent,
          "the ACK echoes TSecr %r, expected TS.Recent %d" % (p.opts.get("TS"), recent))
    c.data(100, d[100:])
    c.expect_ack(200, "the same offset with a fresh timestamp")
    c.close(200)
    return "ACK 100 echoing TS.Recent; " + e.stream(remote(c), d)


def c_storm_in_order(w, e):
    c = Conn(w, 40028)
    c.handshake()
    n = 4000
    d = os.urandom(n)
    frames = [c.frame(F_ACK | (F_PSH if i % 500 == 499 else 0), i, d[i:i + 1])
              for i in range(n)]
    rss0 = e.rss_kib()
    w.burst(frames)
    c.expect_ack(n, "%d one-byte segments" % n, timeout=3.0)
    grew = e.rss_kib() - rss0
    check(grew < RSS_BOUND_KIB, "offrx-recv grew by %d KiB during the storm" % grew)
    w.drain(c.sport)
    c.close(n)
    return "%d segments, ACK %d, RSS +%d KiB; " % (n, n, grew) + e.stream(remote(c), d)


def c_storm_ooo(w, e):
    c = Conn(w, 40029)
    c.handshake()
    n = 3000
    d = os.urandom(n + 1)
    frames = [c.frame(F_ACK, i, d[i:i + 1]) for i in range(1, n + 1)]
    w.burst(frames)
    p = None
    for _ in range(n):  # one duplicate ACK each: none may acknowledge anything
        p = c.next(2.0)
        check(p is not None, "fewer than %d duplicate ACKs for the out-of-order storm" % n)
        check(c.rel(p) == 0, "an ACK of %d during the out-of-order storm" % c.rel(p))
    c.data(0, d[:1])
    c.expect_ack(n + 1, "the hole at 0 filled")
    c.close(n + 1)
    return "%d dup ACKs at 0, then ACK %d; " % (n, n + 1) + e.stream(remote(c), d)


def ooo_holes_kept():
    return OOO_MAX // (1 + OOO_PIECE_COST)


def c_ooo_holes(w, e):
    c = Conn(w, 40030)
    c.handshake()
    n = 5000
    d = os.urandom(2 * n + 1)
    frames = [c.frame(F_ACK, 2 * k + 1, d[2 * k + 1:2 * k + 2]) for k in range(n)]
    rss0 = e.rss_kib()
    w.burst(frames)
    got = 0
    while got < n:
        p = c.next(2.0)
        check(p is not None, "only %d of %d duplicate ACKs for 1-byte pieces with holes" %
              (got, n))
        check(c.rel(p) == 0, "an ACK of %d while byte 0 is missing" % c.rel(p))
        got += 1
    grew = e.rss_kib() - rss0
    check(grew < RSS_BOUND_KIB, "offrx-recv grew by %d KiB holding the pieces" % grew)
    for off in range(0, len(d), 1000):
        c.data(off, d[off:off + 1000])
    c.expect_ack(len(d), "every hole filled", timeout=2.0)
    w.drain(c.sport)
    c.close(len(d))
    return "%d pieces kept of %d, RSS +%d KiB; " % (ooo_holes_kept(), n, grew) + e.stream(
        remote(c), d)


def c_zero_window(w, e):
    c = Conn(w, 40042, dport=STALL_PORT)
    c.handshake()
    d = bytearray(b"\x5a" * 1000)
    c.data(0, bytes(d), flags=F_ACK)
    sent = len(d)
    p = c.expect_ack(sent, "the first 1000 bytes")
    edge = sent + c.window(p)  # the furthest right edge advertised so far
    rounds = 0
    while not (sent == edge and p.win == 0):
        rounds += 1
        check(rounds < 300, "the window never closed (at %d, edge %d)" % (sent, edge))
        frames = []
        while sent < edge and len(frames) < 64:
            n = min(1448, edge - sent)
            chunk = os.urandom(n)
            frames.append(c.frame(F_ACK, sent, chunk))
            d += chunk
            sent += n
        w.burst(frames)
        p = c.expect_ack(sent, "data up to the advertised edge %d" % edge, timeout=2.0)
        edge = max(edge, c.max_edge)
    c.data(sent, b"?", flags=F_ACK)  # the zero-window probe
    p = c.expect_only(sent, "a zero-window probe")
    check(p.win == 0, "the probe's ACK advertises window %d, expected 0" % p.win)
    c.send(F_RST, sent)
    c.quiet("an exact RST")
    return "window closed at %d, probe ACKed with window 0; " % sent + e.stream(
        remote(c), bytes(d), closed_by="rst")


def c_fin_with_data(w, e):
    c = Conn(w, 40031)
    c.handshake()
    d = os.urandom(500)
    c.data(0, d, flags=F_FIN | F_PSH | F_ACK)
    c.expect_ack(501, "data with FIN", flags="FA")
    c.send(F_ACK, 501, ack=c.iss + 2)
    return "FIN-ACK acks 501; " + e.stream(remote(c), d)


def c_data_after_fin(w, e):
    c = Conn(w, 40032)
    c.handshake()
    d = os.urandom(100)
    c.data(0, d, flags=F_FIN | F_PSH | F_ACK)
    c.expect_ack(101, "data with FIN", flags="FA")
    c.data(101, b"after the end")  # not yet acknowledging our FIN
    c.expect_only(101, "data after the FIN")
    c.send(F_ACK, 101, ack=c.iss + 2)
    return "ACK 101, ignored; " + e.stream(remote(c), d)


def c_urgent(w, e):
    c = Conn(w, 40033)
    c.handshake()
    d = os.urandom(100)
    c.data(0, d, flags=F_URG | F_PSH | F_ACK, urg=10)
    c.expect_ack(100, "data with URG, urgent pointer 10")
    c.close(100)
    return "in line; " + e.stream(remote(c), d)


def c_mss_zero(w, e):
    c = Conn(w, 40034)
    c.handshake(opts=o_mss(0) + o_ts(c.tsval, 0))
    d = os.urandom(100)
    c.data(0, d)
    c.expect_ack(100, "data on a connection whose peer offered MSS 0")
    c.close(100)
    return "connection works; " + e.stream(remote(c), d)


def c_ip_options(w, e):
    c = Conn(w, 40035)
    c.handshake()
    d = os.urandom(100)
    # Router alert (RFC 2113), then EOL: the TCP header starts 24 bytes in.
    c.data(0, d, ip_kw={"options": b"\x94\x04\x00\x00"})
    c.expect_ack(100, "data behind IPv4 options")
    c.close(100)
    return "taken; " + e.stream(remote(c), d)


def c_bad_ip_csum(w, e):
    c = Conn(w, 40036)
    c.handshake()
    c.data(0, b"q" * 100, ip_kw={"bad_csum": True})
    c.quiet("a bad IPv4 header checksum")
    d = os.urandom(100)
    c.data(0, d)
    c.expect_ack(100, "the same offset, good header")
    c.close(100)
    return "not ACKed; " + e.stream(remote(c), d)


def c_vlan(w, e):
    c = Conn(w, 40037, vlan=42)
    c.handshake()  # checks the SYN-ACK carries the tag
    d = os.urandom(500)
    c.data(0, d)
    p = c.expect_ack(500, "tagged data")
    check(p.vlan == 42, "the ACK carries VLAN %s, expected 42" % p.vlan)
    c.close(500)
    return "replies tagged 42; " + e.stream(remote(c), d)


def c_other_port(w, e):
    c = Conn(w, 40038, dport=OTHER_PORT)
    c.syn()
    p = c.next(1.0)
    check(p is not None and p.flags == "RA" and p.sport == OTHER_PORT,
          "a SYN to port %d answered %r, expected the kernel's RST-ACK" % (OTHER_PORT, p))
    return "the kernel answers RST-ACK"


def c_fragment(w, e):
    c = Conn(w, 40039)
    syn = tcp_hdr(CRAFT_IP, ENG_IP, c.sport, PORT, c.isn, 0, F_SYN,
                  opts=o_mss(1460) + o_ts(1, 0))
    ident = 0x4242
    w.send_ip(ip4(CRAFT_IP, ENG_IP, syn[:16], ident=ident, frag=0x2000))  # MF, offset 0
    w.send_ip(ip4(CRAFT_IP, ENG_IP, syn[16:], ident=ident, frag=2))  # offset 16 bytes
    p = c.next(1.0)
    check(p is not None and p.flags == "RA",
          "a fragmented SYN answered %r, expected the kernel's RST-ACK (the engine does not "
          "reassemble; XDP passes fragments to the kernel)" % p)
    return "kernel reassembled and reset it; engine untouched"


def c_ipv6(w, e):
    c = Conn(w, 40043, v6=True)
    sa = c.handshake()
    check(sa.opts.get("MSS") == 1440, "SYN-ACK MSS %r over IPv6, expected 1440 (MTU 1500 - 60)"
          % sa.opts.get("MSS"))
    d = os.urandom(3000)
    c.data(2000, d[2000:])
    c.expect_only(0, "out of order over IPv6")
    c.data(0, d[:1000])
    c.data(1000, d[1000:2000])
    c.data(0, b"\x00" * 10, bad_csum=True)
    c.expect_ack(3000, "3000 bytes over IPv6")
    c.close(3000)
    return "handshake, reordering, bad checksum dropped; " + e.stream(remote(c), d)


def c_ipv6_ext_hdr(w, e):
    c = Conn(w, 40044, v6=True)
    syn = tcp6_hdr(CRAFT_IP6, ENG_IP6, c.sport, PORT, c.isn, 0, F_SYN, opts=o_mss(1440))
    hbh = bytes([6, 0, 1, 4, 0, 0, 0, 0])  # Hop-by-Hop: next header TCP, PadN
    w.send_raw(eth(w.eng_mac, w.mac, ip6(CRAFT_IP6, ENG_IP6, syn, nh=0, ext=hbh),
                   etype=0x86DD))
    p = c.next(1.0)
    check(p is not None and p.flags == "RA",
          "a SYN behind a Hop-by-Hop header answered %r, expected the kernel's RST-ACK (XDP "
          "passes extension headers to the kernel)" % p)
    return "the kernel answers RST-ACK; engine untouched"


def c_flood(w, e):
    tmpl = bytearray(eth(w.eng_mac, w.mac, ip4(CRAFT_IP, ENG_IP, tcp_hdr(
        CRAFT_IP, ENG_IP, 1, PORT, 0, 0, F_SYN))))
    tcp_off = 14 + 20
    pseudo = socket.inet_aton(CRAFT_IP) + socket.inet_aton(ENG_IP) + struct.pack("!BBH", 0, 6, 20)
    frames = []
    for i in range(FLOOD):
        sp = FLOOD_PORT0 + i
        struct.pack_into("!HHI", tmpl, tcp_off, sp, PORT, 0x10000000 + sp)
        struct.pack_into("!H", tmpl, tcp_off + 16, 0)
        struct.pack_into("!H", tmpl, tcp_off + 16, csum(pseudo + bytes(tmpl[tcp_off:])))
        frames.append(bytes(tmpl))
    t0 = time.monotonic()
    w.burst(frames)
    sent_s = time.monotonic() - t0
    end = time.monotonic() + 2.0
    acked = set()
    while time.monotonic() < end:
        acked = {p for p in w.ports_seen() if FLOOD_PORT0 <= p < FLOOD_PORT0 + FLOOD}
        if len(acked) >= HALFOPEN_MAX:
            break
        time.sleep(0.05)
    time.sleep(0.1)
    acked = {p for p in w.ports_seen() if FLOOD_PORT0 <= p < FLOOD_PORT0 + FLOOD}
    check(len(acked) == HALFOPEN_MAX, "%d SYNs got %d SYN-ACKs, expected exactly %d (the "
          "half-open bound)" % (FLOOD, len(acked), HALFOPEN_MAX))
    # Abort the half-open entries as a peer would (an RST at rcv_nxt), so that the kernel
    # connection below is not refused by a full table.
    rsts = [eth(w.eng_mac, w.mac, ip4(CRAFT_IP, ENG_IP, tcp_hdr(
        CRAFT_IP, ENG_IP, sp, PORT, 0x10000000 + sp + 1, 0, F_RST, win=0))) for sp in acked]
    w.burst(rsts)
    for sp in acked:
        w.drain(sp)
    time.sleep(0.1)
    payload = os.urandom(100 << 10)
    s = socket.create_connection((ENG_IP, PORT), timeout=10, source_address=(PEER_IP, 0))
    lport = s.getsockname()[1]
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
    return ("%d SYNs in %.1f s, %d SYN-ACKs; kernel connection after: " %
            (FLOOD, sent_s, len(acked)) + e.stream("%s:%d" % (PEER_IP, lport), payload))


def C(name, rfc, sends, drops, expect, fn, allow=()):
    return {"name": name, "rfc": rfc, "sends": sends, "drops": drops, "expect": expect,
            "fn": fn, "allow": allow}


CASES = [
    C("handshake-options", "RFC 9293 3.7.1; RFC 7323 2.2, 3.2; RFC 2018 2",
      "SYN with MSS 1460, SACK-permitted, timestamps, window scale 7", {},
      "SYN-ACK with MSS 1460, window scale 7, SACK-permitted, TSecr = our TSval; ACKs echo "
      "the latest TSval", c_handshake_options),
    C("handshake-no-options", "RFC 7323 1.3, 3.2 (scaling and timestamps only if offered)",
      "SYN without options", {}, "SYN-ACK carries MSS only; data taken unscaled",
      c_handshake_bare),
    C("ooo-then-filled", "RFC 9293 3.10.7.4 (queue out-of-order text); RFC 2018 4",
      "[1000,2000) then [0,1000)", {},
      "dup ACK 0 with SACK [1000,2000), then ACK 2000; stream byte-exact", c_ooo_filled),
    C("overlap-first-wins", "RFC 9293 3.10.7.4 (trim to what is new); RFC 9293 3.4",
      "[1000,2000) of A, [500,1500) of B, [0,500)", {},
      "bytes already stored are kept (first data wins); ACK 2000; stream = Z+B[:500]+A",
      c_overlap),
    C("bad-tcp-checksum", "RFC 9293 3.1; RFC 1122 4.2.2.7 (discard silently)",
      "100 bytes with the TCP checksum broken", {"pkt.tcp_bad_csum": 1},
      "no ACK; good copy then stored", c_bad_tcp_csum),
    C("truncated-tcp-header", "RFC 9293 3.1 (header is 20 bytes at least)",
      "IP length leaves 12 bytes of TCP (frame padded)", {"pkt.tcp_short": 1},
      "no answer; connection unaffected", c_truncated),
    C("data-offset-past-segment", "RFC 9293 3.1 (Data Offset)",
      "data offset 15 words in a 30-byte segment", {"pkt.tcp_bad_doff": 1},
      "no answer; connection unaffected", c_bad_doff),
    C("option-length-0", "RFC 1122 4.2.2.5 (illegal option length)",
      "option kind 8, length 0", {"pkt.tcp_bad_opt": 1},
      "segment dropped (RFC 1122 suggests a reset; we drop it), no answer", c_opt_len_zero),
    C("option-past-header", "RFC 1122 4.2.2.5; RFC 9293 3.1",
      "MSS option of length 8 with 2 option bytes left", {"pkt.tcp_bad_opt": 1},
      "segment dropped, no answer", c_opt_past_header),
    C("sack-option-malformed", "RFC 2018 3; RFC 9293 3.1 (unknown/ill-sized option ignored)",
      "SACK option of length 5; SACK block of garbage edges", {},
      "options ignored, data ACKed and stored", c_sack_malformed),
    C("rst-in-window-not-exact", "RFC 5961 3.2",
      "RST at rcv_nxt + 1000 (inside the window)", {"tcp.rst_challenged": 1},
      "challenge ACK at rcv_nxt; connection survives, later data stored", c_rst_in_window),
    C("rst-outside-window", "RFC 5961 3.2; RFC 9293 3.10.7.4 first check",
      "RST 1 GiB past the window", {"tcp.rst_outside": 1},
      "ignored in silence; connection survives", c_rst_outside),
    C("rst-exact", "RFC 5961 3.2; RFC 9293 3.10.7.4 second check",
      "300 bytes, then RST at rcv_nxt", {},
      "connection closed by rst, no answer; the 300 bytes delivered", c_rst_exact),
    C("data-after-reset", "RFC 9293 3.10.7.2 (the port still listens: ACK -> "
      "<SEQ=SEG.ACK><CTL=RST>)",
      "data on the connection the RST closed", {"tcp.no_conn": 1},
      "RST with seq = SEG.ACK", c_after_rst),
    C("rst-for-no-connection", "RFC 9293 3.10.7.2 (LISTEN: an RST is ignored)",
      "RST to the listening port", {"tcp.no_conn": 1}, "no answer", c_rst_no_conn),
    C("synack-to-listener", "RFC 9293 3.10.7.2 (LISTEN: ACK -> <SEQ=SEG.ACK><CTL=RST>)",
      "SYN-ACK to the listening port, no SYN before", {"tcp.no_conn": 1},
      "RST with seq = SEG.ACK", c_synack_to_listener),
    C("ack-to-listener", "RFC 9293 3.10.7.2 (LISTEN: ACK -> <SEQ=SEG.ACK><CTL=RST>)",
      "ACK with 5 bytes to the listening port", {"tcp.no_conn": 1},
      "RST with seq = SEG.ACK", c_ack_to_listener),
    C("bad-ack-in-syn-received", "RFC 9293 3.10.7.4 (SYN-RECEIVED: unacceptable ACK -> RST)",
      "SYN, then an ACK of ISS + 1000", {"tcp.bad_handshake": 1},
      "RST seq = SEG.ACK; the right ACK still opens the connection", c_bad_handshake_ack),
    C("syn-retransmitted", "RFC 9293 3.8.1 (the SYN-ACK may be lost: the same SYN gets it "
      "again)",
      "the same SYN twice", {}, "the same SYN-ACK (same ISS) again; connection opens",
      c_syn_retransmit),
    C("syn-flood-10000", "RFC 4987 (SYN flood); RFC 9293 3.10.7.2",
      "10,000 SYNs from 10,000 ports, paced", {"tcp.syn_flood": FLOOD - HALFOPEN_MAX},
      "exactly 1,024 SYN-ACKs (the half-open bound); a kernel connection of 100 KiB after "
      "is byte-exact", c_flood, allow=("xsk.rx_fill_ring_empty",)),
    C("duplicate-syn-established", "RFC 5961 4.2 (SYN in a synchronized state)",
      "SYN at an in-window sequence on an open connection", {"tcp.syn_challenged": 1},
      "challenge ACK at rcv_nxt; connection survives, later data stored",
      c_dup_syn_established),
    C("syn-with-data", "RFC 9293 3.10.7.2 (text in a SYN may be queued: we do not)",
      "SYN carrying 300 bytes", {"tcp.syn_data": 1},
      "SYN-ACK acknowledges ISN+1 only (nothing stored, nothing ACKed); the data sent "
      "again after the handshake is stored", c_syn_with_data),
    C("ack-for-unsent-data", "RFC 9293 3.10.7.4 fifth check; RFC 5961 5.2",
      "100 bytes whose ACK is SND.NXT + 5000", {"tcp.bad_ack": 1},
      "ACK at rcv_nxt (0), segment dropped; a good copy is stored", c_ack_unsent),
    C("data-without-ack-bit", "RFC 9293 3.10.7.4 fifth check (ACK off: drop)",
      "40 bytes with PSH and no ACK", {"tcp.no_ack": 1}, "dropped, no answer", c_no_ack_flag),
    C("byte-past-window", "RFC 9293 3.10.7.4 first check",
      "1 byte at rcv_nxt + advertised window", {"tcp.out_of_window": 1},
      "ACK at rcv_nxt with an open window; the byte is not taken", c_past_window),
    C("ack-only-out-of-window", "RFC 9293 3.10.7.4 first check (send an ACK)",
      "bare ACK with seq 512 MiB ahead", {"tcp.out_of_window": 1}, "ACK at rcv_nxt",
      c_ooo_ack_only),
    C("old-duplicate", "RFC 9293 3.10.7.4 first check",
      "[500,1500) again after 2000 bytes, other contents", {"tcp.duplicate": 1},
      "ACK 2000; nothing delivered twice", c_old_duplicate),
    C("sequence-wrap", "RFC 9293 3.4 (sequence arithmetic modulo 2^32)",
      "ISN 2^32 - 1500; 6000 bytes, a segment across the wrap, a gap after it", {},
      "ACKs advance across 0; dup ACK at the gap; stream byte-exact", c_seq_wrap),
    C("window-scale-15-and-up", "RFC 7323 2.3 (use 14, log the error)",
      "SYNs with window scale 15 and 255", {},
      "handshake completes, log names the clamp; streams byte-exact", c_wscale_15),
    C("paws-timestamp-backwards", "RFC 7323 5.3 (PAWS, R1)",
      "in-window data with TSval 1000 below TS.Recent", {"tcp.paws": 1},
      "ACK at rcv_nxt echoing TS.Recent; bytes not taken; fresh copy stored", c_paws),
    C("one-byte-storm", "RFC 1122 4.2.3.2 (ACK at least every 2nd full segment); RFC 9293 3.8.6.2.2",
      "4,000 one-byte segments in order, paced bursts", {},
      "ACK 4000, stream byte-exact, no drop; offrx-recv's RSS grows < 8 MiB", c_storm_in_order),
    C("one-byte-storm-out-of-order", "RFC 9293 3.10.7.4; RFC 5681 4.2 (immediate dup ACK)",
      "3,000 one-byte segments [1,3001), then byte 0", {},
      "a dup ACK at 0 for each, none acknowledging more; then ACK 3001; byte-exact",
      c_storm_ooo),
    C("ooo-holes-beyond-store", "RFC 9293 3.10.7.4 (may hold out-of-order text, bounded)",
      "5,000 one-byte pieces with a hole between each, then all filled",
      {"tcp.ooo_full": 5000 - OOO_MAX // (1 + OOO_PIECE_COST)},
      "store bounded: each piece costs its byte + %d; the rest dropped as ooo_full, "
      "none ACKed; RSS grows < 8 MiB; stream byte-exact once filled" % OOO_PIECE_COST,
      c_ooo_holes),
    C("zero-window-probe", "RFC 9293 3.8.6.1 (keep the probe, answer with the window); "
      "3.10.7.4 first check", "a stalled reader's window filled, then a 1-byte probe",
      {"tcp.zero_window": 1}, "ACKs never pass what was stored; ACK at rcv_nxt with window 0; "
      "the probe byte not taken", c_zero_window),
    C("fin-with-data", "RFC 9293 3.10.7.4 eighth check",
      "500 bytes with FIN", {}, "FIN-ACK acknowledges 501; closed by fin; byte-exact",
      c_fin_with_data),
    C("data-after-fin", "RFC 9293 3.10.7.4 seventh check (ignore text after FIN)",
      "FIN at 100, then 13 bytes at 101", {"tcp.after_fin": 1},
      "ACK 101; late bytes not taken; 100 bytes delivered", c_data_after_fin),
    C("urgent-pointer", "RFC 6093 (urgent data in line); RFC 9293 3.8.5",
      "100 bytes with URG, urgent pointer 10", {}, "bytes delivered in line, byte-exact",
      c_urgent),
    C("mss-option-zero", "RFC 9293 3.7.1; RFC 6691 (we send no data: peer MSS unused)",
      "SYN with MSS 0", {}, "connection opens and stores data", c_mss_zero),
    C("ipv4-options", "RFC 1122 3.2.1.8 (options accepted); RFC 791",
      "IHL 6 with Router Alert", {}, "data ACKed and stored", c_ip_options),
    C("bad-ip-header-checksum", "RFC 1122 3.2.1.2 (verify, discard silently)",
      "100 bytes with the IPv4 header checksum broken", {"pkt.ip4_bad_csum": 1},
      "no ACK; good copy stored", c_bad_ip_csum),
    C("vlan-tagged", "IEEE 802.1Q (one tag)", "a whole connection tagged VLAN 42", {},
      "SYN-ACK and ACKs carry VLAN 42; stream byte-exact", c_vlan),
    C("port-not-served", "offrx design: XDP_PASS for ports the engine does not own",
      "SYN to port %d" % OTHER_PORT, {}, "the kernel answers (RST-ACK); engine counters "
      "untouched", c_other_port),
    C("ipv6-connection", "RFC 8200; RFC 9293 3.1 (IPv6 pseudo-header); RFC 9293 3.10.7.4",
      "a connection over IPv6: reordering, one bad checksum", {"pkt.tcp_bad_csum": 1},
      "SYN-ACK MSS 1440; dup ACK at the gap; bad copy not taken; stream byte-exact", c_ipv6),
    C("ipv6-extension-header", "RFC 8200 4; offrx design: XDP_PASS (TCP right after the "
      "fixed header only)", "a SYN behind a Hop-by-Hop header", {},
      "the kernel answers RST-ACK; the engine sees nothing", c_ipv6_ext_hdr),
    C("ipv4-fragment", "RFC 791 fragments; offrx design: no reassembly, XDP_PASS",
      "a SYN in two IPv4 fragments", {},
      "the kernel reassembles and answers RST-ACK; the engine sees nothing", c_fragment),
]


def peer_main(eng_mac, recv_pid, recv_out, recv_err, result_file, only):
    e = Engine(recv_pid, recv_out, recv_err)
    results = []
    try:
        w = Wire("peer0", eng_mac)
        before = e.drops()
    except (OSError, Fail) as ex:
        for case in CASES:
            results.append({"name": case["name"], "ok": False, "msg": "setup: %s" % ex})
        json.dump(results, open(result_file, "w"))
        return 0
    for case in CASES:
        if only and case["name"] not in only:
            continue
        t0 = time.monotonic()
        errs, msg = [], ""
        try:
            msg = case["fn"](w, e)
        except Fail as ex:
            errs.append(str(ex))
        except Exception as ex:  # noqa: BLE001 - reported as this case's failure
            errs.append("%s: %r" % (type(ex).__name__, ex))
        time.sleep(0.05)  # ACKs of the case's last segments
        for p, left in w.ports_seen().items():
            w.drain(p)
        try:
            after = e.drops()
        except Fail as ex:
            errs.append(str(ex))
            after = before
        for name in sorted(set(before) | set(after)):
            delta = after.get(name, 0) - before.get(name, 0)
            want = case["drops"].get(name, 0)
            if name in case["allow"] and not want:
                continue
            if delta != want:
                errs.append("%s moved by %d, expected %d" % (name, delta, want))
        for name in case["drops"]:
            if name not in after:
                errs.append("no counter named %s" % name)
        before = after
        results.append({"name": case["name"], "ok": not errs,
                        "msg": "; ".join(errs) if errs else msg,
                        "seconds": round(time.monotonic() - t0, 2)})
        print("  %s %s (%.2f s): %s" % ("ok" if not errs else "FAIL", case["name"],
                                         time.monotonic() - t0, results[-1]["msg"]),
              file=sys.stderr, flush=True)
    w.running = False
    with open(result_file, "w") as f:
        json.dump(results, f)
    return 0


# --------------------------------------------------------------------------------------------
# The outer part: namespaces, offrx-recv, the table.
# --------------------------------------------------------------------------------------------

MD_HEAD = """# Adversarial traffic

Crafted segments against the engine on the wire (`offrx-recv` over AF_XDP on a veth pair), one
table of cases in `tests/adversarial/test_adversarial.py`. Each case names the RFC rule it
follows, what is sent, the drop counters that must move (names as in `offrx_engine_drops()` and
`offrx-recv --json`; every other counter must stay where it was during the case) and the
behaviour expected on the wire. Where a stream is stored, its length and SHA-256 are checked
against what was sent, from offrx-recv's line for the closed connection.

Run it (root; one namespace pair for the whole run, about 10 s):

    cd build && ctest -R adversarial --output-on-failure
    sudo tests/adversarial/test_adversarial.py [CASE...]     # OFFRX_BIN=build dir

The frames are built by the script itself (no scapy), sent from 10.77.0.99, an address the peer
namespace's kernel does not own, so that kernel never answers the engine with resets of its own.
Between cases the script reads the engine's counters with SIGUSR1 (offrx-recv prints them as one
JSON line). The zero-window case uses a second port, `offrx-recv --stall-port`, whose reader stops.

This file is generated: `tests/adversarial/test_adversarial.py --list-md > docs/ADVERSARIAL.md`.

"""


def md(text):
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def list_md():
    print(MD_HEAD, end="")
    print("| # | case | RFC rule | sent | drop counters | expected |")
    print("| --- | --- | --- | --- | --- | --- |")
    for i, c in enumerate(CASES, 1):
        drops = ", ".join("`%s` +%d" % kv for kv in c["drops"].items()) or "none"
        print("| %d | %s | %s | %s | %s | %s |" % (i, c["name"], md(c["rfc"]), md(c["sends"]),
                                                   drops, md(c["expect"])))
    print("\n%d cases." % len(CASES))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def outer_main(only):
    if os.geteuid() != 0:
        print("skip: needs root (network namespaces, XDP, AF_XDP)")
        return SKIP
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.environ.get("OFFRX_SRC") or os.path.normpath(os.path.join(here, "..", ".."))
    bindir = os.environ.get("OFFRX_BIN") or os.path.join(src, "build")
    recv = os.path.join(bindir, "samples", "offrx-recv")
    if not os.access(recv, os.X_OK):
        print("FAIL: %s not found: build first (cmake --build %s)" % (recv, bindir))
        return 1
    netns = os.path.join(src, "scripts", "netns")
    prefix = "offrxadv%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="offrx-adversarial.")
    proc = None
    t_start = time.monotonic()
    try:
        r = run([netns, "up", "--name", prefix])
        if r.returncode:
            print("FAIL: scripts/netns up: %s" % (r.stderr.strip() or r.stdout.strip()))
            return 1
        mac = {}
        for ns, dev in (("eng", "eng0"), ("peer", "peer0")):
            mac[ns] = json.loads(run(["ip", "-j", "-n", "%s-%s" % (prefix, ns), "link", "show",
                                      dev]).stdout)[0]["address"]
        # The engine namespace's kernel answers what XDP passes it (other ports, fragments):
        # let it reach CRAFT_IP without ARP, which nobody would answer.
        for addr in (CRAFT_IP, CRAFT_IP6):
            r = run(["ip", "-n", prefix + "-eng", "neigh", "replace", addr, "lladdr",
                     mac["peer"], "dev", "eng0", "nud", "permanent"])
            if r.returncode:
                print("FAIL: ip neigh replace %s: %s" % (addr, r.stderr.strip()))
                return 1
        out_path = os.path.join(work, "recv.out")
        err_path = os.path.join(work, "recv.err")
        with open(out_path, "w") as so, open(err_path, "w") as se:
            proc = subprocess.Popen(["ip", "netns", "exec", prefix + "-eng", recv, "--iface",
                                     "eng0", "--port", str(PORT), "--port", str(STALL_PORT),
                                     "--stall-port", str(STALL_PORT), "--json", "--depth", "4",
                                     "--buf-size", "65536"], stdout=so, stderr=se)
        end = time.monotonic() + 10
        while "receiving on" not in open(err_path).read():
            if proc.poll() is not None or time.monotonic() > end:
                print("FAIL: offrx-recv did not start within 10 s (exit %s):\n%s" %
                      (proc.poll(), open(err_path).read()))
                return 1
            time.sleep(0.05)
        # `ip netns exec` execs offrx-recv in place; should a version fork instead, take its
        # child: SIGUSR1 must reach offrx-recv itself.
        recv_pid = proc.pid
        try:
            if open("/proc/%d/comm" % proc.pid).read().strip() != "offrx-recv":
                kids = open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)).read().split()
                recv_pid = int(kids[0]) if kids else proc.pid
        except (OSError, ValueError):
            pass

        result_file = os.path.join(work, "wire.json")
        try:
            wp = run(["ip", "netns", "exec", prefix + "-peer", sys.executable,
                      os.path.abspath(__file__), "--peer", mac["eng"], str(recv_pid), out_path,
                      err_path, result_file] + only, timeout=120)
            sys.stderr.write(wp.stderr)
        except subprocess.TimeoutExpired as ex:
            sys.stderr.write((ex.stderr or b"").decode(errors="replace"))
            print("FAIL: the wire part did not finish within 120 s")
        try:
            results = json.load(open(result_file))
        except (OSError, ValueError):
            results = [{"name": c["name"], "ok": False, "msg": "the wire part left no result"}
                       for c in CASES]

        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        rc = proc.returncode
        proc = None
        rules = {c["name"]: c["rfc"] for c in CASES}
        width = max(len(c["name"]) for c in CASES)
        passed = failed = 0
        print("%-4s %-3s %-*s  %s" % ("", "#", width, "case", "RFC rule / outcome"))
        for i, r in enumerate(results, 1):
            ok = r["ok"]
            passed += ok
            failed += not ok
            print("%-4s %-3d %-*s  %s\n%s%s" % ("PASS" if ok else "FAIL", i, width, r["name"],
                                               rules.get(r["name"], ""), " " * (10 + width),
                                               r["msg"]))
        if rc != 0:
            failed += 1
            print("FAIL offrx-recv exit status %s after SIGINT:\n%s" % (rc, open(err_path).read()))
        print("(%.1f s)" % (time.monotonic() - t_start))
        print("%d passed, %d failed" % (passed, failed))
        return 1 if failed or not results else 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        run([netns, "down", "--name", prefix])
        shutil.rmtree(work, ignore_errors=True)


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__.strip())
        print("\n  test_adversarial.py CASE...   run only the named cases")
        return 0
    if argv[:1] == ["--list-md"]:
        list_md()
        return 0
    if argv[:1] == ["--peer"]:
        return peer_main(argv[1], int(argv[2]), argv[3], argv[4], argv[5], argv[6:])
    unknown = [a for a in argv if a not in {c["name"] for c in CASES}]
    if unknown:
        print("unknown case(s): %s (see --list-md)" % ", ".join(unknown))
        return 2
    return outer_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
