#!/usr/bin/env bash
# What a trace holds, and who may read it (issue 9, least privilege):
# - by default no byte of a stream reaches the trace: a unique 32-byte marker sent through the
#   engine is in no file of the recorded trace and not in babeltrace2's text of it;
# - with offrx-recv --trace-payload 32 it is there, as the bytes of offrx:segment_payload
#   (babeltrace2 and offrx-export --format jsonl, which shows them as hex);
# - the freshly recorded traces, copied where anyone may read them, are replayed by
#   offrx-view --batch and exported in every format and verified by offrx-export as user
#   nobody: reading a trace needs no privilege.
. "$OFFRX_SRC/tests/support/e2e.sh"
for t in lttng lttng-sessiond babeltrace2 socat; do
	command -v "$t" >/dev/null || { echo "skip: $t is missing"; exit 77; }
done
. "$OFFRX_SRC/tests/support/trace.sh"
VIEW=$BIN/viewer/offrx-view
EXPORT=$BIN/exporters/offrx-export

MARK=$(python3 -c "import os; print('OFFRXMARK-' + os.urandom(11).hex())")
printf '%s' "$MARK" >"$WORK/mark.in"
MARK_HEX=$(python3 -c "import sys; print(sys.argv[1].encode().hex())" "$MARK")
check "the marker is 32 bytes" test "$(stat -c %s "$WORK/mark.in")" -eq 32

# bt_payloads TRACE VPID: the bytes of every segment_payload of process VPID, as text
bt_payloads() {
	babeltrace2 "$1" 2>/dev/null | python3 -c '
import re, sys
vpid = sys.argv[1]
for line in sys.stdin:
    if "offrx:segment_payload" not in line or "vpid = %s," % vpid not in line:
        continue
    b = re.search(r"bytes = \[(.*)\]", line)
    if b:
        print(bytes(int(x, 16) for x in re.findall(r"= (0x[0-9A-Fa-f]+)", b.group(1))).decode("latin-1"))
' "$2"
}

# record ARGS...: one connection carrying the marker, recorded by offrx-recv --trace ARGS;
# sets TRACE_SRC and PID (the receiver's, which is its vpid)
record() {
	record_trace --max-conns 1 "$@"
	PID=$RECV_PID
	peer socat -u "FILE:$WORK/mark.in" TCP:10.77.0.1:5201
	wait_recv
	check "offrx-recv --trace $*: the marker arrived byte-exact" \
		test "$(sha256sum <"$WORK/mark.in" | cut -d' ' -f1)" = "$(recv_shas)"
	check "... and the trace was written ($TRACE_SRC)" test -d "$TRACE_SRC"
}

# 1. Default: no payload anywhere.
record
T_OFF=$TRACE_SRC PID_OFF=$PID
babeltrace2 "$T_OFF" >"$WORK/off.txt" 2>/dev/null
check "default: babeltrace2 reads the trace and sees this receiver" grep -q "vpid = $PID_OFF," "$WORK/off.txt"
check "default: the marker is in no file of the trace (grep -r)" eval '! grep -r -a -q -F "$MARK" "$T_OFF"'
check "default: the marker is not in babeltrace2's text" eval '! grep -q -F "$MARK" "$WORK/off.txt"'
check "default: no segment_payload event of this receiver" \
	eval '! grep "offrx:segment_payload" "$WORK/off.txt" | grep -q "vpid = $PID_OFF,"'

# 2. --trace-payload 32: the marker is the event's bytes.
record --trace-payload 32
T_ON=$TRACE_SRC PID_ON=$PID
check "--trace-payload 32: the marker is the bytes of a segment_payload (babeltrace2)" \
	eval 'bt_payloads "$T_ON" "$PID_ON" | grep -qxF "$MARK"'
check "... and in the trace's files (so the default run's grep could have found it)" \
	grep -r -a -q -F "$MARK" "$T_ON"
"$EXPORT" --format jsonl "$T_ON" >"$WORK/on.jsonl" 2>"$WORK/export.err" || true
check "... and offrx-export jsonl shows it as hex, with len 32" \
	test "$(python3 -c "
