#!/usr/bin/env bash
# Queues in the trace and the views (#17): offrx-recv --trace on a veth pair with two queues
# (one engine thread per queue), 3 connections from a sender on CPU 0 and 3 from one on CPU 1;
# the peer's XPS sends CPU 0's frames on tx queue 0 and CPU 1's on tx queue 1, which arrive on
# eng0's rx queues 0 and 1 (as in tests/e2e/test_mq_queues.sh). Then:
#  - conn_open and xsk_stats carry both queues, each connection the queue offrx-recv reports,
#    and xsk_stats the queue thread's CPU time;
#  - offrx-export's summary groups the connections by those queues, and so do its Perfetto
#    (a queue track between the engine's and the connections') and Chrome outputs;
#  - offrx-view shows one header line per queue, and the filter q:1 leaves only the
#    connections of queue 1, with 1 in their RXQ column.
E2E_NETNS_ARGS="--queues 2"
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/viewer/lib_view.sh"
EXPORT=$BIN/exporters/offrx-export
[[ -x "$EXPORT" ]] || skip "$EXPORT is not built"
[[ $(nproc) -ge 2 ]] || skip "needs 2 CPUs to steer the peer's flows by XPS"
command -v taskset >/dev/null || skip "needs taskset (util-linux)"

xps() { # xps MASK0 MASK1: the peer sends on tx-0 from the CPUs of MASK0, on tx-1 from MASK1
	peer sh -c "echo $1 >/sys/class/net/peer0/queues/tx-0/xps_cpus &&
		echo $2 >/sys/class/net/peer0/queues/tx-1/xps_cpus"
}

# ---- record: 6 connections, about a second each (two xsk_stats per queue) ----
xps 1 2
start_recv --trace --max-conns 6 --cpus 0,1
where=$(recv_location)
[[ "$where" == /* ]] && TRACE_DIRS+=("$where")
VPID=$(sed -n 's/^offrx-recv: tracing to .* (session offrx-recv-\([0-9]*\)).*/\1/p' "$WORK/recv.err")
for cpu in 0 1; do
	peer taskset -c "$cpu" "$SEND" --quiet -p messages -c 100 -s 4K -i 10 --conns 3 \
		-S $((cpu * 100 + 1)) 10.77.0.1:5201 &
	SEND_PIDS+=($!)
done
finish_recording "$where"
check "offrx-recv recorded a trace of engine $VPID" \
	test -n "$VPID" -a -f "$TRACE/ust/uid/0/64-bit/metadata"
# XPS steers each sender's SYNs; the split is most often 3 and 3, but the test needs only both.
check "6 connections, on both queues (offrx-recv's own account: $(rj "sorted(c['queue'] for c in d['connections'])"))" \
	test "$(rj "len(d['connections']) == 6 and sorted(set(c['queue'] for c in d['connections'])) == [0, 1]")" = True
# id -> queue, as offrx-recv reports them
rj "'\n'.join('%d %d' % (c['id'], c['queue']) for c in sorted(d['connections'], key=lambda c: c['id']))" \
	>"$WORK/recv_queues.txt"

# ---- the events: babeltrace2's own reading of the trace ----
babeltrace2 "$TRACE" | grep -E "[{ ]vpid = $VPID[,}]" >"$WORK/bt.txt" || true
check "conn_open carries the queue: each connection's is the one offrx-recv reports" \
	test "$(python3 - "$WORK/bt.txt" <<'EOF'
import re, sys
opens = sorted((int(re.search(r'conn = (\d+)', l).group(1)), int(re.search(r'queue = (\d+)', l).group(1)))
               for l in open(sys.argv[1]) if 'offrx:conn_open' in l)
print('\n'.join('%d %d' % o for o in opens))
EOF
)" = "$(cat "$WORK/recv_queues.txt")"
xsk_queues() { # the queues of the xsk_stats whose thread_cpu_ns is not 0
	grep -F 'offrx:xsk_stats' "$WORK/bt.txt" | grep -v 'thread_cpu_ns = 0 ' |
		sed -n 's/.*queue = \([0-9]*\).*/\1/p' | sort -u | tr '\n' ' '
}
check "xsk_stats per queue, both queues, with the queue thread's CPU time ($(xsk_queues))" \
	test "$(xsk_queues)" = "0 1 "
check "conn_state carries the queue too" \
	grep -Eq 'offrx:conn_state.* queue = 1[, ]' "$WORK/bt.txt"

# ---- offrx-export: the summary's queues ----
"$EXPORT" -f summary -o "$WORK/summary.json" "$TRACE" 2>"$WORK/export.err"
check "summary: each connection's queue, and the queues' groups, as offrx-recv reports them" \
	test "$(python3 - "$WORK/summary.json" "$VPID" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = int(sys.argv[2])
conns = {c['id']: c['queue'] for c in d['connections'] if c['vpid'] == v}
groups = {q['queue']: sorted(q['conn_ids']) for q in d['queues'] if q['vpid'] == v and q['connections']}
ok = all(conns[i] == q for q, ids in groups.items() for i in ids) and \
    sum(len(ids) for ids in groups.values()) == len(conns)
print('\n'.join('%d %d' % (i, conns[i]) for i in sorted(conns)) if ok else 'groups %r' % groups)
EOF
)" = "$(cat "$WORK/recv_queues.txt")"
check "summary: both queues' xsk counters and engine thread CPU share" \
	test "$(python3 -c "
