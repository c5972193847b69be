#!/usr/bin/env python3
"""Check offrx-trace-dump's decoding against babeltrace2's own text, event by event.

usage: compare_bt.py BT_TEXT DUMP_TEXT
BT_TEXT is `babeltrace2 --clock-seconds TRACE`, DUMP_TEXT is `offrx-trace-dump TRACE`. Both
come out of a filter.utils.muxer, so the events line up one to one; every field the tool prints
must equal babeltrace2's (enumerations by their label). Prints the first differences and a
summary; exits 1 on any difference."""
import re
import sys

# offrx-trace-dump's key -> the payload field babeltrace2 shows (when the names differ)
RENAME = {"return": {"req": "buf"}, "indicate": {"req": "ind"}, "indicate_call": {"req": "ind"}}
ENUM = re.compile(r'\( "([^"]*)" : container = -?\d+ \)')


def split_top(s):
    """Split 'a = 1, b = [ ... ], c = "x, y"' at the commas outside brackets and quotes."""
    out, depth, quote, cur = [], 0, False, ""
    for ch in s:
        if ch == '"':
            quote = not quote
        elif not quote and ch in "[(":
            depth += 1
        elif not quote and ch in "])":
            depth -= 1
        if ch == "," and not depth and not quote:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def bt_value(v):
    m = ENUM.fullmatch(v)
    if m:
        return m.group(1)
    if v.startswith('"'):
        return v[1:-1]
    if v.startswith("["):
        return [e.split(" = ", 1)[1] for e in split_top(v[1:-1].strip())]
    return v


def parse_bt(line):
    m = re.match(r"\[(\d+)\.(\d+)\] \([^)]*\) \S+ offrx:(\w+): (.*)$", line)
    if not m:
        return None
    scopes = re.findall(r"\{ (.*?) \}(?:, |$)", m.group(4))
    fields = {}
    for scope in scopes:
        for kv in split_top(scope):
            k, v = kv.split(" = ", 1)
            fields[k] = bt_value(v)
    return m.group(1) + m.group(2), m.group(3), fields


def parse_dump(line):
    parts = line.split()
    ts, kind, vpid, conn, req = parts[:5]
    kv = dict(p.split("=", 1) for p in parts[5:] if "=" in p)
    return ts, kind, vpid, conn, req, kv


def expected(kind, dkey, bt):
    """What babeltrace2 says for the tool's key dkey, as the tool prints it."""
    if kind == "conn_open" and dkey in ("local", "remote"):
        return "%s:%s" % (bt[dkey + "_addr"], bt[dkey + "_port"])
    if kind == "conn_state" and dkey == "reqs":
        ids, lens, fills, nps = (bt[k] for k in ("req_ids", "req_lens", "req_fills", "req_no_push"))
        return ",".join("%s:%s:%s%s" % (i, l, f, ":np" if n != "0" else "")
                        for i, l, f, n in zip(ids, lens, fills, nps)) if ids else ""
    if kind == "conn_state" and dkey == "listed":
        return str(len(bt["req_ids"]))
    return bt.get(RENAME.get(kind, {}).get(dkey, dkey))


def main():
    bt = [p for p in (parse_bt(l) for l in open(sys.argv[1])) if p]
    dump = [parse_dump(l) for l in open(sys.argv[2]) if l.split()[1] not in ("source", "discarded")]
    bad = 0
    if len(bt) != len(dump):
        print("babeltrace2 has %d offrx events, offrx-trace-dump %d" % (len(bt), len(dump)))
        bad += 1
    fields = 0
    for n, (b, d) in enumerate(zip(bt, dump)):
        bts, bkind, bf = b
        ts, kind, vpid, conn, req, kv = d
        diffs = []
        if (ts, kind, vpid) != (bts, bkind, bf.get("vpid", "0")):
            diffs.append("ts/kind/vpid %s %s %s" % (ts, kind, vpid))
        if conn != bf.get("conn", "0"):
            diffs.append("conn=%s" % conn)
        want_req = bf.get(RENAME.get(kind, {}).get("req", "req"), "0")
        if req != want_req:
            diffs.append("req=%s (babeltrace2: %s)" % (req, want_req))
        for k, v in kv.items():
            want = expected(kind, k, bf)
            fields += 1
            if want is None:
                diffs.append("%s=%s has no babeltrace2 field" % (k, v))
            elif str(want) != v:
                diffs.append("%s=%s (babeltrace2: %s)" % (k, v, want))
        if diffs:
            bad += 1
            if bad <= 5:
                print("event %d (%s): %s" % (n + 1, bkind, "; ".join(diffs)))
    print("%d events, %d fields compared, %d events differ" % (len(dump), fields, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