import json, sys
for l in open('$WORK/on.jsonl'):
    d = json.loads(l)
    if d.get('event') == 'segment_payload' and d['vpid'] == $PID_ON:
        print(d['bytes'], d['len'])" | head -1)" = "$MARK_HEX 32"
"$EXPORT" --input-jsonl "$WORK/on.jsonl" >"$WORK/again.jsonl" 2>/dev/null || true
check "... and read back by offrx-export --input-jsonl, the same bytes" \
	test "$(grep -c "\"bytes\":\"$MARK_HEX\"" "$WORK/again.jsonl")" -ge 1
check "... every line valid against offrx-events/1" python3 -c "
import json, jsonschema
v = jsonschema.Draft202012Validator(json.load(open('$SRC/exporters/schema/offrx-events-1.schema.json')))
for l in open('$WORK/on.jsonl'):
    v.validate(json.loads(l))"

# 3. Both traces, readable by anyone, read by nobody.
PUB=$(mktemp -d /tmp/offrx-privacy.XXXXXX)
TRACE_DIRS+=("$PUB")
cp -r "$T_OFF" "$PUB/off"
cp -r "$T_ON" "$PUB/on"
chmod -R a+rX "$PUB"
as_nobody() {
	if command -v runuser >/dev/null; then
		runuser -u nobody -- "$@"
	else
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	fi
}
for which in off on; do
	T=$PUB/$which
	rc=0
	as_nobody "$VIEW" --batch --speed 0 --sort id "$T" >"$WORK/view.txt" 2>"$WORK/view.err" || rc=$?
	check "$which: offrx-view --batch as nobody, status 0 ($rc), to its final snapshot" \
		eval 'test $rc -eq 0 && grep -q "^offrx-view snapshot=.* final=yes$" "$WORK/view.txt"'
	[[ $rc -eq 0 ]] || sed 's/^/  | /' "$WORK/view.err" | tail -5
	check "$which: ... with this receiver's connection" grep -q ' 10\.77\.0\.1:5201 closed ' "$WORK/view.txt"
	for fmt in jsonl chrome summary csv; do
		rc=0
		as_nobody "$EXPORT" --format "$fmt" "$T" >"$WORK/out.$fmt" 2>"$WORK/exp.err" || rc=$?
		check "$which: offrx-export --format $fmt as nobody, status 0 ($rc), output not empty" \
			eval 'test $rc -eq 0 -a -s "$WORK/out.$fmt"'
		[[ $rc -eq 0 ]] || sed 's/^/  | /' "$WORK/exp.err" | tail -5
	done
	check "$which: jsonl has this receiver's conn_open" \
		grep -q "\"event\":\"conn_open\",\"vpid\":$([[ $which == off ]] && echo "$PID_OFF" || echo "$PID_ON")," "$WORK/out.jsonl"
	check "$which: chrome is valid JSON" python3 -c "import json; json.load(open('$WORK/out.chrome'))"
	check "$which: summary is a complete offrx-summary/1" \
		test "$(python3 -c "import json; d = json.load(open('$WORK/out.summary')); print(d['schema'] == 'offrx-summary/1' and d['complete'] and len(d['connections']) >= 1)")" = True
	check "$which: ... and valid against offrx-summary/1" python3 -c "
import json, jsonschema
jsonschema.validate(json.load(open('$WORK/out.summary')),
                    json.load(open('$SRC/exporters/schema/offrx-summary-1.schema.json')))"
	check "$which: csv has a header and a row" test "$(wc -l <"$WORK/out.csv")" -ge 2
	rc=0
	as_nobody "$EXPORT" --verify "$T" >"$WORK/verify.txt" 2>&1 || rc=$?
	check "$which: offrx-export --verify as nobody: no violation ($rc)" \
		eval 'test $rc -eq 0 && grep -q "^verdict: OK" "$WORK/verify.txt"'
	[[ $rc -eq 0 ]] || sed 's/^/  | /' "$WORK/verify.txt" | tail -8
done

finish
