#!/usr/bin/env python3
"""Check an offrx trace read back with babeltrace2 (its default text output on stdin or in a
file): every event kind appears, every post has exactly one complete in FIFO order per
connection, fill bytes add up to each completion's placed bytes, each push_timer_expire is
followed by that request's push_timer completion, and each conn_state snapshot agrees with the
queue rebuilt from the events before it.

usage: check_trace.py [--expect-kinds K,K,...] [TRACE_TEXT]
Prints one line per check and 'N passed, M failed'; exits 1 on any failure."""
import re
import sys

# [ts] (+delta) host offrx:event: { cpu_id = N }, { vpid = P, ... context ... }, { fields }
LINE = re.compile(r"^\[(\d+):(\d+):([\d.]+)\] \(\+[^)]*\) \S+ offrx:(\w+): "
                  r"\{ cpu_id = \d+ \}, (?:\{ ([^{}]*) \}, )?\{ (.*) \}$")
ENUM = re.compile(r'\( "([^"]*)" : container = -?\d+ \)')
ARRAY = re.compile(r"\[ ?((?:\[\d+\] = -?\d+(?:, )?)*) ?\]")  # "[ ]" when empty


def parse_fields(body):
    """'a = 1, b = ( "X" : container = 3 ), c = [ [0] = 1, [1] = 2 ]' -> dict"""
    body = ENUM.sub(lambda m: '"' + m.group(1) + '"', body)
    body = ARRAY.sub(lambda m: "<" + " ".join(v.split(" = ")[1] for v in m.group(1).split(", ") if v) + ">", body)
    out = {}
    for part in re.finditer(r'(\w+) = ("[^"]*"|<[^>]*>|-?\d+)', body):
        k, v = part.group(1), part.group(2)
        if v.startswith('"'):
            out[k] = v[1:-1]
        elif v.startswith("<"):
            out[k] = [int(x) for x in v[1:-1].split()]
        else:
            out[k] = int(v)
    return out


def read_events(f):
    events = []
    for raw in f:
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        ts = (int(m.group(1)) * 3600 + int(m.group(2)) * 60) * 1e9 + float(m.group(3)) * 1e9
        fields = parse_fields(m.group(6))
        ctx = parse_fields(m.group(5) or "")
        # Connection ids are per engine: with several engines in one trace, the process
        # (vpid context) tells them apart.
        if "conn" in fields:
            fields["conn"] = (ctx.get("vpid", 0), fields["conn"])
        events.append((ts, m.group(4), fields))
    return events


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok   " + name)
        else:
            self.failed += 1
            print("FAIL " + name + (": " + detail if detail else ""))


