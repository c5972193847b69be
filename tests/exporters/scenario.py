#!/usr/bin/env python3
"""Hand-made offrx event sequences in offrx-export's jsonl format, for its hidden
--input-jsonl mode: a small factory fills each event the way the engine would (fill totals,
the bytes and latencies a completion carries, raw clock with the event time), so a scenario
reads like the trace it stands for, and a test plants one wrong event in it.

  scenario.py NAME > FILE     write scenario NAME
  scenario.py --list          the names"""
import json
import sys

T0 = 1_700_000_000 * 10**9  # event times: ns since the Unix epoch
RAW0 = 42 * 10**9           # the raw clock: CLOCK_MONOTONIC
MS = 10**6
TIMER = 100 * MS


class Trace:
    def __init__(self, vpid=1000):
        self.vpid = vpid
        self.t = T0
        self.lines = []
        self.reqs = {}  # (conn, req) -> dict
        self.stream = {}  # conn -> the sequence of the next byte the application gets

    def at(self, ms):
        """Move the clock to ms after the start."""
        self.t = T0 + int(ms * MS)
        return self

    def ev(self, name, raw=None, **f):
        e = {"ts_ns": self.t, "ts_raw": raw if raw is not None else self.t - T0 + RAW0,
             "event": name, "vpid": self.vpid}
        e.update(f)
        self.lines.append(e)
        return e

    def raw(self, ms_after_start):
        return int(ms_after_start * MS) + RAW0

    def open(self, conn, lport=5201, rport=40000):
        self.ev("conn_open", conn=conn, local_addr="10.77.0.1", local_port=lport,
                remote_addr="10.77.0.2", remote_port=rport + conn, isn=1, mss=1460, wscale=7)

    def post(self, conn, req, buf_len=4096, prefill=0, no_push=False, depth=1):
        self.reqs[(conn, req)] = {"post": self.t, "len": buf_len, "fill": prefill,
                                  "prefill": prefill, "last": None}
        self.ev("post", conn=conn, req=req, buf_len=buf_len, prefill=prefill, no_push=no_push,
                depth=depth)

    def fill(self, conn, req, nbytes, psh=False):
        r = self.reqs[(conn, req)]
        r["fill"] += nbytes
        r["last"] = self.t
        seq = self.stream.get(conn, 1000)
        self.stream[conn] = seq + nbytes
        self.ev("fill", conn=conn, req=req, bytes=nbytes, total=r["fill"], buf_len=r["len"],
                seq=seq, psh=psh)

    def timer(self, what, conn, req, deadline_ms, raw=None):
        r = self.reqs.get((conn, req), {"fill": 0})
        self.ev("push_timer_" + what, raw=raw, conn=conn, req=req,
                deadline_ns=self.raw(deadline_ms), bytes=r["fill"])

    def call(self, conn, count):
        self.ev("complete_call", conn=conn, count=count)

    def end(self, conn, count):
        self.ev("complete_end", conn=conn, count=count)

    def icall(self, conn, ind, nbufs, offered=1000):
        self.ev("indicate_call", conn=conn, ind=ind, offered=offered, nbufs=nbufs)

    def handback(self, conn, nbytes, reason="fin"):
        self.stream[conn] = self.stream.get(conn, 1000) + nbytes
        self.ev("handback", conn=conn, reason=reason, bytes=nbytes)

    def complete(self, conn, req, reason, status="SUCCESS", raw=None, **override):
        r = self.reqs.get((conn, req), {"post": self.t, "fill": 0, "prefill": 0, "last": None})
        f = {"conn": conn, "req": req, "status": status, "bytes": r["fill"],
             "placed": r["fill"] - r["prefill"], "reason": reason,
             "post_to_complete_ns": self.t - r["post"],
             "last_fill_to_complete_ns": self.t - r["last"] if r["last"] else -1}
        f.update(override)
        self.ev("complete", raw=raw, **f)

    def indicate(self, conn, ind, nbufs, offered=1000, result="SUCCESS"):
        if result == "SUCCESS":
            self.stream[conn] = self.stream.get(conn, 1000) + offered
        self.ev("indicate", conn=conn, ind=ind, offered=offered,
                consumed=offered if result == "SUCCESS" else 0, result=result, nbufs=nbufs)

    def ret(self, conn, buf):
        self.ev("return", conn=conn, buf=buf, bytes=500)

    def state(self, conn, reqs, indicated_out=0):
        """reqs: [(id, len, fill, no_push)] queued, oldest first."""
        self.ev("conn_state", conn=conn, depth=len(reqs), req_ids=[r[0] for r in reqs],
                req_lens=[r[1] for r in reqs], req_fills=[r[2] for r in reqs],
                req_no_push=[int(r[3]) for r in reqs], deadline_ns=0,
                indicated_out=indicated_out, held_bytes=0,
                rcv_nxt=self.stream.get(conn, 1000), window=65536, bytes=0,
                local_addr="10.77.0.1", local_port=5201, remote_addr="10.77.0.2",
                remote_port=40000 + conn)

    def disconnect(self, conn, reason="fin"):
        self.ev("disconnect", conn=conn, reason=reason, bytes=0)

    def close(self, conn, reason="fin"):
        self.ev("conn_close", conn=conn, reason=reason, bytes=0)

    def discarded(self, from_ms, to_ms, count=10):
        self.lines.append({"ts_ns": T0 + int(to_ms * MS), "ts_raw": self.raw(to_ms),
                           "event": "discarded", "count": count, "packets": 0,
                           "from_ns": T0 + int(from_ms * MS), "to_ns": T0 + int(to_ms * MS)})

    def dump(self, f):
        for e in self.lines:
            f.write(json.dumps(e) + "\n")


