#!/usr/bin/env python3
"""The enum names of engine/include/offrx/offrx_names.h, for the Python and shell tests.

The header is the one place the names are written; this reads its X-macro lists instead of
copying them:

    import names; names.of("complete_reason")  # ['filled', 'psh', ...] in the header's order
    tests/support/names.py complete_reason     # the same, one per line (for shell tests)

Lists: status, complete_reason, close_reason, pkt_drop, tcp_drop (drop_reason is both)."""
import os
import re
import sys

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "engine",
                      "include", "offrx", "offrx_names.h")


def _lists():
    text = open(HEADER).read()
    out = {}
    # "#define OFFRX_<NAME>_LIST(FN)" or "_LIST_AT(FN, P, B)", then its continued lines
    for m in re.finditer(r"#define OFFRX_(\w+?)_LIST(?:_AT)?\(FN[^)]*\)\s*\\\n((?:.*\\\n)*.*)", text):
        out[m.group(1).lower()] = re.findall(r'FN\([^,]+,\s*"([^"]+)"', m.group(2))
    out["drop_reason"] = out["pkt_drop"] + out["tcp_drop"]
    return out


def of(name):
    lists = _lists()
    if name not in lists or not lists[name]:
        raise KeyError("no list %r in %s (have: %s)" % (name, HEADER, ", ".join(sorted(lists))))
    return lists[name]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: names.py LIST   (status, complete_reason, close_reason, drop_reason, ...)")
    try:
        print("\n".join(of(sys.argv[1])))
    except KeyError as e:
        sys.exit("names.py: %s" % e.args[0])
