#!/usr/bin/env bash
# The recorded sample trace (samples/traces/demo-mix) needs no root and no daemon: an
# unprivileged user replays it with offrx-view --batch and exports and verifies it with
# offrx-export; it holds the five patterns, and it stays small enough to commit.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
VIEW=$BIN/viewer/offrx-view
EXPORT=$BIN/exporters/offrx-export
SAMPLE=$SRC/samples/traces/demo-mix
. "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"
[[ -x "$VIEW" ]] || { echo "skip: $VIEW is not built"; exit 77; }
[[ -d "$SAMPLE" ]] || { echo "FAIL the sample trace $SAMPLE is missing"; echo "0 passed, 1 failed"; exit 1; }

# A world-readable copy: the checkout may sit under a directory nobody cannot enter.
TMP=$(mktemp -d /tmp/offrx-sample.XXXXXX)
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'rm -rf "$TMP"'
cp -r "$SAMPLE" "$TMP/demo-mix"
chmod -R a+rX "$TMP"
T=$TMP/demo-mix
# as nobody when we are root; as ourselves (already unprivileged) otherwise
as_user() {
	if [[ $(id -u) -eq 0 ]]; then
		if command -v runuser >/dev/null; then
			runuser -u nobody -- "$@"
		else
			setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
		fi
	else
		"$@"
	fi
}
who=$(as_user id -un)

size=$(du -sk "$SAMPLE" | cut -f1)
check "the sample is small enough to commit (${size} KiB <= 5 MiB)" test "$size" -le 5120
check "it is a CTF trace (metadata present)" test -f "$T/ust/uid/0/64-bit/metadata"

rc=0
as_user "$VIEW" --batch --speed 0 --sort id "$T" >"$TMP/batch.txt" 2>"$TMP/batch.err" || rc=$?
check "offrx-view --batch replays it as $who, status 0 ($rc)" test "$rc" -eq 0
[[ $rc -eq 0 ]] || sed 's/^/  | /' "$TMP/batch.err" | tail -5
check "... to its end, in one final snapshot" grep -q '^offrx-view snapshot=1 .* final=yes$' "$TMP/batch.txt"
check "... with no discarded event" grep -q '^events .* discarded=0 discarded_packets=0 ' "$TMP/batch.txt"
check "... and at least 20 connections, all closed" \
	grep -Eq '^conns total=([2-9][0-9]|[0-9]{3,}) open=0 ' "$TMP/batch.txt"
for port in 5201 5202 5203 5204 5205; do
	check "... of which some on port $port" grep -Eq " 10\\.77\\.0\\.1:$port closed " "$TMP/batch.txt"
done
check "... with push-timer, PSH and filled completions" \
	grep -Eq '^completions total=[0-9]+ .* filled=[1-9][0-9]* psh=[1-9][0-9]* push_timer=[1-9][0-9]* ' "$TMP/batch.txt"

if [[ -x "$EXPORT" ]]; then
	rc=0
	as_user "$EXPORT" --format summary "$T" >"$TMP/summary.json" 2>"$TMP/exp.err" || rc=$?
	check "offrx-export --format summary as $who, status 0 ($rc)" test "$rc" -eq 0
	check "... a complete offrx-summary/1 with every connection" \
		test "$(python3 -c "import json; d=json.load(open('$TMP/summary.json')); print(d['schema'] == 'offrx-summary/1' and d['complete'] and len(d['connections']) >= 20)")" = True
	rc=0
	as_user "$EXPORT" --format chrome "$T" >"$TMP/chrome.json" 2>>"$TMP/exp.err" || rc=$?
	check "offrx-export --format chrome, status 0 ($rc), valid JSON" \
		eval 'test $rc -eq 0 && python3 -c "import json; json.load(open(\"$TMP/chrome.json\"))"'
	rc=0
	as_user "$EXPORT" --format jsonl "$T" >"$TMP/events.jsonl" 2>>"$TMP/exp.err" || rc=$?
	check "offrx-export --format jsonl, status 0 ($rc), a header, events and a complete end" \
		eval 'test $rc -eq 0 && python3 -c "
import json
ls = [json.loads(l) for l in open(\"$TMP/events.jsonl\")]
assert ls[0][\"event\"] == \"header\" and ls[-1][\"event\"] == \"end\" and ls[-1][\"complete\"]
assert sum(1 for d in ls if d[\"event\"] == \"conn_open\") >= 20"'
	rc=0
	as_user "$EXPORT" --format csv "$T" >"$TMP/conns.csv" 2>>"$TMP/exp.err" || rc=$?
	check "offrx-export --format csv, status 0 ($rc), a row per connection" \
		eval 'test $rc -eq 0 -a "$(wc -l <"$TMP/conns.csv")" -ge 21'
	rc=0
	as_user "$EXPORT" --verify "$T" >"$TMP/verify.txt" 2>&1 || rc=$?
	check "offrx-export --verify: no violation ($rc)" test "$rc" -eq 0
	[[ $rc -eq 0 ]] || sed 's/^/  | /' "$TMP/verify.txt" | tail -10
else
	echo "note: $EXPORT is not built: the export checks are skipped"
fi
finish
