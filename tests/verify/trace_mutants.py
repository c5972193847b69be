#!/usr/bin/env python3
"""Faults planted in a clean engine trace (offrx-export's jsonl of a gen_scenarios recording):
each mutant drops, duplicates, reorders or alters events at the first place where its fault
makes sense, writes the edited trace, and asks `offrx-export --verify --input-jsonl` for the
rule the fault breaks. A mutant is killed when the report lists a violation with that rule.

  trace_mutants.py EXPORT CLEAN.jsonl WORKDIR   prints "trace NAME RULE killed|SURVIVED|nosite"
                                                 one line per mutant; exit 0"""
import json
import os
import subprocess
import sys

ST = {"ok": "SUCCESS"}


def key(e):
    return (e.get("vpid"), e.get("conn"))


def find(ev, pred, start=0):
    for i in range(start, len(ev)):
        if "ts_ns" in ev[i] and pred(i, ev[i]):
            return i
    return None


def prev_of(ev, i, pred):
    """The nearest event before i of the same connection matching pred."""
    for j in range(i - 1, -1, -1):
        if key(ev[j]) == key(ev[i]) and pred(ev[j]):
            return j
    return None


def next_of(ev, i, pred):
    for j in range(i + 1, len(ev)):
        if key(ev[j]) == key(ev[i]) and pred(ev[j]):
            return j
    return None


def is_(name):
    return lambda e: e.get("event") == name


def req_of(ev, e):
    """The post event of a completion's or fill's request."""
    for x in ev:
        if x.get("event") == "post" and key(x) == key(e) and x.get("req") == e.get("req"):
            return x
    return None


# --- the mutants: name -> (rule, edit). An edit returns the new list, or None (no site). ----

def m_r01_drop_call(ev):
    i = find(ev, lambda i, e: e["event"] == "complete_call" and e["count"] == 1)
    if i is None:
        return None
    return ev[:i] + ev[i + 1:]


def m_r01_count_short(ev):
    i = find(ev, lambda i, e: e["event"] == "complete_call" and e["count"] >= 2)
    if i is None:
        return None
    ev[i]["count"] -= 1
    return ev


def m_r03_swap_fills(ev):
    i = find(ev, lambda i, e: e["event"] == "fill" and i + 1 < len(ev) and
             ev[i + 1].get("event") == "fill" and key(ev[i + 1]) == key(e) and
             ev[i + 1]["req"] != e["req"])
    if i is None:
        return None
    ev[i], ev[i + 1] = ev[i + 1], ev[i]
    return ev


def m_r03_seq(ev):
    i = find(ev, lambda i, e: e["event"] == "fill" and i > 200 and
             ev[i - 1].get("event") == "fill" and key(ev[i - 1]) == key(e) and
             prev_of(ev, i, is_("indicate")) is None)
    if i is None:
        return None
    ev[i]["seq"] = (ev[i]["seq"] + 7) % (1 << 32)
    return ev


def m_r05_post_before_indicate(ev):
    i = find(ev, lambda i, e: e["event"] == "indicate_call")
    if i is None:
        return None
    p = dict(ev[i])
    ids = [x["req"] for x in ev if x.get("event") == "post" and key(x) == key(p)]
    p.update(event="post", req=max(ids, default=0) + 1000, buf_len=100, prefill=0,
             no_push=False, depth=1)
    for f in ("ind", "offered", "nbufs"):
        p.pop(f, None)
    return ev[:i] + [p] + ev[i:]


def m_r05_state_held(ev):
    i = find(ev, lambda i, e: e["event"] == "conn_state" and e["depth"] > 0 and
             e["held_bytes"] == 0 and i > 100)
    if i is None:
        return None
    ev[i]["held_bytes"] = 10
    ev[i]["rcv_nxt"] = (ev[i]["rcv_nxt"] + 10) % (1 << 32)
    return ev


def drop_start_after(pred_before):
    def edit(ev):
        i = find(ev, lambda i, e: e["event"] == "push_timer_start" and i > 0 and
                 pred_before(ev[i - 1]) and key(ev[i - 1]) == key(e))
        if i is None:
            return None
        return ev[:i] + ev[i + 1:]
    return edit


m_r07_drop_start = drop_start_after(lambda p: p.get("event") == "post" and p["prefill"] > 0)