# --- a good connection: every rule kept ----------------------------------------------------

def good_conn(t, conn, start_ms, close=True):
    """PSH, filled, push timer, no-push filled, indicate/return, disconnect: all by the rules."""
    t.at(start_ms).open(conn)
    t.post(conn, 1, buf_len=1000, depth=1)
    t.post(conn, 2, buf_len=1000, depth=2)
    t.post(conn, 3, buf_len=1000, no_push=True, depth=3)
    t.at(start_ms + 1).fill(conn, 1, 600)
    t.timer("start", conn, 1, start_ms + 1 + 100)
    t.at(start_ms + 2).fill(conn, 1, 400)            # req 1 full
    t.fill(conn, 2, 100, psh=True)                   # PSH ends req 2
    t.timer("cancel", conn, 2, 0)
    t.call(conn, 2)
    t.complete(conn, 1, "filled")
    t.complete(conn, 2, "psh")
    t.post(conn, 4, buf_len=1000, depth=2)
    t.at(start_ms + 3).fill(conn, 3, 1000)           # no-push req 3 fills
    t.fill(conn, 4, 50)
    t.timer("start", conn, 4, start_ms + 3 + 100)
    t.call(conn, 1)
    t.complete(conn, 3, "filled")
    t.at(start_ms + 103).timer("expire", conn, 4, start_ms + 103)   # at its deadline
    t.call(conn, 1)
    t.complete(conn, 4, "push_timer")
    t.at(start_ms + 110).indicate(conn, 7, 2)
    t.at(start_ms + 111).ret(conn, 7)
    t.ret(conn, 8)
    t.post(conn, 5, buf_len=1000, depth=1)
    t.state(conn, [(5, 1000, 0, False)], indicated_out=0)
    t.at(start_ms + 120).disconnect(conn)
    t.call(conn, 1)
    t.complete(conn, 5, "disconnect")
    if close:
        t.at(start_ms + 121).close(conn)


def s_good(t):
    good_conn(t, 1, 0)
    good_conn(t, 2, 200)


def s_open_at_end(t):
    """Requests still queued when the trace ends: outstanding, not violations."""
    good_conn(t, 1, 0)
    t.at(300).open(2)
    t.post(2, 1, depth=1)
    t.post(2, 2, depth=2)
    t.at(301).fill(2, 1, 10)
    t.timer("start", 2, 1, 401)
    t.indicate(2, 1, 3)


def s_attached_late(t):
    """A connection seen from its middle (no conn_open): what came before is unknown."""
    t.at(0).call(9, 1)
    t.complete(9, 41, "psh", placed=5, bytes=5)
    t.post(9, 43, depth=2)
    t.call(9, 1)
    t.complete(9, 42, "filled", bytes=4096, placed=4096)


def s_r17_never_completed(t):
    good_conn(t, 1, 0, close=False)
    t.post(1, 6, depth=1)                            # after the disconnect: never completed
    t.at(130).close(1)


