#!/usr/bin/env bash
# offrx-export --listen on hand-made event sequences (no engine, no root): /metrics is well
# formed in both the Prometheus text format and OpenMetrics (HELP and TYPE, counters in _total,
# histogram buckets cumulative with +Inf equal to _count) and says what the events say, per
# engine and port, counted here without the model; --per-conn keeps its cap (closed
# connections fold into conn="other", the rest overflow there, counted); / and 404; a taken
# port and a bad HOST:PORT are refused plainly; SIGTERM ends the serving after the input's end
# with status 0. Then a real Prometheus scrapes it and its HTTP API reads the same counts.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
EXPORT=$BIN/exporters/offrx-export
CM=$SRC/tests/exporters/check_metrics.py
[[ -x $EXPORT ]] || { echo "skip: $EXPORT is not built"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-export-metrics.XXXXXX)
. "$SRC/tests/support/on_exit.sh"
. "$SRC/tests/support/checks.sh"
PIDS=()
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
on_exit 'stop_all; rm -rf "$WORK"'
cd "$WORK"

# Two engines; engine 1000 with two closed connections on 5201 (every completion reason the
# good connection has), one open on 5202 (two requests posted, bytes held, one drop), one seen
# from its middle (port unknown), a drop tied to no connection, a completion after 12 s (past
# the last bucket), lost events; engine 2000 with one connection on 5201.
python3 - "$SRC/tests/exporters" >events.jsonl <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from scenario import Trace, good_conn
t = Trace(1000)
good_conn(t, 1, 0)
good_conn(t, 2, 200)
t.at(300).open(3, lport=5202)
t.post(3, 1, depth=1)
t.post(3, 2, depth=2)
t.at(301).fill(3, 1, 10)
t.ev("conn_state", conn=3, depth=2, req_ids=[1, 2], req_lens=[4096, 4096], req_fills=[10, 0],
     req_no_push=[0, 0], deadline_ns=0, indicated_out=0, held_bytes=3000, rcv_nxt=1010,
     window=65536, bytes=10, local_addr="10.77.0.1", local_port=5202, remote_addr="10.77.0.2",
     remote_port=40003)
t.ev("drop", conn=3, reason="out_of_window", frame_len=100)
t.at(302).ev("drop", conn=0, reason="not_our_port", frame_len=60)
t.ev("drop", conn=1, reason="duplicate", frame_len=60)  # connection 1 closed: port ""
t.ev("drop", conn=0, reason="tcp_bad_csum", frame_len=60)
t.at(310).call(9, 1)
t.complete(9, 41, "psh", placed=5, bytes=5)
t.at(400).open(4)
t.post(4, 1, depth=1)
t.at(401).fill(4, 1, 100)
t.at(12401).complete(4, 1, "push_timer")
t.close(4)
t.discarded(500, 600, count=7)
u = Trace(2000)
good_conn(u, 1, 0)
t.lines += u.lines
t.dump(sys.stdout)
EOF

# serve ARGS...: offrx-export --listen 127.0.0.1:0 ARGS in the background ($SERVE_PID); its
# address in $WHERE once it says where it serves, and its input read (input_done 1).
serve() {
	rm -f serve.err
	"$EXPORT" --listen 127.0.0.1:0 "$@" 2>serve.err &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	WHERE=
	for _ in $(seq 100); do
		WHERE=$(sed -n 's|^offrx-export: serving metrics at http://\([^/]*\)/metrics$|\1|p' serve.err)
		[[ -n "$WHERE" ]] && grep -q "serving the final metrics" serve.err && return 0
		sleep 0.1
	done
	echo "offrx-export --listen did not come up:"
	cat serve.err
	return 1
}
get() { # get PATH [ACCEPT] > FILE: the status line, then the body
	python3 "$CM" fetch "http://$WHERE$1" "${2:-}"
}

check "--listen 127.0.0.1:0 on a jsonl input: it says where it serves, reads to the end" \
	serve --input-jsonl events.jsonl
get /metrics >m.out
head -1 m.out >m.status
sed 1d m.out >m.txt
check "GET /metrics: 200, text/plain; version=0.0.4 ($(cat m.status))" \
	grep -q '^200 text/plain; version=0.0.4' m.status
python3 "$CM" format m.txt >fmt.txt && ok=true || ok=false
check "the text is well formed: HELP, TYPE, _total, buckets cumulative, +Inf = _count ($(tail -1 fmt.txt))" $ok
$ok || sed 's/^/    /' fmt.txt
python3 "$CM" values m.txt events.jsonl >val.txt && ok=true || ok=false
check "every counter, gauge and histogram equals what the events say, per engine and port" $ok
$ok || sed 's/^/    /' val.txt
check "the enum names are the table's: reason=\"push_timer\", status=\"SUCCESS\", drop \"not_our_port\" on port \"\"" \
	eval 'grep -q "^offrx_completions_total{vpid=\"1000\",port=\"5201\",reason=\"push_timer\",status=\"SUCCESS\"} 3$" m.txt &&
		grep -q "^offrx_drops_total{vpid=\"1000\",port=\"\",reason=\"not_our_port\"} 1$" m.txt'
check "the 12 s completion is in +Inf only, and input_done is 1" \
	eval 'grep -q "^offrx_post_to_complete_seconds_bucket{vpid=\"1000\",port=\"5201\",reason=\"push_timer\",le=\"10.0\"} 2$" m.txt &&
		grep -q "^offrx_post_to_complete_seconds_bucket{vpid=\"1000\",port=\"5201\",reason=\"push_timer\",le=\"+Inf\"} 3$" m.txt &&
		grep -q "^offrx_export_input_done 1$" m.txt'
