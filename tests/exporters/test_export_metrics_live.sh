#!/usr/bin/env bash
# offrx-export --listen following a live session, scraped by a real Prometheus: while
# offrx-recv --trace-live (100 ms push timer) receives messages and an MSG_MORE trickle the push
# timer completes, Prometheus (its own config and TSDB, tests/support/prometheus.sh) scrapes the
# export every second; once the session has ended (input_done 1 in Prometheus: the values are
# final), the push-timer completions Prometheus's HTTP API reports equal the summary exporter's
# count over the trace lttng-relayd wrote of the same run, as do all completions and the
# push-timer expiries; the export goes on serving after the end and exits 0 on SIGTERM.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/exporters/lib_export.sh"
. "$OFFRX_SRC/tests/support/prometheus.sh"
CM=$SRC/tests/exporters/check_metrics.py

start_recv --trace-live --max-conns 2 --push-timer-ms 100 --buf-size 65536 --depth 4 --duration 60
vpid=$RECV_PID
url=$(recv_location)
check "offrx-recv --trace-live names its live URL (${url:-none})" test -n "$url"
session=${url##*/}
TRACE_GLOBS+=("$HOME/lttng-traces/*/$session-*")

"$EXPORT" --listen 127.0.0.1:0 --vpid "$vpid" "$url" 2>"$WORK/serve.err" &
serve_pid=$!
PIDS+=("$serve_pid")
where=
for _ in $(seq 100); do
	where=$(sed -n 's|^offrx-export: serving metrics at http://\([^/]*\)/metrics$|\1|p' "$WORK/serve.err")
	[[ -n "$where" ]] && break
	sleep 0.1
done
check "offrx-export --listen says where it serves (${where:-nowhere})" test -n "$where"
# events: how many events the export has read so far (0 before it attached)
events() {
	python3 "$CM" fetch "http://$where/metrics" 2>/dev/null | sed -n 's/^offrx_export_events_total //p'
}
# A live viewer sees what comes after it attached: wait for the engine's periodic xsk_stats.
wait_for 20 eval '[[ $(events) -gt 0 ]]' || true
check "the export attached to the session (events read: $(events))" eval '[[ $(events) -gt 0 ]]'
check "prometheus comes up, scraping the export" prom_start "$where"
prom_wait_value 20 'up{job="offrx"}' 1 && ok=true || ok=false
check "... and reads the target as up (up: ${PROM_LAST:-none})" $ok

send -p messages -s 1000 -i 20 -c 20 10.77.0.1:5201
send -p trickle -s 1482 -i 400 -c 4 --mss 1000 10.77.0.1:5201
wait_recv >/dev/null || true # --max-conns 2: offrx-recv exits and destroys its session

# input_done 1: the session ended and the export read all of it, so this scrape and every later
# one carry the final values.
prom_wait_value 30 'max(offrx_export_input_done)' 1 && ok=true || ok=false
check "prometheus sees the export's input end (input_done: ${PROM_LAST:-none})" $ok
[[ $ok == true ]] || sed 's/^/    /' "$WORK/serve.err"
pt_prom=$(prom_value "sum(offrx_completions_total{vpid=\"$vpid\",reason=\"push_timer\"})" || true)
all_prom=$(prom_value "sum(offrx_completions_total{vpid=\"$vpid\"})" || true)
exp_prom=$(prom_value "sum(offrx_push_timer_expiries_total{vpid=\"$vpid\"})" || true)

relayd_dir=$(ls -d $HOME/lttng-traces/*/"$session"-* 2>/dev/null | head -1 || true)
check "lttng-relayd wrote the session to disk (${relayd_dir:-none})" test -n "$relayd_dir"
"$EXPORT" -f summary --vpid "$vpid" -o "$WORK/summary.json" "$relayd_dir" 2>"$WORK/summary.err" || true
read -r pt_sum all_sum exp_sum < <(python3 -c "
import json
cs = json.load(open('$WORK/summary.json'))['connections']
print(sum(c['completed_by']['push_timer'] for c in cs), sum(c['completed'] for c in cs),
      sum(c['push_timer']['expiries'] for c in cs))" 2>/dev/null || echo "? ? ?")
check "the trickle completed by the push timer (summary: $pt_sum)" eval '[[ $pt_sum -gt 0 ]]'
check "prometheus's push-timer completion count equals the summary's (${pt_prom:-none} = $pt_sum)" \
	python3 -c "import sys; sys.exit(float('${pt_prom:-nan}') != float('$pt_sum'))"
check "... and so do all completions (${all_prom:-none} = $all_sum)" \
	python3 -c "import sys; sys.exit(float('${all_prom:-nan}') != float('$all_sum'))"
check "... and the push-timer expiries (${exp_prom:-none} = $exp_sum)" \
	python3 -c "import sys; sys.exit(float('${exp_prom:-nan}') != float('$exp_sum'))"
p99=$(prom_value "histogram_quantile(0.99, sum by (le) (offrx_last_fill_to_complete_seconds_bucket{vpid=\"$vpid\",reason=\"push_timer\"}))" || true)
check "p99 of the wait for the push timer from the histograms: ${p99:-none} s (the timer is 100 ms)" \
	python3 -c "import sys; sys.exit(not 0.1 <= float('${p99:-nan}') <= 1.0)"

check "the export goes on serving after the session's end" grep -q "serving the final metrics" "$WORK/serve.err"
kill -TERM "$serve_pid"
if exited_within 10 "$serve_pid"; then
	check "SIGTERM ends it, exit 0 ($EXIT_RC)" test "$EXIT_RC" -eq 0
else
	check "SIGTERM ends it (still running after 10 s)" false
fi
prom_stop
finish
