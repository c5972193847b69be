#!/usr/bin/env bash
# offrx-view's "what if" agrees with offrx-export --what-if over the same window: on
# samples/traces/demo-mix, the trickle connection of port 5203 (most of its completions are the
# push timer's), the viewer (--batch) replays the window its history holds (--what-if-history
# T,N: the last T of events or the last N completions, whichever holds more) and names it; the
# exporter, given that window (--from, --to, --conn), must find the same completions by reason
# and the same p99 latencies for half and double the recorded timer. Needs no root and no
# daemon.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
VIEW=$BIN/viewer/offrx-view
EXPORT=$BIN/exporters/offrx-export
TRACE=$SRC/samples/traces/demo-mix
for b in "$VIEW" "$EXPORT"; do
	[[ -x "$b" ]] || { echo "skip: $b is not built"; exit 77; }
done
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-whatif-view.XXXXXX)
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'rm -rf "$WORK"'
. "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"

# The two trickle connections of the sample (port 5203): conn 4 and 6 of engine 12665.
VPID=12665

# compare VIEW-BATCH EXPORT-JSON: the viewer's whatif_run lines against the exporter's
# predictions of the one connection, timer by timer. Prints what differs.
compare() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
view = [l.split() for l in open(sys.argv[1]) if l.startswith("whatif_run ")]
runs = [dict(w.split("=", 1) for w in l[1:]) for l in view]
d = json.load(open(sys.argv[2]))
conns = d["connections"]
if len(conns) != 1:
    sys.exit("the exporter replayed %d connections, not 1" % len(conns))
preds = {p["push_timer_ms"]: p for p in conns[0]["predictions"]}
if len(runs) != 2:
    sys.exit("the viewer printed %d whatif_run lines, not 2" % len(runs))
bad = 0
for r in runs:
    p = preds.get(int(r["timer_ms"]))
    if p is None:
        sys.exit("the exporter has no prediction for %s ms" % r["timer_ms"])
    by = p["completed_by"]
    want = {"completed": p["completed"], "filled": by["filled"], "psh": by["psh"],
            "push_timer": by["push_timer"]}
    for k, v in want.items():
        if int(r[k]) != v:
            print("timer %s ms: %s: viewer %s, exporter %s" % (r["timer_ms"], k, r[k], v))
            bad += 1
    for k, j in (("lf_p99_ms", "last_fill_to_complete_ms"), ("post_p99_ms", "post_to_complete_ms")):
        e = p[j]["p99"] if p[j]["count"] else None
        v = None if r[k] == "-" else float(r[k])
        if (e is None) != (v is None) or (e is not None and abs(e - v) > 0.0005):
            print("timer %s ms: %s: viewer %s, exporter %s" % (r["timer_ms"], k, r[k], e))
            bad += 1
sys.exit(1 if bad else 0)
EOF
}

# agree NAME VIEW-ARGS...: the viewer's window for the connection, then the exporter on it
agree() {
	COMPS=
	SHARE=
	local name=$1 id=$2
	shift 2
	"$VIEW" --batch --speed 0 --filter "pid:$VPID id:$id" "$@" "$TRACE" >"$WORK/view.txt" 2>&1 || true
	local line from to timer
	line=$(grep '^whatif ' "$WORK/view.txt" || true)
	check "$name: the viewer replayed conn $id ($line)" grep -q "^whatif pid=$VPID id=$id state=replayed " "$WORK/view.txt"
	from=$(sed -n 's/^whatif .* from_ns=\([0-9]*\) .*/\1/p' "$WORK/view.txt")
	to=$(sed -n 's/^whatif .* to_ns=\([0-9]*\) .*/\1/p' "$WORK/view.txt")
	timer=$(sed -n 's/^whatif .* timer_ms=\([0-9]*\) .*/\1/p' "$WORK/view.txt")
	[[ -n "$from" && -n "$to" && -n "$timer" ]] || return 0
	"$EXPORT" --what-if "push-timer=$((timer / 2)),$((timer * 2))" --format json \
		--conn "$VPID:$id" --from "${from}ns" --to "${to}ns" "$TRACE" >"$WORK/export.json" \
		2>"$WORK/export.err" || true
	check "$name: offrx-export --what-if over the same window (--from ${from}ns --to ${to}ns) agrees" \
		compare "$WORK/view.txt" "$WORK/export.json"
	COMPS=$(sed -n 's/^whatif .* completions=\([0-9]*\) .*/\1/p' "$WORK/view.txt")
	SHARE=$(sed -n "s/^whatif_run timer_ms=$((timer / 2)) .* share=\\([0-9.]*\\) .*/\\1/p" "$WORK/view.txt")
}

# The whole trace (shorter than 10 s): all of conn 4's 23 completions, 14 by the push timer.
agree "default history" 4
check "... its 23 completions replayed ($COMPS)" test "${COMPS:-0}" -eq 23
check "... and the push timer's share is not 0 (${SHARE:-none}): most of them are the timer's" \
	python3 -c "import sys; sys.exit(0 if float('${SHARE:-0}') >= 0.5 else 1)"
# Windows inside the trace, cut by time or by completions, and the other trickle connection.
agree "the last 1 s or 5 completions, at +4 s" 4 --to 4s --what-if-history 1s,5
check "... 5 completions or more in the window ($COMPS)" test "${COMPS:-0}" -ge 5
agree "the last 500 ms or 10 completions, at +4 s" 4 --to 4s --what-if-history 500ms,10
check "... 10 completions or more in the window ($COMPS)" test "${COMPS:-0}" -ge 10
agree "the last 2 s or 3 completions, at +5.5 s, conn 6" 6 --to 5.5s --what-if-history 2s,3
check "... 3 completions or more in the window ($COMPS)" test "${COMPS:-0}" -ge 3

finish