def s_r17_twice(t):
    good_conn(t, 1, 0, close=False)
    t.at(125).call(1, 1)
    t.complete(1, 4, "push_timer")                   # req 4 completed again
    t.close(1)


def s_r17_never_posted(t):
    t.at(0).open(1)
    t.post(1, 1, depth=1)
    t.call(1, 2)
    t.complete(1, 1, "psh")
    t.complete(1, 2, "psh")                          # req 2 was never posted
    t.close(1)


def s_r14_fifo(t):
    t.at(0).open(1)
    t.post(1, 1, depth=1)
    t.post(1, 2, depth=2)
    t.at(1).fill(1, 2, 10, psh=True)                 # (also R03: req 1 is empty)
    t.call(1, 1)
    t.complete(1, 2, "psh")                          # before req 1
    t.call(1, 1)
    t.complete(1, 1, "abort", status="REQUEST_ABORTED")
    t.close(1)


def s_r15_bytes(t):
    t.at(0).open(1)
    t.post(1, 1, depth=1)
    t.at(1).fill(1, 1, 100, psh=True)
    t.call(1, 1)
    t.complete(1, 1, "psh", bytes=90, placed=90)     # 100 were placed
    t.close(1)


def s_r11_nopush_psh(t):
    t.at(0).open(1)
    t.post(1, 1, buf_len=1000, no_push=True, depth=1)
    t.at(1).fill(1, 1, 100, psh=True)
    t.call(1, 1)
    t.complete(1, 1, "psh")                          # no-push ignores PSH
    t.close(1)


def s_r11_nopush_partial(t):
    t.at(0).open(1)
    t.post(1, 1, buf_len=1000, no_push=True, depth=1)
    t.at(1).fill(1, 1, 999)
    t.call(1, 1)
    t.complete(1, 1, "filled")                       # 999 of 1000 is not full
    t.close(1)


def s_r10_early(t):
    t.at(0).open(1)
    t.post(1, 1, depth=1)
    t.at(1).fill(1, 1, 10)
    t.timer("start", 1, 1, 101)
    t.at(60).timer("expire", 1, 1, 101)             # 41 ms before its deadline
    t.call(1, 1)
    t.complete(1, 1, "push_timer")
    t.close(1)


def s_timer_late(t):
    """A push-timer expiry that ran 30 ms past its deadline (a busy machine): by the rules, and
    what-if's replay of the recorded timer completes it at the deadline the expiry names."""
    t.at(0).open(1)
    t.post(1, 1, buf_len=1000, depth=1)
    t.post(1, 2, buf_len=1000, depth=2)
    t.at(1).fill(1, 1, 10)
    t.timer("start", 1, 1, 101)
    t.at(131).timer("expire", 1, 1, 101)            # 30 ms late
    t.call(1, 1)
    t.complete(1, 1, "push_timer")
    t.at(140).fill(1, 2, 1000)
    t.call(1, 1)
    t.complete(1, 2, "filled")
    t.close(1)


def s_r10_no_expiry(t):
    t.at(0).open(1)
    t.post(1, 1, depth=1)
    t.at(1).fill(1, 1, 10)
    t.timer("start", 1, 1, 101)
    t.at(101).call(1, 1)
    t.complete(1, 1, "push_timer")                   # no push_timer_expire before it
    t.close(1)


def s_r19_nested(t):
    t.at(0).open(1)
    for r in (1, 2, 3):
        t.post(1, r, buf_len=10, depth=r)
    t.at(1).fill(1, 1, 10)
    t.fill(1, 2, 10)
    t.fill(1, 3, 10)
    t.call(1, 2)
    t.complete(1, 1, "filled")
    t.complete(1, 2, "filled")
    t.call(1, 1)                                     # a second call inside the first
    t.complete(1, 3, "filled")
    t.end(1, 1)
    t.end(1, 2)
    t.close(1)


def s_r19_count(t):
    t.at(0).open(1)
    t.post(1, 1, buf_len=10, depth=1)
    t.post(1, 2, buf_len=10, depth=2)
    t.at(1).fill(1, 1, 10)
    t.fill(1, 2, 10)
    t.call(1, 1)
    t.complete(1, 1, "filled")
    t.complete(1, 2, "filled")                       # the call announced one
    t.close(1)


def s_r22_return(t):
    t.at(0).open(1)
    t.icall(1, 1, 1)
    t.indicate(1, 1, 1)
    t.at(1).ret(1, 1)
    t.ret(1, 2)                                      # nothing indicated is out
    t.close(1)