def m_r08_drop_start(ev):
    """The R08 start missing. Sets 1 and 2: the push_timer_start after a fill. Set 3: the fill
    carries it (start, deadline_ns) and the reader derived the push_timer_start after it: all
    three go, at a fill whose request still holds bytes when the arrival ends."""
    def site(i, e):
        if e["event"] != "push_timer_start" or i == 0 or ev[i - 1].get("event") != "fill" or \
                key(ev[i - 1]) != key(e):
            return False
        if not e.get("derived"):
            return True
        n = next_of(ev, i, lambda x: True)
        return ev[i - 1]["total"] < ev[i - 1]["buf_len"] and n is not None and \
            ev[n]["event"] != "fill"
    i = find(ev, site)
    if i is None:
        return None
    if ev[i].get("derived"):
        ev[i - 1].pop("start", None)
        ev[i - 1].pop("deadline_ns", None)
    return ev[:i] + ev[i + 1:]


def m_r08_start_empty(ev):
    """The timer started at the post of an empty push request, before any byte."""
    i = find(ev, lambda i, e: e["event"] == "post" and not e["no_push"] and
             e["prefill"] == 0 and e["depth"] == 1 and e["buf_len"] > 0 and
             i + 1 < len(ev) and ev[i + 1].get("event") == "post")
    if i is None:
        return None
    t = {k: ev[i][k] for k in ("ts_ns", "ts_raw", "vpid", "conn", "req")}
    t.update(event="push_timer_start", deadline_ns=ev[i]["ts_raw"] + 10**9, bytes=0)
    return ev[:i + 1] + [t] + ev[i + 1:]


def m_r09_filled_reason(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and e["reason"] == "filled" and
             e["bytes"] > 0)
    if i is None:
        return None
    ev[i]["reason"] = "push_timer"
    return ev


def m_r09_full_not_completed(ev):
    """A filled request stays queued: its completion is dropped, and the snapshot lists it."""
    i = find(ev, lambda i, e: e["event"] == "complete" and e["reason"] == "filled" and
             e["bytes"] > 0 and next_of(ev, i, is_("conn_state")) is not None)
    if i is None:
        return None
    e = ev[i]
    c = prev_of(ev, i, is_("complete_call"))
    ev[c]["count"] -= 1
    end = next_of(ev, i, is_("complete_end"))
    if end is not None:
        ev[end]["count"] -= 1
    s = next_of(ev, i, is_("conn_state"))
    st = ev[s]
    post = req_of(ev, e)
    st["depth"] += 1
    for f, v in (("req_ids", e["req"]), ("req_lens", post["buf_len"] if post else e["bytes"]),
                 ("req_fills", e["bytes"]), ("req_no_push", 0)):
        st[f] = [v] + st[f]
    return ev[:i] + ev[i + 1:]


def m_r10_drop_expire(ev):
    def site(i, e):
        if e["event"] != "push_timer_expire":
            return False
        c = next_of(ev, i, lambda x: True)
        return c is not None and ev[c]["event"] == "complete_call" and \
            ev[c + 1].get("event") == "complete" and ev[c + 1]["reason"] == "push_timer"
    i = find(ev, site)
    if i is None:
        return None
    return ev[:i] + ev[i + 1:]


def m_r10_early_expire(ev):
    i = find(ev, lambda i, e: e["event"] == "push_timer_expire")
    if i is None:
        return None
    ev[i]["ts_raw"] = ev[i]["deadline_ns"] - 1000
    return ev


def m_r10_psh_ignored(ev):
    """The segment's PSH is set but the request is not completed then: the psh completion
    becomes a later push_timer one."""
    i = find(ev, lambda i, e: e["event"] == "complete" and e["reason"] == "psh")
    if i is None:
        return None
    ev[i]["reason"] = "push_timer"
    return ev


def m_r11_nopush(ev):
    def site(i, e):
        if e["event"] != "complete" or e["reason"] not in ("psh", "push_timer"):
            return False
        p = prev_of(ev, i, lambda x: x.get("event") == "post" and x["req"] == e["req"])
        return p is not None and prev_of(ev, i, is_("conn_state")) is not None and \
            prev_of(ev, i, is_("conn_state")) < p
    i = find(ev, site)
    if i is None:
        return None
    p = prev_of(ev, i, lambda x: x.get("event") == "post" and x["req"] == ev[i]["req"])
    ev[p]["no_push"] = True
    return ev


