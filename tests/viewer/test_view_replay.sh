#!/usr/bin/env bash
# offrx-view on a trace recorded here (offrx-recv --trace: bulk, messages and an MSG_MORE
# trickle at once, push timer 100 ms): --batch agrees line by line with offrx-recv's own JSON;
# driven through tmux, the list shows the connections and their queues, Enter the queue boxes,
# sorting, filtering, pause, stepping, help, export and resizing work, and q exits cleanly.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/viewer/lib_view.sh"

record_three
[[ -n "${OFFRX_KEEP:-}" ]] && cp "$WORK/recv.json" /tmp/view_recv.json
check "offrx-recv recorded a trace" test -f "$TRACE/ust/uid/0/64-bit/metadata"
bt_events=$(babeltrace2 "$TRACE" | wc -l)

# ---- --batch against offrx-recv's JSON ----
vpid=$VPID
F="--filter pid:$vpid"
rc=0
"$VIEW" --batch --speed 0 --sort id $F "$TRACE" >"$WORK/batch.txt" 2>"$WORK/batch.err" || rc=$?
check "--batch replays the whole trace and exits 0 ($rc)" test "$rc" -eq 0
check "... in one final snapshot" \
	test "$(grep -c '^offrx-view snapshot=' "$WORK/batch.txt")" -eq 1 -a \
	"$(grep -c '^offrx-view snapshot=1 .* final=yes$' "$WORK/batch.txt")" -eq 1
check "the source line: a replay that ended" \
	grep -q "^source where=$TRACE kind=replay state=ended paused=no speed=0 trace_time=+" "$WORK/batch.txt"
total=$(sed -n 's/^events total=\([0-9]*\) .*/\1/p' "$WORK/batch.txt")
check "events: babeltrace2's $bt_events, plus the reader's end-of-trace note ($total)" \
	test "$((total - bt_events))" -ge 0 -a "$((total - bt_events))" -le 1
check "no event discarded" grep -q '^events .* discarded=0 discarded_packets=0 ' "$WORK/batch.txt"
check "three connections of offrx-recv (pid $vpid) shown, all closed" \
	grep -Eq '^conns total=[0-9]+ open=[0-9]+ closed=[0-9]+ evicted=0 shown=3$' "$WORK/batch.txt"
if grep -q '^conns total=3 ' "$WORK/batch.txt"; then
	# the trace holds this engine alone: the totals are its own
	check "... and no other: 3 closed" grep -q '^conns total=3 open=0 closed=3 ' "$WORK/batch.txt"
	json_bytes=$(rj "d['bytes']")
	check "bytes placed: offrx-recv's $json_bytes" grep -q "^bytes placed=$json_bytes " "$WORK/batch.txt"
	for reason in $("$OFFRX_SRC/tests/support/names.py" complete_reason); do
		want=$(rj "sum(c['completed_by']['$reason'] for c in d['connections'])")
		check "completions by $reason: offrx-recv's $want" \
			grep -Eq "^completions total=[0-9]+ per_s=[0-9.]+ .*\\b$reason=$want\\b" "$WORK/batch.txt"
	done
else
	echo "note: other engines ran during the recording: the header totals are not compared"
fi
check "the table: 3 rows, then the column line" \
	grep -A1 -q '^table rows=3 sort=ID$' "$WORK/batch.txt"
check "... columns named as documented" \
	grep -qx 'PID ID REMOTE LOCAL STATE RXQ Q HEAD MODE TIMER POSTED DONE IND RATE P50 P99 TIMER% FLAGS' "$WORK/batch.txt"
sed -n '/^PID ID /,/^queue /p' "$WORK/batch.txt" | sed '1d;$d' >"$WORK/rows.txt"
[[ -n "${OFFRX_KEEP:-}" ]] && cp "$WORK/rows.txt" /tmp/view_rows.txt
check "every row has 18 fields" awk 'NF != 18 { bad = 1 } END { exit bad }' "$WORK/rows.txt"
trickle_id=
for i in 0 1 2; do
	id=$(rj "d['connections'][$i]['id']")
	remote=$(rj "d['connections'][$i]['remote']")
	local_=$(rj "d['connections'][$i]['local']")
	done_=$(rj "d['connections'][$i]['completed']")
	timer=$(rj "d['connections'][$i]['completed_by']['push_timer']")
	check "conn $id: one row, $remote > $local_, closed, $done_ completions" \
		test "$(awk -v p="$vpid" -v i="$id" -v r="$remote" -v l="$local_" -v d="$done_" \
			'$1 == p && $2 == i && $3 == r && $4 == l && $5 == "closed" && $12 == d' \
			"$WORK/rows.txt" | wc -l)" -eq 1
	if [[ "$timer" -gt 0 ]]; then
		trickle_id=$id
		trickle_remote=$remote
		check "conn $id (the trickle) is flagged timer-bound" \
			test "$(awk -v i="$id" '$2 == i && $18 == "timer-bound"' "$WORK/rows.txt" | wc -l)" -eq 1
	else
		check "conn $id is not timer-bound" \
			test "$(awk -v i="$id" '$2 == i && $18 == "-"' "$WORK/rows.txt" | wc -l)" -eq 1
	fi