def s_r23_state(t):
    t.at(0).open(1)
    t.indicate(1, 1, 2)
    t.at(1).state(1, [], indicated_out=0)            # the engine forgot two buffers
    t.ret(1, 1)
    t.ret(1, 2)
    t.close(1)


def s_loss(t):
    """A violation inside a loss window is not counted; after the connection's next snapshot
    the checks run again and one more violation is."""
    t.at(0).open(1)
    t.post(1, 1, depth=1)
    t.post(1, 2, depth=2)
    t.at(10).call(1, 1)
    t.complete(1, 2, "psh")                          # FIFO broken, but events were lost
    t.discarded(5, 20)
    t.at(30).call(1, 1)
    t.complete(1, 1, "psh")                          # before a snapshot: not judged
    t.at(40).state(1, [])
    t.post(1, 3, depth=1)
    t.at(50).fill(1, 3, 10, psh=True)
    t.call(1, 1)
    t.complete(1, 3, "psh", bytes=5, placed=5)       # after the snapshot: R15 counts
    t.close(1)


def s_good_orders(t):
    """Orders that are easy to misread, each as the engine makes them (with the events of an
    engine that brackets its upcalls): a push timer due when data arrives fires first, then
    the new bytes are placed; a timer started naming a no-push head while a prefilled push
    request waits behind it; a return made inside recv_indicate; a post inside a FIN's
    completion callback; held data handed back with the disconnect."""
    t.at(0).open(1)
    t.post(1, 1, buf_len=1000, depth=1)
    t.post(1, 2, buf_len=1000, depth=2)
    t.at(1).fill(1, 1, 10)
    t.timer("start", 1, 1, 101)
    t.at(150).timer("expire", 1, 1, 101)             # due when the next segment arrives
    t.fill(1, 2, 20)                                 # placed after req 1 was finished
    t.timer("start", 1, 2, 250)
    t.call(1, 1)
    t.complete(1, 1, "push_timer")
    t.end(1, 1)
    t.at(160).post(1, 3, buf_len=100, no_push=True, depth=2)
    t.post(1, 4, buf_len=100, prefill=10, depth=3)   # R07: the timer runs already
    t.at(170).fill(1, 2, 980)                        # req 2 full; the no-push head is next
    t.fill(1, 3, 5)
    t.timer("restart", 1, 3, 270)                    # names the no-push head: for req 4
    t.call(1, 1)
    t.complete(1, 2, "filled")
    t.end(1, 1)
    t.at(270).timer("expire", 1, 3, 270)             # the no-push head blocks: nothing
    t.at(280).fill(1, 3, 95)                         # req 3 full; req 4 has its prefill
    t.timer("start", 1, 4, 380)
    t.call(1, 1)
    t.complete(1, 3, "filled")
    t.end(1, 1)
    t.at(290).fill(1, 4, 90, psh=True)               # req 4 full
    t.timer("cancel", 1, 4, 380)
    t.call(1, 1)
    t.complete(1, 4, "filled")
    t.end(1, 1)
    t.at(300).icall(1, 5, 2, offered=300)
    t.ret(1, 5)                                      # returned inside the indication
    t.indicate(1, 5, 2, offered=300)
    t.ret(1, 6)
    t.at(310).post(1, 5, buf_len=100, depth=1)
    t.at(320).disconnect(1)
    t.call(1, 1)
    t.complete(1, 5, "disconnect")
    t.post(1, 6, buf_len=100, depth=1)               # inside the FIN's completion callback
    t.end(1, 1)
    t.call(1, 1)
    t.complete(1, 6, "invalid_state", status="INVALID_STATE")
    t.end(1, 1)
    t.handback(1, 0)
    t.at(330).ev("conn_close", conn=1, reason="fin", bytes=1500)


SCENARIOS = {name[2:]: fn for name, fn in globals().items() if name.startswith("s_")}


def main():
    if len(sys.argv) != 2 or (sys.argv[1] not in SCENARIOS and sys.argv[1] != "--list"):
        print(__doc__, file=sys.stderr)
        return 2
    if sys.argv[1] == "--list":
        print("\n".join(sorted(SCENARIOS)))
        return 0
    t = Trace()
    SCENARIOS[sys.argv[1]](t)
    t.dump(sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