def m_r11_nopush_timer(ev):
    def first_fill(i):
        return next_of(ev, i, lambda x: x.get("event") == "fill" and x["req"] == ev[i]["req"])

    def last_fill(i):
        """The last fill of the arrival that first fills post i's request."""
        f = first_fill(i)
        while True:
            g = next_of(ev, f, lambda x: True)
            if g is None or ev[g]["event"] != "fill" or ev[g]["req"] != ev[f]["req"]:
                return f
            f = g

    # The request must still be partial after the whole arrival: a timer for a no-push request
    # that an arrival filled is not an R11 fault (it is finished at once, R09).
    i = find(ev, lambda i, e: e["event"] == "post" and e["no_push"] and e["prefill"] == 0 and
             first_fill(i) is not None and
             ev[last_fill(i)]["total"] < ev[last_fill(i)]["buf_len"] and
             not ev[last_fill(i)].get("deadline_ns") and  # (set 2) no timer runs for another
             next_of(ev, last_fill(i), lambda x: x.get("event") != "fill") is not None and
             ev[next_of(ev, last_fill(i), lambda x: x.get("event") != "fill")]["event"]
             in ("complete_call", "conn_state"))
    if i is None:
        return None
    f = last_fill(i)
    t = dict(ev[f])
    total = t["total"]
    for k in ("total", "buf_len", "seq", "psh", "segs", "deadline_ns"):
        t.pop(k, None)
    t.update(event="push_timer_start", deadline_ns=t["ts_raw"] + 10**9, bytes=total)
    nxt = next_of(ev, f, lambda x: x.get("event") not in ("fill",))
    return ev[:nxt] + [t] + ev[nxt:]


def m_r12_drop_restart(ev):
    """A restart dropped: in event set 2 it rides on the fill (deadline_ns), in set 1 it is the
    push_timer_restart event after the fill."""
    def after_arrival(i):
        """not what may be a drain of held data into new requests (--verify lets those
        settle the timer without a restart)"""
        p = prev_of(ev, i, lambda x: x.get("event") != "fill" and
                    not x.get("event", "").startswith("push_timer"))
        return p is not None and ev[p]["event"] not in ("post", "indicate")
    def set2_site(i, e):
        """a fill carrying a restart that is a whole arrival (no fill of the connection just
        before or after it), its request still partial and the timer still running at the
        connection's next step"""
        if e["event"] != "fill" or not e.get("deadline_ns") or e["total"] >= e["buf_len"]:
            return False
        p, n = prev_of(ev, i, lambda x: True), next_of(ev, i, lambda x: True)
        return after_arrival(i) and p is not None and ev[p]["event"] != "fill" and \
            n is not None and \
            ev[n]["event"] not in ("fill", "disconnect") and \
            not ev[n]["event"].startswith("push_timer")
    i = find(ev, set2_site)
    if i is not None:
        del ev[i]["deadline_ns"]
        return ev
    i = find(ev, lambda i, e: e["event"] == "push_timer_restart" and i > 0 and
             ev[i - 1].get("event") == "fill" and after_arrival(i))
    if i is None:
        return None
    return ev[:i] + ev[i + 1:]


def m_r14_swap_completes(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and i + 1 < len(ev) and
             ev[i + 1].get("event") == "complete" and key(ev[i + 1]) == key(e))
    if i is None:
        return None
    ev[i], ev[i + 1] = ev[i + 1], ev[i]
    return ev


def m_r14_partial_not_last(ev):
    """Two calls merged: a partial completion followed by another request in one call."""
    i = find(ev, lambda i, e: e["event"] == "complete" and e["status"] == "SUCCESS" and
             e["reason"] in ("psh", "push_timer") and i + 2 < len(ev) and
             ev[i + 1].get("event") == "complete_end" and
             ev[i + 2].get("event") == "complete_call" and key(ev[i + 2]) == key(e))
    if i is None:
        return None
    n = ev[i + 2]["count"]
    c = prev_of(ev, i, is_("complete_call"))
    ev[c]["count"] += n
    e2 = next_of(ev, i + 2, is_("complete_end"))
    ev[e2]["count"] = ev[c]["count"]
    return ev[:i + 1] + ev[i + 3:]


def m_r15_bytes(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and e["placed"] > 0)
    if i is None:
        return None
    ev[i]["bytes"] += 1
    ev[i]["placed"] += 1
    return ev


def m_r15_fill_total(ev):
    i = find(ev, lambda i, e: e["event"] == "fill" and e["bytes"] > 1)
    if i is None:
        return None
    ev[i]["total"] -= 1
    return ev


