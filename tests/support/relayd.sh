# shellcheck shell=bash
# A relay daemon of the test's own (sourced after tests/support/trace.sh, which kills what
# PIDS holds and destroys what SESSIONS holds at exit): three free ports picked at random
# ($P control, $P+1 data, $LIVE live), so the machine's relayd stays untouched; skips (77) when
# no three ports are free.
#   relayd_start: start it (again, after a kill) on those ports, writing under $WORK/relayd;
#     its pid in $RELAYD. Fails, showing its log, if its live port does not answer within
#     20 s (a loaded machine) or it exits first (a port taken since it was picked).
#   session_start NAME: a live session NAME (100 ms live timer) streaming offrx:* with vpid
#     to it, started.
port_free() { [[ -z "$(ss -Hltn "sport = :$1")" ]]; }
P=
for _ in $(seq 20); do
	p=$((20000 + RANDOM % 9000))
	if port_free "$p" && port_free $((p + 1)) && port_free $((p + 2)); then P=$p; break; fi
done
[[ -n "$P" ]] || { echo "skip: no three free ports"; exit 77; }
LIVE=$((P + 2))
RELAYD=
relayd_start() {
	lttng-relayd -C "tcp://127.0.0.1:$P" -D "tcp://127.0.0.1:$((P + 1))" -L "tcp://127.0.0.1:$LIVE" \
		-o "$WORK/relayd" >>"$WORK/relayd.log" 2>&1 &
	RELAYD=$!
	PIDS+=("$RELAYD")
	for _ in $(seq 400); do
		(exec 3<>"/dev/tcp/127.0.0.1/$LIVE") 2>/dev/null && return 0
		kill -0 "$RELAYD" 2>/dev/null || break
		sleep 0.05
	done
	echo "relayd_start: lttng-relayd (pid $RELAYD) does not listen on 127.0.0.1:$LIVE; its log:"
	tail -5 "$WORK/relayd.log" | sed 's/^/  | /'
	return 1
}
session_start() { # session_start NAME
	lttng create "$1" --live 100000 --set-url "net://127.0.0.1:$P:$((P + 1))" >/dev/null &&
		lttng enable-channel -u -s "$1" --buffers-uid offrx >/dev/null &&
		lttng enable-event -u -s "$1" -c offrx 'offrx:*' >/dev/null &&
		lttng add-context -u -s "$1" -c offrx -t vpid >/dev/null &&
		lttng start "$1" >/dev/null
}