import json
d = json.load(open('$WORK/summary.json'))
print(sorted(q['queue'] for q in d['queues'] if q['vpid'] == $VPID and q['xsk'] and q['cpu_share'] is not None))")" = "[0, 1]"

CHECK_PY=$OFFRX_SRC/tests/exporters/check_export.py
SCHEMA=$OFFRX_SRC/exporters/schema
check "summary: validates against offrx-summary/1 (queues, each connection's queue)" \
	python3 "$CHECK_PY" schema "$SCHEMA/offrx-summary-1.schema.json" "$WORK/summary.json"
"$EXPORT" -f jsonl -o "$WORK/t.jsonl" "$TRACE" 2>>"$WORK/export.err"
check "jsonl: the events validate against offrx-events/1 (queue, thread_cpu_ns)" \
	python3 "$CHECK_PY" schema "$SCHEMA/offrx-events-1.schema.json" "$WORK/t.jsonl" --lines
check "jsonl: xsk_stats of queue 1 with the thread's CPU time" \
	grep -q '"event":"xsk_stats",.*"queue":1,"thread_cpu_ns":[1-9]' "$WORK/t.jsonl"

# ---- offrx-export: Perfetto and Chrome group the connections by queue ----
"$EXPORT" -f perfetto -o "$WORK/t.pftrace" "$TRACE" 2>>"$WORK/export.err"
python3 "$OFFRX_SRC/tests/exporters/check_perfetto.py" "$OFFRX_SRC/exporters/perfetto_trace.proto" \
	"$WORK/t.pftrace" >"$WORK/pf.json"
check "perfetto: each connection's track under its queue's track (queue N) under the engine's" \
	test "$(python3 - "$WORK/pf.json" "$VPID" <<'EOF2'
import json, re, sys
m = json.load(open(sys.argv[1]))
t = m['tracks']
out = []
for u, tr in t.items():
    g = re.match(r'conn (\d+):(\d+) ', tr['name'] or '')
    if not g or int(g.group(1)) != int(sys.argv[2]):
        continue
    q = t[str(tr['parent'])]
    ok = re.fullmatch(r'queue \d+', q['name'] or '') and t[str(q['parent'])]['pid'] == int(sys.argv[2])
    out.append((int(g.group(2)), int(q['name'].split()[1]) if ok else -1))