"$EXPORT" -f summary --input-jsonl events.jsonl >summary.json 2>/dev/null
pt_summary=$(python3 -c "import json; print(sum(c['completed_by']['push_timer'] for c in json.load(open('summary.json'))['connections']))")
pt_metrics=$(python3 "$CM" total m.txt offrx_completions_total reason=push_timer)
check "push-timer completions: metrics $pt_metrics = summary $pt_summary" test "$pt_metrics" = "$pt_summary"

get /metrics 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' >om.out
sed 1d om.out >om.txt
check "Accept: OpenMetrics: served as application/openmetrics-text ($(head -1 om.out))" \
	grep -q '^200 application/openmetrics-text; version=1.0.0' om.out
python3 "$CM" format om.txt --om >fmt.txt && ok=true || ok=false
check "... well formed as OpenMetrics: counter families without _total, # EOF last ($(tail -1 fmt.txt))" $ok
$ok || sed 's/^/    /' fmt.txt
check "... the same samples as the text format" \
	cmp -s <(grep -v '^#' m.txt) <(grep -v '^#' om.txt)
get / >root.out
get /nope >nope.out
check "GET / is a short page linking /metrics; anything else 404" \
	eval 'grep -q "^200 text/html" root.out && grep -q "href=\"/metrics\"" root.out && grep -q "^404" nope.out'

rc=0
"$EXPORT" --listen "$WHERE" --input-jsonl events.jsonl 2>taken.err || rc=$?
check "a second --listen on the same port: exit 1 ($rc), \"the port is taken\", naming it" \
	eval '[[ $rc -eq 1 ]] && grep -q "^offrx-export: --listen $WHERE: the port is taken" taken.err'
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
check "SIGTERM after the input's end: exit 0 ($rc)" test "$rc" -eq 0
for bad in 9464 "::1:9464" "127.0.0.1:99999" "127.0.0.1:x"; do
	rc=0
	"$EXPORT" --listen "$bad" --input-jsonl events.jsonl 2>bad.err || rc=$?
	check "--listen $bad: exit 1 ($rc), asks for HOST:PORT" \
		eval '[[ $rc -eq 1 ]] && grep -q "give HOST:PORT" bad.err'
done
rc=0
"$EXPORT" --listen 127.0.0.1:0 -f summary --input-jsonl events.jsonl 2>bad.err || rc=$?
check "--listen with --format: usage error, exit 2 ($rc)" test "$rc" -eq 2
rc=0
"$EXPORT" --per-conn --input-jsonl events.jsonl 2>bad.err || rc=$?
check "--per-conn without --listen: usage error, exit 2 ($rc)" test "$rc" -eq 2

# --- --per-conn: the cap ---------------------------------------------------------------
# Engine 1000 above has connections 1, 2 (closed before 3 opens), 3 (open), 9 (port unknown),
# 4 (opens while 3 and 9 are open); engine 2000 its connection 1. A cap of 2: 1 and 2 get
# rows; 3 takes 1's row (1 folds into conn="other"), 9 takes 2's, 4 finds none closed and
# overflows, as does engine 2000's connection 1 (4 is still open... until it closes, but 3
# and 9 stay open): overflow 1 or 2 by then.
check "--per-conn=2 serves" serve --per-conn=2 --input-jsonl events.jsonl
get /metrics | sed 1d >pc.txt
python3 "$CM" format pc.txt >fmt.txt && ok=true || ok=false
check "--per-conn=2: well formed ($(tail -1 fmt.txt))" $ok
$ok || sed 's/^/    /' fmt.txt
nconn=$(grep '^offrx_completed_bytes_total{' pc.txt | grep -vc 'conn="other"' || true)
check "--per-conn=2: at most 2 connections with series of their own ($nconn)" test "$nconn" -le 2 -a "$nconn" -ge 1
over=$(sed -n 's/^offrx_export_per_conn_overflow_total //p' pc.txt)
check "--per-conn=2: the connections that found no room are counted ($over)" test "${over:-0}" -ge 1
for m in offrx_completions_total offrx_completed_bytes_total offrx_push_timer_expiries_total offrx_drops_total offrx_open_connections offrx_posted_requests offrx_post_to_complete_seconds_count; do
	a=$(python3 "$CM" total m.txt "$m")
	b=$(python3 "$CM" total pc.txt "$m")
	check "--per-conn=2: $m sums to the same as without ($b = $a)" test "$a" = "$b"
done
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true

# --- a real Prometheus scrapes it -------------------------------------------------------
if command -v prometheus >/dev/null; then
	. "$SRC/tests/support/prometheus.sh"
	on_exit 'stop_all; prom_stop; rm -rf "$WORK"'
	serve --input-jsonl events.jsonl
	check "prometheus comes up, scraping offrx-export" prom_start "$WHERE"
	prom_wait_value 20 'up{job="offrx"}' 1 && ok=true || ok=false
	check "... and reads the target as up (up: ${PROM_LAST:-none})" $ok
	prom_wait_value 10 'sum(offrx_completions_total{reason="push_timer"})' "$pt_summary" && ok=true || ok=false
	check "prometheus's push-timer completions equal the summary's (${PROM_LAST:-none} = $pt_summary)" $ok
	p99=$(prom_value 'histogram_quantile(0.99, sum by (le) (offrx_last_fill_to_complete_seconds_bucket{reason="push_timer"}))')
	check "histogram_quantile reads the histograms (p99 last fill to push-timer completion: $p99 s)" \
		python3 -c "import sys; sys.exit(not 0.05 <= float('$p99') <= 10)"
	prom_stop
else
	echo "note: prometheus is not installed (scripts/install-deps): its scrape not checked"
fi
finish