def main():
    args = sys.argv[1:]
    kinds = ("conn_open,conn_close,post,fill,push_timer_start,push_timer_restart,push_timer_cancel,"
             "push_timer_expire,complete,complete_call,indicate,return,conn_state,drop,xsk_stats,disconnect,"
             "complete_end,indicate_call,handback")
    if args and args[0] == "--expect-kinds":
        kinds = args[1]
        args = args[2:]
    f = open(args[0]) if args else sys.stdin
    events = read_events(f)
    c = Checks()
    c.check("the trace has events (%d)" % len(events), len(events) > 0)
    seen = {e[1] for e in events}
    # Event set 2: a restart (R12) rides on the fill it followed (deadline_ns), and is an event
    # of its own only when no fill carries it.
    if any(k == "fill" and fl.get("deadline_ns") for _, k, fl in events):
        seen.add("push_timer_restart")
    # Event set 3: the R08 start rides on the fill (start), a completion call's first complete
    # opens it (call), and the stops readers derive are not traced (docs/TRACEPOINTS.md).
    if any(k == "fill" and fl.get("start") for _, k, fl in events):
        seen.add("push_timer_start")
    if any(k == "complete" and fl.get("call") for _, k, fl in events):
        seen.add("complete_call")
    if any(k == "post" and fl.get("in_call") == 2 for _, k, fl in events):
        seen.add("complete_end")
    if any(fl.get("event_set", 0) >= 3 for _, k, fl in events if k in ("conn_open", "conn_state")):
        seen.add("push_timer_cancel")
    for k in kinds.split(","):
        c.check("event kind offrx:%s appears" % k, k in seen)

    # R18, R19: per connection, complete_call/complete_end and indicate_call/indicate pair up
    # and never nest (a second call before the end of the first would be a nested upcall).
    # Set 3: a complete with call opens the call; it ends at its complete_end when a post with
    # in_call 1 came inside it, right after a post with in_call 2, else before the connection's
    # next event.
    open_call = {}
    implied = {}  # conn -> completes still to come; 0: the call may end implicitly
    pairs = unpaired = 0
    for ts, kind, fl in events:
        conn = fl.get("conn")
        if conn in implied and implied[conn] == 0 and kind != "complete_end":
            if kind == "post" and fl.get("in_call") == 1:
                implied.pop(conn)  # bracketed: its complete_end follows
            elif kind == "post" and fl.get("in_call") == 2:
                implied.pop(conn)  # the call's last event: it ended right after it
                if open_call.pop(conn, None) is not None:
                    pairs += 1
            else:
                implied.pop(conn)
                if open_call.pop(conn, None) is not None:
                    pairs += 1
        if kind == "complete" and fl.get("call"):
            if conn in open_call:
                unpaired += 1
            open_call[conn] = ("complete_call", fl["call"])
            implied[conn] = fl["call"]
        if kind == "complete" and conn in implied and implied[conn] > 0:
            implied[conn] -= 1
        if kind == "complete_end":
            implied.pop(conn, None)
        if kind in ("complete_call", "indicate_call"):
            if conn in open_call:
                unpaired += 1
            open_call[conn] = (kind, fl.get("count", fl.get("ind")))
        elif kind in ("complete_end", "indicate"):
            want = "complete_call" if kind == "complete_end" else "indicate_call"
            got = open_call.pop(conn, None)
            key = fl.get("count") if kind == "complete_end" else fl.get("ind")
            if got == (want, key):
                pairs += 1
            else:
                unpaired += 1
    c.check("upcalls bracketed, never nested: %d pairs, %d unpaired" % (pairs, unpaired),
            pairs > 0 and unpaired == 0)  # a call still open at the end: the trace was cut

    # Rebuild each connection's queue from the events, in trace order.
    posted = {}      # conn -> [req ids in posting order]
    completed = {}   # conn -> [req ids in completion order]
    queue = {}       # conn -> {req: [buf_len, fill, no_push]} for requests not yet completed
    order = {}       # conn -> [req] queued, in posting order
    fills = {}       # (conn, req) -> bytes placed according to fill events
    placed = {}      # (conn, req) -> placed according to complete
    pending_expire = {}  # conn -> req whose timer expired, awaiting its completion
    expire_ok = expire_bad = 0
    state_ok = state_bad = 0
    first_bad_state = ""
    multi = []
    closed = set()
    for ts, kind, fl in events:
        conn = fl.get("conn")
        if kind == "complete" and fl.get("fill_segs"):
            # Event set 4: the fill that completed the request rides on its complete
            key = (conn, fl["req"])
            fills[key] = fills.get(key, 0) + fl["fill_bytes"]
            if fl["req"] in queue.get(conn, {}):
                queue[conn][fl["req"]][1] = fl["fill_total"]
        if kind == "conn_close":
            closed.add(conn)
        elif kind == "post":
            posted.setdefault(conn, []).append(fl["req"])
            queue.setdefault(conn, {})[fl["req"]] = [fl["buf_len"], fl["prefill"], fl["no_push"]]
            order.setdefault(conn, []).append(fl["req"])
        elif kind == "fill":
            key = (conn, fl["req"])
            fills[key] = fills.get(key, 0) + fl["bytes"]
            if fl["req"] in queue.get(conn, {}):
                queue[conn][fl["req"]][1] = fl["total"]
        elif kind == "push_timer_expire":
            pending_expire[conn] = fl["req"]
        elif kind == "complete":
            req = fl["req"]
            completed.setdefault(conn, []).append(req)
            placed[(conn, req)] = fl["placed"]
            queue.get(conn, {}).pop(req, None)
            if req in order.get(conn, []):
                order[conn].remove(req)
            if conn in pending_expire:
                want = pending_expire.pop(conn)
                if req == want and fl["reason"] == "push_timer":
                    expire_ok += 1
                else:
                    expire_bad += 1
                    multi.append("expire of req %d on conn %s followed by complete of req %d (%s)"
                                 % (want, conn, req, fl["reason"]))
        elif kind == "conn_state":
            q = order.get(conn, [])
            want_ids = q[: len(fl["req_ids"])]
            want_fills = [queue[conn][r][1] for r in want_ids]
            want_lens = [queue[conn][r][0] for r in want_ids]
            good = (fl["depth"] == len(q) and fl["req_ids"] == want_ids
                    and fl["req_fills"] == want_fills and fl["req_lens"] == want_lens)
            if good:
                state_ok += 1
            else:
                state_bad += 1
                if not first_bad_state:
                    first_bad_state = ("conn %s: snapshot ids %s fills %s, rebuilt %s fills %s"
                                       % (conn, fl["req_ids"], fl["req_fills"], want_ids, want_fills))

    conns = sorted(posted)
    c.check("posts seen on %d connection(s)" % len(conns), len(conns) > 0)
    for conn in conns:
        p, d = posted[conn], completed.get(conn, [])
        if conn in closed:
            c.check("conn %s: each of %d posts has exactly one complete" % (conn, len(p)),
                    sorted(p) == sorted(d) and len(d) == len(set(d)),
                    "posted %d, completed %d, unique %d" % (len(p), len(d), len(set(d))))
        else:  # still open when the trace ends: its last requests may be pending
            c.check("conn %s (open at the end): %d of %d posts completed once each"
                    % (conn, len(d), len(p)), len(d) == len(set(d)) and len(d) <= len(p))
        c.check("conn %s: completions in posting order (FIFO)" % (conn,), d == p[: len(d)])
    c.check("connections that closed: %d" % len(closed), len(closed) > 0)
    mism = [(k, fills.get(k, 0), v) for k, v in placed.items() if fills.get(k, 0) != v]
    c.check("fill bytes add up to every completion's placed bytes (%d requests)" % len(placed),
            not mism, "first mismatch %s" % (mism[:1],))
    c.check("every push_timer_expire is followed by that request's push_timer completion (%d)"
            % expire_ok, expire_ok > 0 and expire_bad == 0, "; ".join(multi[:2]))
    c.check("every conn_state snapshot agrees with the rebuilt queue (%d)" % state_ok,
            state_ok > 0 and state_bad == 0, first_bad_state)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