def m_r16_status(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and e["reason"] == "filled")
    if i is None:
        return None
    ev[i]["status"] = "REQUEST_ABORTED"
    return ev


def m_r16_invalid(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and e["reason"] == "invalid_state")
    if i is None:
        return None
    ev[i]["status"] = "SUCCESS"
    return ev


def m_r17_dup_complete(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and i > 50)
    if i is None:
        return None
    c = prev_of(ev, i, is_("complete_call"))
    ev[c]["count"] += 1
    end = next_of(ev, i, is_("complete_end"))
    if end is not None:
        ev[end]["count"] += 1
    return ev[:i + 1] + [dict(ev[i])] + ev[i + 1:]


def m_r17_drop_complete(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and i > 50 and
             next_of(ev, i, is_("conn_close")) is not None)
    if i is None:
        return None
    c = prev_of(ev, i, is_("complete_call"))
    ev[c]["count"] -= 1
    end = next_of(ev, i, is_("complete_end"))
    if end is not None:
        ev[end]["count"] -= 1
    return ev[:i] + ev[i + 1:]


def m_r18_indicate_in_call(ev):
    # after a complete_end of the same process: it shows it brackets its calls
    i = find(ev, lambda i, e: e["event"] == "indicate_call" and
             prev_of(ev, i, is_("complete_call")) is not None and
             any(x.get("event") == "complete_end" and x["vpid"] == e["vpid"]
                 for x in ev[:prev_of(ev, i, is_("complete_call"))]))
    if i is None:
        return None
    c = prev_of(ev, i, is_("complete_call"))
    j = next_of(ev, i, is_("indicate"))
    pair = ev[i:j + 1]
    rest = ev[:i] + ev[j + 1:]
    return rest[:c + 1] + pair + rest[c + 1:]


def m_r18_nested_indication(ev):
    i = find(ev, lambda i, e: e["event"] == "indicate_call")
    if i is None:
        return None
    return ev[:i + 1] + [dict(ev[i])] + ev[i + 1:]


def m_r19_end_late(ev):
    i = find(ev, lambda i, e: e["event"] == "complete_end" and
             next_of(ev, i, is_("complete_call")) is not None)
    if i is None:
        return None
    j = next_of(ev, i, is_("complete_call"))
    e = ev[i]
    rest = ev[:i] + ev[i + 1:]
    j -= 1
    return rest[:j + 1] + [e] + rest[j + 1:]


def m_r20_consumed(ev):
    i = find(ev, lambda i, e: e["event"] == "indicate" and e["result"] == "NOT_ACCEPTED")
    if i is None:
        return None
    ev[i]["consumed"] = 1
    return ev


def m_r20_success_partial(ev):
    i = find(ev, lambda i, e: e["event"] == "indicate" and e["result"] == "SUCCESS" and
             e["offered"] > 1)
    if i is None:
        return None
    ev[i]["consumed"] -= 1
    return ev


def m_r21_again(ev):
    """Refused data indicated again with no post between."""
    i = find(ev, lambda i, e: e["event"] == "indicate" and e["result"] == "NOT_ACCEPTED")
    if i is None:
        return None
    ic = prev_of(ev, i, is_("indicate_call"))
    again = [dict(ev[ic]), dict(ev[i])]
    for x in again:
        x["ts_ns"] += 1
    return ev[:i + 1] + again + ev[i + 1:]


def m_r21_partial_again(ev):
    i = find(ev, lambda i, e: e["event"] == "indicate" and
             e["result"] == "PARTIALLY_ACCEPTED" and
             not any(x.get("event") == "post" and key(x) == key(e)
                     for x in ev[prev_of(ev, i, is_("indicate_call")):i]))
    if i is None:
        return None
    ic = prev_of(ev, i, is_("indicate_call"))
    again = [dict(ev[ic]), dict(ev[i])]
    again[0]["offered"] = again[1]["offered"] = ev[i]["offered"] - ev[i]["consumed"]
    again[1]["result"] = "NOT_ACCEPTED"
    again[1]["consumed"] = 0
    return ev[:i + 1] + again + ev[i + 1:]


def indicated(ev, i):
    """A return of a buffer an indication of its connection lent (not a hand-back's)."""
    e = ev[i]
    if e["event"] != "return":
        return False
    return prev_of(ev, i, lambda x: x.get("event") == "indicate_call" and
                   x["ind"] <= e["buf"] < x["ind"] + x["nbufs"]) is not None