done
check "the trickle connection was found (push_timer completions in the JSON)" test -n "$trickle_id"
check "the busiest connection's queue follows" grep -Eq '^queue pid=[0-9]+ id=[0-9]+ depth=0 shown=0$' "$WORK/batch.txt"
check "the snapshot ends with 'end'" test "$(tail -1 "$WORK/batch.txt")" = end

# --to, and a mid-trace time when all three connections are open with their queues
rc=0
"$VIEW" --batch --speed 0 --to 100ms $F "$TRACE" >"$WORK/to.txt" 2>&1 || rc=$?
to_total=$(sed -n 's/^events total=\([0-9]*\) .*/\1/p' "$WORK/to.txt")
check "--to 100ms stops the replay there (trace_time=+0.100s, $to_total of $total events)" \
	test "$rc" -eq 0 -a -n "$(grep 'trace_time=+0.100s' "$WORK/to.txt")"
check "... with fewer events" test "${to_total:-0}" -lt "$total" -a "${to_total:-0}" -gt 0
# The time to look at comes from the trace itself (offrx-export's jsonl; offsets in whole ms
# from its first event, which is where the viewer's --to counts from): the queues rebuilt from
# posts and completions, our three connections open and each with its 4 requests. An instant
# picked from opens and disconnects alone can fall in the microseconds between a completion
# and its re-post, so every whole ms is judged, with the events up to it (<= and <, as
# either cutoff must agree), and the middle of the longest run of good ones is taken.
mid=$("$BIN/exporters/offrx-export" -f jsonl "$TRACE" 2>/dev/null | python3 -c "
import json, sys
start, evs = None, []
last = None
for line in sys.stdin:
    e = json.loads(line)
    if 'ts_ns' not in e:
        continue
    if start is None:
        start = e['ts_ns']
    last = e['ts_ns']
    if e.get('vpid') == $vpid and e['event'] in ('conn_open', 'conn_close', 'post', 'complete'):
        evs.append((e['ts_ns'], e['event'], e['conn']))
def good(depth, live):
    return len(live) == 3 and all(depth.get(c) == 4 for c in live)
depth, live, i, run, best = {}, set(), 0, [], []
last_ms = (evs[-1][0] - start) // 1000000 + 1 if evs else 0
for ms in range(last_ms):
    cut = start + ms * 1000000
    ok_before = None
    while i < len(evs) and evs[i][0] <= cut:
        if evs[i][0] == cut and ok_before is None:
            ok_before = good(depth, live)
        ts, kind, c = evs[i]
        if kind == 'conn_open':
            live.add(c); depth[c] = 0
        elif kind == 'conn_close':
            live.discard(c)
        elif kind == 'post':
            depth[c] = depth.get(c, 0) + 1
        else:
            depth[c] = depth.get(c, 0) - 1
        i += 1
    ok = good(depth, live) and ok_before is not False
    run = run + [ms] if ok else []
    if len(run) > len(best):
        best = run
if best:
    print(best[len(best) // 2], (last - start) // 1000000)
else:
    print('no whole ms with all three open at depth 4', file=sys.stderr)
")
read -r mid end_ms <<<"$mid"
check "the trace has a time when all three connections are open (+${mid:-?}ms)" test -n "$mid"
# Right moves a paused replay 1 s on, but never past the trace's end: the test needs that second.
check "... and the trace runs over 1 s past it (to +${end_ms:-?}ms)" \
	test "${end_ms:-0}" -gt $((${mid:-0} + 1100))
"$VIEW" --batch --speed 0 --to "${mid:-0}ms" --sort id $F "$TRACE" >"$WORK/mid.txt" 2>/dev/null || true
check "at +${mid:-?}ms the view shows all three open with 4 requests queued (--depth 4)" \
	bash -c "grep -q '^table rows=3 ' '$WORK/mid.txt' &&
		[[ \$(awk '\$5 == \"open\" && \$7 == 4' '$WORK/mid.txt' | wc -l) -eq 3 ]]"
mid=${mid:-50}
# The header's trace time as offrx-view prints it (+S.mmms), at mid and 1 s later.
at_mid=$(printf '%d\\.%03d' $((mid / 1000)) $((mid % 1000)))
at_mid1=$(printf '%d\\.%03d' $((mid / 1000 + 1)) $((mid % 1000)))
check "... and the busiest one's queue is listed request by request" \
	test "$(grep -c '^req id=[0-9]* len=65536 fill=[0-9]* mode=push timer_ms=' "$WORK/mid.txt")" -eq 4

rc=0
"$VIEW" --batch --interval 200 --iterations 3 $F "$TRACE" >"$WORK/iter.txt" 2>&1 || rc=$?
check "--interval 200 --iterations 3: three snapshots at trace speed" \
	test "$rc" -eq 0 -a "$(grep -c '^offrx-view snapshot=' "$WORK/iter.txt")" -eq 3
check "... the first while replaying" grep -q '^source .* state=replay paused=no speed=1 ' "$WORK/iter.txt"

# errors: clear messages and status 1
rc=0
"$VIEW" --batch "$WORK/nonexistent" >/dev/null 2>"$WORK/err1.txt" || rc=$?
check "a missing directory: status 1 ($rc) and a message" \
	test "$rc" -eq 1 -a -n "$(grep 'nonexistent: No such file or directory' "$WORK/err1.txt")"
mkdir -p "$WORK/empty"
rc=0
"$VIEW" --batch "$WORK/empty" >/dev/null 2>"$WORK/err2.txt" || rc=$?
check "a directory with no trace: status 1 ($rc) and 'no CTF trace'" \
	test "$rc" -eq 1 -a -n "$(grep 'no CTF trace' "$WORK/err2.txt")"
cp -r "$TRACE" "$WORK/bad"
# The largest stream file, which the damage at 70,000..73,000 must fall inside.
stream=$(find "$WORK/bad" -name 'offrx_*' -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
check "the trace has a stream file of over 100 KiB to damage ($(stat -c %s "$stream" 2>/dev/null || echo none) bytes)" \
	test "$(stat -c %s "$stream" 2>/dev/null || echo 0)" -gt 102400
dd if=/dev/urandom of="$stream" bs=1 seek=70000 count=3000 conv=notrunc 2>/dev/null
rc=0
"$VIEW" --batch --speed 0 "$WORK/bad" >"$WORK/bad.txt" 2>"$WORK/err3.txt" || rc=$?
check "a corrupt trace: status 1 ($rc), 'cannot read on', state=error" \
	test "$rc" -eq 1 -a -n "$(grep 'cannot read on' "$WORK/err3.txt")" -a \
	-n "$(grep 'state=error' "$WORK/bad.txt")"
rc=0
"$VIEW" --speed fast "$TRACE" >/dev/null 2>&1 || rc=$?
check "bad usage: status 2" test "$rc" -eq 2

# ---- on screen, through tmux ----
view_start --paused --speed 0 --from ${mid}ms --sort id --export-dir "$WORK" $F "$TRACE"
check "the screen comes up paused at +${mid}ms" wait_screen "replay max, paused\\] .*trace time \\+${at_mid}s"
screen >"$WORK/s1.txt"
for i in 0 1 2; do
	remote=$(rj "d['connections'][$i]['remote']")
	check "the list shows $remote, open, with 4 queued" \
		grep -Eq "^ +$vpid +[0-9]+ +$remote +10\\.77\\.0\\.1:5201 +open +0 +4 " "$WORK/s1.txt"
done
failed_before=$FAILED
check "... and the header: events, conns, bytes, completions, discarded" \
	grep -Eq 'events .*conns [0-9]+ \([0-9]+ open\).*bytes .*discarded 0' "$WORK/s1.txt"
check "... completions per second by reason" grep -Eq 'completions .*filled .*psh .*push_timer ' "$WORK/s1.txt"
[[ $FAILED -gt $failed_before ]] && sed 's/^/  | /' "$WORK/s1.txt"
keys Enter
check "Enter: the head connection's queue as boxes" wait_screen 'Queue \(4 posted'
failed_before=$FAILED
# The background replay reaches a verdict: half and double the 100 ms timer, or (when a busy
# connection pushed this one's posts out of the shared history) why it cannot. The numbers
# come from the replay core offrx-export --what-if uses; tests/whatif checks them.
check "... the what-if line: half and double the 100 ms push timer, replayed in the background" \
	wait_screen 'what if(, last [^(]+\([0-9]+ completions[^)]*\): timer 50ms: push-timer [0-9]+%, lf p99 [^,]+, post p99 [^ ]+ \| timer 200ms: push-timer [0-9]+%| not enough recent history to replay)' 20
[[ $FAILED -gt $failed_before ]] && screen | grep -E 'what if|conn [0-9]+ \(pid' | sed 's/^/  | /'
screen >"$WORK/s2.txt"
check "... four of them" test "$(grep -o '┌ req [0-9]*' "$WORK/s2.txt" | wc -l)" -eq 4
check "... with their mode" test "$(grep -o '│push' "$WORK/s2.txt" | wc -l)" -eq 4
check "... recent completions and the latency by reason" \
	grep -q 'Recent completions' "$WORK/s2.txt" -a -n "$(grep 'Latency post>complete' "$WORK/s2.txt")"
keys Escape
check "Esc: back to the list" wait_screen 'PID +ID▼ +REMOTE'
keys '>'
check "'>' sorts on the next column (REMOTE)" wait_screen 'ID +REMOTE▼'
keys I
check "I inverts it" wait_screen 'REMOTE▲'
screen | grep -Eo '10\.77\.0\.2:[0-9]+' >"$WORK/order.txt"
check "... the remote ports now descend" bash -c "sort -t: -k2 -rn '$WORK/order.txt' | cmp -s - '$WORK/order.txt'"
keys '<'
check "'<' goes back to ID" wait_screen 'ID▲ +REMOTE'
trickle_port=${trickle_remote##*:}
keys / C-u $trickle_port Enter
check "filter by port $trickle_port: one row" \
	wait_screen "filter: $trickle_port 1/[0-9]+ shown"
check "... the trickle's" bash -c "tmux capture-pane -p -t $TMUX_SESSION | grep -q '$trickle_remote'"
keys / C-u p i d : $vpid Enter
keys '?'
check "? shows the help" wait_screen 'Press any key to close'
keys x
check "any key closes it" wait_screen_gone 'Press any key'
before=$(screen | sed -n 1p)
failed_before=$FAILED
keys Right
check "Right moves the paused replay clock 1 s on" wait_screen "paused\\] .*trace time \\+${at_mid1}s"
keys Left
check "Left moves it back (replaying from the start)" wait_screen "paused\\] .*trace time \\+${at_mid}s"
[[ $FAILED -gt $failed_before ]] && printf '  | before Right: %s\n  | now: %s\n' "$before" "$(screen | sed -n 1p)"
keys e
check "e exports what is on screen" wait_screen 'exported [0-9]+ completions of 3 connections to '
[[ -z "$(screen | grep exported)" ]] && screen | sed 's/^/  | /'
export=$(screen | sed -n 's/.*exported [0-9]* completions of 3 connections to \([^ ]*\.json\).*/\1/p')
check "... as Chrome trace JSON ($export)" \
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert any(e['ph']=='X' for e in d['traceEvents'])" "$export"
rm -f "$export"
tmux resize-window -t "$TMUX_SESSION" -x 40 -y 10
check "a tiny terminal: 'terminal too small'" wait_screen 'terminal too small'
tmux resize-window -t "$TMUX_SESSION" -x 160 -y 50
check "back to 160x50: the screen again" wait_screen 'offrx-view \[replay'
keys q
check "q quits with status 0" wait_exit 5
check "... status ${VIEW_RC:-none}" test "${VIEW_RC:-1}" -eq 0
check "... and nothing on stderr" test ! -s "$WORK/view.err"

# The whole trace, then the timer-bound filter; pause at trace speed freezes the screen.
view_start --speed 0 --sort id $F "$TRACE"
check "replayed to the end" wait_screen 'offrx-view \[ended\]'
keys / ' ' t i m e r Enter
check "filter 'timer': only the trickle ($trickle_remote)" wait_screen "filter: pid:$vpid timer 1/[0-9]+ shown"
check "... its row" bash -c "tmux capture-pane -p -t $TMUX_SESSION | grep -q '$trickle_remote'"
keys q
wait_exit 5 || true
rm -f "$WORK/view.exit"
view_start --speed 0.5 --no-color $F "$TRACE"
wait_screen 'replay x0.5' || true
keys p
check "p pauses" wait_screen 'replay x0\.5, paused'
sleep 0.3
screen >"$WORK/p1.txt"
sleep 1.2
screen >"$WORK/p2.txt"
check "pause freezes the screen (two captures 1.2 s apart are equal)" cmp -s "$WORK/p1.txt" "$WORK/p2.txt"
check "--no-color: no colour on screen" bash -c "! tmux capture-pane -e -p -t $TMUX_SESSION | grep -q $'\e\\[3[0-7]'"
keys p
check "p again resumes" wait_screen 'replay x0\.5\]|\[ended\]'
keys q
check "q quits" wait_exit 5
finish
