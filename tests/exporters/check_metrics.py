#!/usr/bin/env python3
"""Checks over offrx-export --listen's exposition (tests/exporters/test_export_metrics*.sh).

  check_metrics.py fetch URL [ACCEPT]      GET URL: prints "STATUS CONTENT-TYPE", then the body
  check_metrics.py format FILE [--om]      the text is well formed: HELP and TYPE before each
                                           family's samples, families contiguous, counters end
                                           in _total, no series twice, label values escaped,
                                           histogram buckets ascending and cumulative with
                                           +Inf = _count; --om: OpenMetrics (family names, # EOF)
  check_metrics.py values FILE EVENTS      the values equal what the jsonl EVENTS (the input)
                                           say, counted here independently, per (vpid, port)
  check_metrics.py total FILE NAME [L=V..] the sum of NAME's samples with those labels
Exit status 0 when the check holds; the failures are printed."""
import collections
import json
import math
import re
import sys
import urllib.error
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
BUCKETS = ["0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
           "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
           "+Inf"]


def fetch(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        r = urllib.request.urlopen(req, timeout=10)
        code, ctype, body = r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        code, ctype, body = e.code, e.headers.get("Content-Type"), e.read()
    print(code, ctype)
    sys.stdout.write(body.decode())


def labels_of(s):
    if not s:
        return ()
    inner, out, pos = s[1:-1], [], 0
    while pos < len(inner):
        m = LABEL.match(inner, pos)
        if not m:
            raise ValueError("bad labels %r" % s)
        out.append((m.group(1), m.group(2).replace('\\"', '"').replace("\\n", "\n")
                    .replace("\\\\", "\\")))
        pos = m.end()
    return tuple(out)


def parse(path):
    """[(name, labels dict-tuple, value)], {family: type}, {family: help}, problems"""
    samples, types, helps, problems = [], {}, {}, []
    for n, line in enumerate(open(path).read().split("\n"), 1):
        if not line or line == "# EOF":
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, fam, rest = line[2:6], *line[7:].split(" ", 1)
            (helps if kind == "HELP" else types)[fam] = rest
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("line %d does not parse: %r" % (n, line))
            continue
        try:
            samples.append((m.group(1), labels_of(m.group(2)), float(m.group(3))))
        except ValueError as e:
            problems.append("line %d: %s" % (n, e))
    return samples, types, helps, problems


def family_of(name, types, om):
    for suffix in ("_bucket", "_count", "_sum", "_total", ""):
        if suffix and not name.endswith(suffix):
            continue
        base = name[:len(name) - len(suffix)] if suffix else name
        fam = base if (om or suffix != "_total") else name
        if fam in types:
            t = types[fam]
            if suffix in ("_bucket", "_count", "_sum") and t != "histogram":
                continue
            if suffix == "_total" and t != "counter":
                continue
            return fam
    return None


def check_format(path, om):
    text = open(path).read()
    samples, types, helps, problems = parse(path)
    if om and not text.endswith("# EOF\n"):
        problems.append("OpenMetrics text does not end with # EOF")
    if not om and "# EOF" in text:
        problems.append("# EOF in the Prometheus text format")
    order, seen_fam, seen = [], set(), set()
    for name, labels, value in samples:
        fam = family_of(name, types, om)
        if fam is None:
            problems.append("%s has no TYPE line" % name)
            continue
        if fam not in helps:
            problems.append("%s has no HELP line" % fam)
        if types[fam] == "counter" and not name.endswith("_total"):
            problems.append("counter sample %s does not end in _total" % name)
        if om and types[fam] == "counter" and fam.endswith("_total"):
            problems.append("OpenMetrics counter family %s is named with _total" % fam)
        if not order or order[-1] != fam:
            if fam in seen_fam:
                problems.append("family %s's samples are not together" % fam)
            order.append(fam)
            seen_fam.add(fam)
        key = (name, labels)
        if key in seen:
            problems.append("series twice: %s%s" % key)
        seen.add(key)
        if value < 0 or math.isnan(value):
            problems.append("%s%s = %s" % (name, labels, value))
    # Histograms: buckets in order, cumulative, +Inf equal to _count.
    hist = collections.defaultdict(list)
    counts = {}
    for name, labels, value in samples:
        fam = family_of(name, types, om)
        if fam and types[fam] == "histogram":
            rest = tuple(l for l in labels if l[0] != "le")
            if name.endswith("_bucket"):
                hist[(fam, rest)].append((dict(labels)["le"], value))
            elif name.endswith("_count"):
                counts[(fam, rest)] = value
    for key, bs in hist.items():
        les = [b[0] for b in bs]
        if les != BUCKETS:
            problems.append("%s: buckets %s" % (key, les))
        vals = [b[1] for b in bs]
        if any(b > a for b, a in zip(vals, vals[1:])):
            problems.append("%s: buckets not cumulative %s" % (key, vals))
        if counts.get(key) != vals[-1]:
            problems.append("%s: +Inf %s != _count %s" % (key, vals[-1], counts.get(key)))
    if set(counts) != set(hist):
        problems.append("histograms with _count but no buckets, or the reverse")
    for p in problems:
        print(p)
    print("%d samples, %d families, %d histograms" % (len(samples), len(types), len(hist)))
    return not problems


def expected(events_path):
    """Per (vpid, port): what the events say, counted without the model."""
    port = {}
    open_ = set()
    e = collections.defaultdict(collections.Counter)
    hist = collections.defaultdict(list)
    queue = collections.defaultdict(set)
    held = {}
    for line in open(events_path):
        ev = json.loads(line)
        kind, vpid, conn = ev["event"], ev.get("vpid"), ev.get("conn", 0)
        if kind in ("header", "end"):
            continue
        if kind == "discarded":
            e["trace"]["discarded"] += ev["count"]
            continue
        if kind == "conn_open":
            port[(vpid, conn)] = ev["local_port"]
        if kind == "conn_state" and (vpid, conn) not in port:
            port[(vpid, conn)] = ev["local_port"]
        key = (vpid, str(port.get((vpid, conn), "")) if conn else "")
        c = e[key]
        if kind == "drop":
            # a drop of a connection no longer open counts on the engine's port "" row
            e[key if (vpid, conn) in open_ else (vpid, "")]["drop " + ev["reason"]] += 1
            continue
        if kind == "conn_close":
            open_.discard((vpid, conn))
            queue.pop((vpid, conn), None)
            held.pop((vpid, conn), None)
            continue
        open_.add((vpid, conn))
        if kind == "post":
            queue[(vpid, conn)].add(ev["req"])
        elif kind == "complete":
            queue[(vpid, conn)].discard(ev["req"])
            c["completions %s %s" % (ev["reason"], ev["status"])] += 1
            c["bytes"] += ev["bytes"]
            hist[key + ("post", ev["reason"])].append(ev["post_to_complete_ns"])
            if ev["last_fill_to_complete_ns"] >= 0:
                hist[key + ("last_fill", ev["reason"])].append(ev["last_fill_to_complete_ns"])
        elif kind == "push_timer_expire":
            c["expiries"] += 1
        elif kind == "conn_state":
            held[(vpid, conn)] = ev["held_bytes"]
    for vc in open_:
        key = (vc[0], str(port.get(vc, "")))
        e[key]["open"] += 1
        e[key]["posted"] += len(queue[vc])
        e[key]["held"] += held.get(vc, 0)
    return e, hist


def check_values(path, events_path):
    samples, types, _, problems = parse(path)
    want, whist = expected(events_path)
    got = collections.defaultdict(collections.Counter)
    ghist = {}
    for name, labels, value in samples:
        d = dict(labels)
        key = (int(d["vpid"]), d["port"]) if "vpid" in d else "trace"
        if name == "offrx_completions_total":
            got[key]["completions %s %s" % (d["reason"], d["status"])] += value
        elif name == "offrx_completed_bytes_total":
            got[key]["bytes"] += value
        elif name == "offrx_push_timer_expiries_total":
            got[key]["expiries"] += value
        elif name == "offrx_drops_total":
            got[key]["drop " + d["reason"]] += value
        elif name == "offrx_open_connections":
            got[key]["open"] += value
        elif name == "offrx_posted_requests":
            got[key]["posted"] += value
        elif name == "offrx_held_bytes":
            got[key]["held"] += value
        elif name == "offrx_trace_discarded_events_total":
            got["trace"]["discarded"] += value
        elif name.endswith("_seconds_count") or name.endswith("_seconds_sum"):
            lat = "post" if name.startswith("offrx_post_to") else "last_fill"
            ghist[key + (lat, d["reason"], name.rsplit("_", 1)[1])] = value
        elif name.endswith("_seconds_bucket"):
            lat = "post" if name.startswith("offrx_post_to") else "last_fill"
            ghist[key + (lat, d["reason"], d["le"])] = value
    for key in set(want) | set(got):
        w = +want.get(key, collections.Counter())  # + drops the zeros
        g = +got.get(key, collections.Counter())
        if w != g:
            problems.append("%s: metrics %s, events %s" % (key, dict(g), dict(w)))
    for key, vals in whist.items():
        if ghist.get(key + ("count",)) != len(vals):
            problems.append("%s: _count %s, events %d" % (key, ghist.get(key + ("count",)), len(vals)))
        if abs(ghist.get(key + ("sum",), -1) - sum(vals) / 1e9) > 1e-9:
            problems.append("%s: _sum %s, events %s" % (key, ghist.get(key + ("sum",)), sum(vals) / 1e9))
        for le in BUCKETS[:-1]:
            n = sum(1 for v in vals if v <= round(float(le) * 1e9))
            if ghist.get(key + (le,)) != n:
                problems.append("%s le=%s: %s, events %d" % (key, le, ghist.get(key + (le,)), n))
    for p in problems:
        print(p)
    return not problems


def total(path, name, filters):
    samples, _, _, _ = parse(path)
    want = dict(f.split("=", 1) for f in filters)
    print(int(sum(v for n, l, v in samples
                  if n == name and all(dict(l).get(k) == x for k, x in want.items()))))
    return True


def main():
    a = sys.argv[1:]
    if a[:1] == ["fetch"]:
        fetch(a[1], a[2] if len(a) > 2 else None)
        return 0
    if a[:1] == ["format"]:
        return 0 if check_format(a[1], "--om" in a) else 1
    if a[:1] == ["values"]:
        return 0 if check_values(a[1], a[2]) else 1
    if a[:1] == ["total"]:
        return 0 if total(a[1], a[2], a[3:]) else 1
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