def m_r22_dup_return(ev):
    i = find(ev, lambda i, e: indicated(ev, i))
    if i is None:
        return None
    return ev[:i + 1] + [dict(ev[i])] + ev[i + 1:]


def m_r22_unknown_buf(ev):
    i = find(ev, lambda i, e: indicated(ev, i) and i > 100)
    if i is None:
        return None
    ev[i]["buf"] = 0  # buffer ids start at 1: this one was never lent
    return ev


def m_r23_state_out(ev):
    i = find(ev, lambda i, e: e["event"] == "conn_state" and i > 100 and
             prev_of(ev, i, is_("disconnect")) is None)
    if i is None:
        return None
    ev[i]["indicated_out"] += 1
    return ev


def m_r23_drop_return_state(ev):
    """A return the engine made but did not trace: the next snapshot disagrees."""
    i = find(ev, lambda i, e: e["event"] == "return" and
             next_of(ev, i, is_("conn_state")) is not None and
             prev_of(ev, next_of(ev, i, is_("conn_state")), is_("disconnect")) is None)
    if i is None:
        return None
    e = ev[i]
    ev = ev[:i] + ev[i + 1:]
    # the buffer stays out in the events; the engine's snapshot says it came back
    return ev


def m_r25_reason(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and e["reason"] == "disconnect")
    if i is None:
        return None
    ev[i]["reason"] = "filled"
    return ev


def m_r25_twice(ev):
    i = find(ev, lambda i, e: e["event"] == "disconnect")
    if i is None:
        return None
    return ev[:i + 1] + [dict(ev[i])] + ev[i + 1:]


def m_r25_fill_after(ev):
    i = find(ev, lambda i, e: e["event"] == "disconnect" and e["reason"] == "fin")
    if i is None:
        return None
    f = prev_of(ev, i, is_("fill"))
    if f is None:
        return None
    x = dict(ev[f])
    x["ts_ns"] = ev[i]["ts_ns"]
    return ev[:i + 1] + [x] + ev[i + 1:]


def m_r26_reason(ev):
    i = find(ev, lambda i, e: e["event"] == "complete" and e["reason"] == "upload")
    if i is None:
        return None
    ev[i]["reason"] = "disconnect"
    ev[i]["status"] = "SUCCESS"
    return ev


def m_r26_timer(ev):
    i = find(ev, lambda i, e: e["event"] == "disconnect" and e["reason"] == "upload" and
             i > 0 and ev[i - 1].get("event") == "push_timer_cancel")
    if i is None:
        return None
    return ev[:i - 1] + ev[i:]


def m_r25_handback(ev):
    i = find(ev, lambda i, e: e["event"] == "handback" and e["reason"] != "upload" and
             e["bytes"] > 0)
    if i is None:
        return None
    ev[i]["bytes"] -= 1
    return ev


def m_r26_fill_after(ev):
    i = find(ev, lambda i, e: e["event"] == "disconnect" and e["reason"] == "upload")
    if i is None:
        return None
    f = prev_of(ev, i, is_("fill"))
    if f is None:
        return None
    x = dict(ev[f])
    x["ts_ns"] = ev[i]["ts_ns"]
    x["seq"] = (x["seq"] + x["bytes"]) % (1 << 32)
    return ev[:i + 1] + [x] + ev[i + 1:]


def m_r26_handback(ev):
    i = find(ev, lambda i, e: e["event"] == "handback" and e["reason"] == "upload" and
             e["bytes"] > 0)
    if i is None:
        return None
    ev[i]["bytes"] -= 1
    return ev


MUTANTS = [(n[2:], f) for n, f in globals().items() if n.startswith("m_")]


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    export, clean, work = sys.argv[1:]
    with open(clean) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    for name, fn in MUTANTS:
        rule = name.split("_")[0].upper()
        ev = fn([dict(e) for e in lines])
        if ev is None:
            print(f"trace {name} {rule} nosite")
            continue
        path = os.path.join(work, name + ".jsonl")
        with open(path, "w") as f:
            for e in ev:
                f.write(json.dumps(e) + "\n")
        r = subprocess.run([export, "--verify", "--input-jsonl", path], capture_output=True,
                           text=True)
        killed = any(l.startswith(f"violation {rule} ") for l in r.stdout.splitlines())
        print(f"trace {name} {rule} {'killed' if killed else 'SURVIVED'}")
        if not killed:
            for l in [l for l in r.stdout.splitlines() if l.startswith("violation")][:3]:
                print("    " + l[:200])
        else:
            os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
