#!/usr/bin/env bash
# The API samples do what their comments say, on the wire: offrx-minimal prints each
# completion, offrx-indicate accounts for every byte across offers, posted requests and the
# disconnect, offrx-layer's layer sees exactly what the application gets.
. "$(dirname "$0")/../support/e2e.sh"

run_sample() { # run_sample NAME ARGS... ; the sender command follows in $SENDER
	local name=$1; shift
	ip netns exec "$NS-eng" "$BIN/samples/offrx-$name" eng0 5201 "$@" >"$WORK/$name.out" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		grep -q "receiving on" "$WORK/$name.out" 2>/dev/null && break # engine ready
		sleep 0.05
	done
	eval "$SENDER"
	sleep 0.5
	kill -INT "$pid"
	wait "$pid" || true
}

SENDER='peer "$SEND" --quiet -p messages -s 700 -i 30 -c 3 10.77.0.1:5201'
run_sample minimal
check "offrx-minimal: three messages, three completions of 700 bytes" \
	test "$(grep -c 'SUCCESS, 700 bytes' "$WORK/minimal.out")" = 3
check "offrx-minimal: the close is reported" grep -q 'peer closed after 2100 bytes' "$WORK/minimal.out"

SENDER='peer "$SEND" --quiet -n 300K 10.77.0.1:5201'
run_sample indicate 1000
line=$(grep 'closed;' "$WORK/indicate.out" || true)
sum=$(echo "$line" | sed -n 's/.* \([0-9]*\) bytes received = \([0-9]*\) taken from offers + \([0-9]*\) through posted requests + \([0-9]*\) handed back.*/\1 \2 \3 \4/p')
read -r got took via back <<<"${sum:-0 1 1 1}"
check "offrx-indicate: every byte counted once ($got = $took + $via + $back)" \
	test "$got" -eq $((took + via + back))
check "offrx-indicate: all 300 KiB arrived" test "$got" -eq 307200
check "offrx-indicate: refused bytes went into a posted request (R21)" \
	grep -q 'a posted request got' "$WORK/indicate.out"

SENDER='peer "$SEND" --quiet -n 1M 10.77.0.1:5201'
run_sample layer
check "offrx-layer: the layer and the application saw the same 1 MiB" \
	grep -q 'completions, 1048576 bytes; the application got 1048576 bytes' "$WORK/layer.out"
finish