print('\n'.join('%d %d' % o for o in sorted(out)))
EOF2
)" = "$(cat "$WORK/recv_queues.txt")"
"$EXPORT" -f chrome -o "$WORK/t.json" "$TRACE" 2>>"$WORK/export.err"
check "chrome: a process per queue, each connection labelled with its queue and sorted after it" \
	test "$(python3 - "$WORK/t.json" "$VPID" <<'EOF2'
import json, re, sys
v = int(sys.argv[2])
ev = json.load(open(sys.argv[1]))['traceEvents']
name = {e['pid']: e['args']['name'] for e in ev if e.get('name') == 'process_name'}
label = {e['pid']: e['args']['labels'] for e in ev if e.get('name') == 'process_labels'}
sort = {e['pid']: e['args']['sort_index'] for e in ev if e.get('name') == 'process_sort_index'}
qsort = {int(re.match(r'queue (\d+) ', n).group(1)): sort[p] for p, n in name.items()
         if n.endswith('(vpid %d)' % v) and n.startswith('queue ')}
out = []
for p, n in name.items():
    g = re.match(r'conn (\d+):(\d+) ', n)
    if not g or int(g.group(1)) != v:
        continue
    q = int(label[p].split()[1])
    after = qsort[q] < sort[p] < min([s for s in qsort.values() if s > qsort[q]] + [1 << 62])
    out.append((int(g.group(2)), q if after else -1))
print('\n'.join('%d %d' % o for o in sorted(out)))
EOF2
)" = "$(cat "$WORK/recv_queues.txt")"

# ---- offrx-export --listen: per-queue series, labels vpid and queue ----
"$EXPORT" --listen 127.0.0.1:0 "$TRACE" 2>"$WORK/serve.err" &
PIDS+=($!)
wait_for 10 grep -q "serving the final metrics" "$WORK/serve.err" || cat "$WORK/serve.err"
where=$(sed -n 's|^offrx-export: serving metrics at \(http://[^ ]*/metrics\)$|\1|p' "$WORK/serve.err")
python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('$where').read().decode())" \
	>"$WORK/metrics.txt" 2>&1 || true
per_queue() { # per_queue FAMILY: the queues with a value above 0, e.g. "0 1 "
	sed -n "s/^$1{vpid=\"$VPID\",queue=\"\([0-9]*\)\"} \([0-9.]*\)$/\1 \2/p" "$WORK/metrics.txt" |
		awk '$2 > 0 { printf "%s ", $1 }'
}
for fam in offrx_queue_rx_frames_total offrx_queue_thread_cpu_seconds_total offrx_queue_completions_total; do
	check "metrics: $fam for both queues ($(per_queue $fam))" test "$(per_queue $fam)" = "0 1 "
done

# ---- offrx-view: the queue lines and q:1 ----
view_start --speed 0 --sort id --filter "pid:$VPID" "$TRACE"
check "the replay ends with the 6 connections shown" wait_screen "filter: pid:$VPID 6/6 shown" 15
queue_lines() { screen | grep -Eq '^ q0 +\[.*\] +conns ' && screen | grep -Eq '^ q1 +\[.*\] +conns '; }
check "the header has one line per queue: q0 and q1, each with its thread's CPU meter" \
	wait_for 5 queue_lines
keys / q : 1 Enter
n1=$(awk '$2 == 1' "$WORK/recv_queues.txt" | wc -l)
check "q:1 is in force: queue 1's $n1 of the 6 shown" wait_screen "filter: pid:$VPID q:1 $n1/6 shown"
# the rows: PID ID REMOTE LOCAL STATE RXQ ...
screen | awk -v p="$VPID" '$1 == p && $4 == "10.77.0.1:5201" { print $2, $6 }' | sort -n >"$WORK/q1_rows.txt"
check "... the rows are queue 1's connections, RXQ 1 ($(tr '\n' ' ' <"$WORK/q1_rows.txt"))" \
	test "$(cat "$WORK/q1_rows.txt")" = "$(awk '$2 == 1' "$WORK/recv_queues.txt")"
keys q
wait_exit 5 || true
finish
