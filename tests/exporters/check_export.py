#!/usr/bin/env python3
"""Independent checks of offrx-export's output, for the tests in tests/exporters/.

  check_export.py schema SCHEMA FILE [--lines]   FILE (or each line of it) validates
  check_export.py chrome FILE                    Chrome/Perfetto trace rules
  check_export.py summary-vs-bt SUMMARY BT_TXT   the summary's counts equal counts computed
                                                 here from babeltrace2's text output
  check_export.py kinds-jsonl JSONL              "KIND COUNT" lines of a jsonl export
  check_export.py kinds-bt BT_TXT                "KIND COUNT" lines of babeltrace2 text

Each check prints 'ok'/'FAIL' lines and exits 1 on a failure. JSON Schema: python3-jsonschema
when installed, else the small validator below (the subset the offrx schemas use: type, const,
enum, properties, required, additionalProperties, items, minItems, maxItems, minimum, maximum,
oneOf, anyOf, $ref to #/$defs)."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import names  # noqa: E402  (the enum names, from engine/include/offrx/offrx_names.h)

# --- JSON Schema ---------------------------------------------------------------------------

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def mini_errors(s, v, root, path="$"):
    """The first error of v against schema s, or None."""
    if "$ref" in s:
        name = s["$ref"].split("/")[-1]
        return mini_errors(root["$defs"][name], v, root, path)
    if "type" in s:
        ts = s["type"] if isinstance(s["type"], list) else [s["type"]]
        if not any(TYPES[t](v) for t in ts):
            return "%s: %r is not of type %s" % (path, v, "/".join(ts))
    if "const" in s and not (v == s["const"] and type(v) is type(s["const"])):
        return "%s: %r is not %r" % (path, v, s["const"])
    if "enum" in s and v not in s["enum"]:
        return "%s: %r is not one of %s" % (path, v, s["enum"])
    if TYPES["number"](v):
        if "minimum" in s and v < s["minimum"]:
            return "%s: %r < %r" % (path, v, s["minimum"])
        if "maximum" in s and v > s["maximum"]:
            return "%s: %r > %r" % (path, v, s["maximum"])
    if isinstance(v, dict):
        props = s.get("properties", {})
        for k in s.get("required", []):
            if k not in v:
                return "%s: missing %r" % (path, k)
        for k, x in v.items():
            if k in props:
                e = mini_errors(props[k], x, root, path + "." + k)
                if e:
                    return e
            elif s.get("additionalProperties") is False:
                return "%s: unexpected property %r" % (path, k)
    if isinstance(v, list):
        if "minItems" in s and len(v) < s["minItems"]:
            return "%s: fewer than %d items" % (path, s["minItems"])
        if "maxItems" in s and len(v) > s["maxItems"]:
            return "%s: more than %d items" % (path, s["maxItems"])
        if "items" in s:
            for i, x in enumerate(v):
                e = mini_errors(s["items"], x, root, "%s[%d]" % (path, i))
                if e:
                    return e
    if "anyOf" in s:
        errs = [mini_errors(b, v, root, path) for b in s["anyOf"]]
        if all(errs):
            return "%s: matches none of anyOf (%s)" % (path, errs[0])
    if "oneOf" in s:
        errs = [mini_errors(b, v, root, path) for b in s["oneOf"]]
        n = sum(1 for e in errs if not e)
        if n != 1:
            best = min((e for e in errs if e), key=len, default="")
            return "%s: matches %d of oneOf (closest: %s)" % (path, n, best)
    return None


def validator(schema):
    try:
        import jsonschema  # python3-jsonschema, when installed
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        v = cls(schema)

        def check(x):
            e = next(iter(v.iter_errors(x)), None)
            return None if e is None else "%s: %s" % ("/".join(map(str, e.path)), e.message)
        try:
            from importlib.metadata import version
            how = "jsonschema " + version("jsonschema")
        except Exception:
            how = "jsonschema"
        return check, how
    except ImportError:
        return (lambda x: mini_errors(schema, x, schema)), "the built-in subset validator"


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

    def done(self):
        return 1 if self.failed else 0


def cmd_schema(args):
    schema = json.load(open(args[0]))
    check, how = validator(schema)
    c = Checks()
    if "--lines" in args:
        bad, n, first = 0, 0, ""
        for i, line in enumerate(open(args[1]), 1):
            n += 1
            try:
                err = check(json.loads(line))
            except ValueError as e:
                err = "not JSON: %s" % e
            if err:
                bad += 1
                first = first or "line %d: %s" % (i, err)
        c.check("%d lines of %s validate against %s (%s)" % (n, args[1], schema["title"], how),
                n > 0 and bad == 0, "%d bad; first %s" % (bad, first))
    else:
        err = check(json.load(open(args[1])))
        c.check("%s validates against %s (%s)" % (args[1], schema["title"], how), not err, err or "")
    return c.done()


# --- Chrome / Perfetto rules ---------------------------------------------------------------

def cmd_chrome(args):
    c = Checks()
    try:
        doc = json.load(open(args[0]))
    except ValueError as e:
        c.check("the chrome output parses as JSON", False, str(e))
        return c.done()
    c.check("the chrome output parses as JSON", True)
    c.check("it is the object form with traceEvents and metadata",
            isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list)
            and isinstance(doc.get("metadata"), dict))
    # Perfetto takes displayTimeUnit "ns" as the unit of ts: our ts are microseconds.
    c.check("no displayTimeUnit that would change the unit of ts",
            doc.get("displayTimeUnit", "ms") == "ms")
    evs = doc.get("traceEvents", [])
    bad = []
    begins, ends = {}, {}
    names = set()
    for i, e in enumerate(evs):
        ph = e.get("ph")
        if ph not in ("M", "b", "e", "i", "C"):
            bad.append("event %d: phase %r" % (i, ph))
        if not isinstance(e.get("pid"), int) or not isinstance(e.get("name"), str):
            bad.append("event %d: no integer pid or no name" % i)
        if ph == "M":
            if "ts" in e:
                bad.append("event %d: metadata with a ts" % i)
            if e["name"] == "process_name":
                names.add(e["pid"])
            continue
        if not isinstance(e.get("ts"), (int, float)) or isinstance(e.get("ts"), bool):
            bad.append("event %d: ts %r is not a number" % (i, e.get("ts")))
        if ph in ("b", "e"):
            key = (e.get("cat"), e.get("id"), e.get("pid"))
            if e.get("cat") is None or e.get("id") is None or "tid" not in e:
                bad.append("event %d: async %s without cat, id or tid" % (i, ph))
            (begins if ph == "b" else ends).setdefault(key, []).append(e)
        if ph == "C":
            args_ = e.get("args")
            if not isinstance(args_, dict) or not args_ or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in args_.values()):
                bad.append("event %d: counter %r with non-numeric args %r" % (i, e["name"], args_))
        if ph == "i" and e.get("s") not in ("t", "p", "g"):
            bad.append("event %d: instant with scope %r" % (i, e.get("s")))
    c.check("%d events: known phases, pids, names, numeric ts; metadata without ts; counters "
            "with numeric args" % len(evs), not bad, "; ".join(bad[:3]))
    unmatched = []
    for key, bs in begins.items():
        es = ends.get(key, [])
        if len(es) != len(bs):
            unmatched.append("%r: %d b, %d e" % (key, len(bs), len(es)))
            continue
        for b, e in zip(sorted(bs, key=lambda x: x["ts"]), sorted(es, key=lambda x: x["ts"])):
            if b["name"] != e["name"] or b["tid"] != e["tid"] or e["ts"] < b["ts"]:
                unmatched.append("%r: b %s@%s e %s@%s" % (key, b["name"], b["ts"], e["name"], e["ts"]))
    for key in ends:
        if key not in begins:
            unmatched.append("%r: e without b" % (key,))
    nslices = sum(len(v) for v in begins.values())
    c.check("every b has its e with the same cat, id, pid, tid and name, not before it (%d slices)"
            % nslices, not unmatched, "; ".join(unmatched[:3]))
    pids = {e["pid"] for e in evs if e.get("ph") in ("b", "i", "C") and e.get("s") != "g"}
    c.check("every process with events is named by a process_name event (%d)" % len(pids),
            pids <= names, "unnamed: %s" % sorted(pids - names)[:5])
    print("slices %d" % nslices)
    return c.done()


# --- babeltrace2 text, parsed independently -------------------------------------------------

# [ts] (+delta) host offrx:event: { cpu_id = N }, { vpid = P, ... }, { fields }
LINE = re.compile(r"^\[[^\]]*\] \(\+[^)]*\) \S+ offrx:(\w+): "
                  r"\{ cpu_id = \d+ \}, (?:\{ ([^{}]*) \}, )?\{ (.*) \}$")
ENUM = re.compile(r'\( "([^"]*)" : container = -?\d+ \)')
FIELD = re.compile(r'(\w+) = ("[^"]*"|-?\d+)')


def bt_events(path):
    for raw in open(path):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        ctx = dict(FIELD.findall(m.group(2) or ""))
        body = ENUM.sub(lambda x: '"' + x.group(1) + '"', m.group(3))
        body = re.sub(r"\[ [^\]]*\]", "0", re.sub(r"\[ (\[\d+\] = -?\d+(, )?)* \]", "0", body))
        fields = {k: (v[1:-1] if v.startswith('"') else int(v)) for k, v in FIELD.findall(body)}
        yield m.group(1), int(ctx.get("vpid", 0)), fields


def cmd_kinds_bt(args):
    n = {}
    for kind, _, _ in bt_events(args[0]):
        n[kind] = n.get(kind, 0) + 1
    for k in sorted(n):
        print(k, n[k])
    return 0


def cmd_kinds_jsonl(args):
    n = {}
    for line in open(args[0]):
        d = json.loads(line)
        e = d["event"]
        if d.get("derived"):
            continue  # event set 3: the reader derived it; babeltrace2 does not show it
        if e not in ("header", "end", "error", "discarded", "source"):
            n[e] = n.get(e, 0) + 1
    for k in sorted(n):
        print(k, n[k])
    return 0


def ep(addr, port):
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


def cmd_summary_vs_bt(args):
    summ = json.load(open(args[0]))
    c = Checks()
    conns, kinds, total = {}, {}, 0
    reasons = names.of("complete_reason")
    for kind, vpid, f in bt_events(args[1]):
        total += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        if "conn" not in f or (kind == "drop" and not f["conn"]):
            continue
        k = (vpid, f["conn"])
        cn = conns.setdefault(k, {"posted": 0, "completed": 0, "bytes": 0, "expiries": 0,
                                  "by": dict.fromkeys(reasons, 0), "p2c_max": 0, "lf_max": None,
                                  "local": "?", "remote": "?", "pt_wait": 0})
        if kind == "conn_open":
            cn["local"] = ep(f["local_addr"], f["local_port"])
            cn["remote"] = ep(f["remote_addr"], f["remote_port"])
        elif kind == "post":
            cn["posted"] += 1
        elif kind == "push_timer_expire":
            cn["expiries"] += 1
        elif kind == "complete":
            cn["completed"] += 1
            cn["bytes"] += f["bytes"]
            cn["by"][f["reason"]] += 1
            cn["p2c_max"] = max(cn["p2c_max"], f["post_to_complete_ns"])
            lf = f["last_fill_to_complete_ns"]
            if lf >= 0:
                cn["lf_max"] = max(cn["lf_max"] or 0, lf)
                if f["reason"] == "push_timer":
                    cn["pt_wait"] += lf
    tr = summ["trace"]
    c.check("trace.events equals babeltrace2's offrx lines (%d)" % total, tr["events"] == total,
            "summary says %d" % tr["events"])
    c.check("trace.events_by_kind equals babeltrace2's counts (%d kinds)" % len(kinds),
            tr["events_by_kind"] == kinds, "%s vs %s" % (tr["events_by_kind"], kinds))
    rows = {(r["vpid"], r["id"]): r for r in summ["connections"]}
    want = {k for k, v in conns.items() if v["posted"] or v["completed"] or v["local"] != "?"}
    c.check("one row per connection (%d)" % len(want), set(rows) >= want and len(rows) == len(summ["connections"]),
            "rows %s, babeltrace2 %s" % (sorted(rows), sorted(want)))
    bad = []
    for k in sorted(want):
        r, b = rows.get(k), conns[k]
        if not r:
            continue
        for field in ("posted", "completed", "bytes", "local", "remote"):
            if r[field] != b[field]:
                bad.append("%s %s %r != %r" % (k, field, r[field], b[field]))
        if r["completed_by"] != dict(b["by"], other=0):
            bad.append("%s completed_by %s != %s" % (k, r["completed_by"], b["by"]))
        if r["push_timer"]["expiries"] != b["expiries"]:
            bad.append("%s expiries %d != %d" % (k, r["push_timer"]["expiries"], b["expiries"]))
        if abs(r["push_timer"]["wait_us_total"] - b["pt_wait"] / 1e3) > 0.002:
            bad.append("%s wait_us_total %s != %s" % (k, r["push_timer"]["wait_us_total"], b["pt_wait"] / 1e3))
        share = b["by"]["push_timer"] / b["completed"] if b["completed"] else 0.0
        if abs(r["push_timer"]["share_of_completions"] - share) > 1e-9:
            bad.append("%s share %s != %s" % (k, r["push_timer"]["share_of_completions"], share))
        lat = r["latency_us"]
        if b["completed"] and abs(lat["post_to_complete"]["max"] - b["p2c_max"] / 1e3) > 0.002:
            bad.append("%s post_to_complete max %s != %s" % (k, lat["post_to_complete"]["max"], b["p2c_max"] / 1e3))
        if b["lf_max"] is not None and abs(lat["last_fill_to_complete"]["max"] - b["lf_max"] / 1e3) > 0.002:
            bad.append("%s last_fill max %s != %s" % (k, lat["last_fill_to_complete"]["max"], b["lf_max"] / 1e3))
        for m in ("post_to_complete", "last_fill_to_complete"):
            p = [lat[m][x] for x in ("p50", "p90", "p99", "max")]
            if lat[m]["count"] and not all(p[i] <= p[i + 1] + 1e-9 for i in range(3)):
                bad.append("%s %s percentiles not ascending %s" % (k, m, p))
    c.check("per connection: posted, completed, bytes, endpoints, completed_by, push-timer "
            "expiries, wait and share, latency max equal babeltrace2's", not bad, "; ".join(bad[:4]))
    for k in sorted(want):
        r = rows.get(k)
        if r:
            print("  conn %d:%d posted %d completed %d bytes %d by %s" % (
                k[0], k[1], r["posted"], r["completed"], r["bytes"],
                {x: y for x, y in r["completed_by"].items() if y}))
    return c.done()


def main():
    cmds = {"schema": cmd_schema, "chrome": cmd_chrome, "summary-vs-bt": cmd_summary_vs_bt,
            "kinds-bt": cmd_kinds_bt, "kinds-jsonl": cmd_kinds_jsonl}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        print(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
