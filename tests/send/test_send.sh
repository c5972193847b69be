#!/usr/bin/env bash
# test_send: run offrx-send against a Python receiver on loopback. For every pattern, the SHA-256
# that offrx-send prints must equal sha256sum of what the receiver got; --json must parse; bad
# usage must exit 2, and a refused connection exit 1 with a message naming the address.
#
#   tests/send/test_send.sh PATH/TO/offrx-send
set -u

SEND=${1:?usage: test_send.sh PATH/TO/offrx-send}
if [ ! -x "$SEND" ]; then
	echo "test_send: '$SEND' is not an executable (build the offrx-send target first)" >&2
	exit 1
fi
for tool in python3 sha256sum timeout; do
	if ! command -v "$tool" >/dev/null; then
		echo "test_send: '$tool' is not installed (install it to run this test)" >&2
		exit 1
	fi
done

TMP=$(mktemp -d)
RPID=
cleanup()
{
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null
	rm -rf "$TMP"
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'cleanup'

failures=0
fail()
{
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}
pass()
{
	echo "ok:   $*"
}

# The receiver: listen on a free port (port 0), write it to PORTFILE, accept N connections and
# write connection i's bytes to PREFIX.i; a reset leaves PREFIX.i.rst. It gives up after 10 s.
RECEIVER='
import os, socket, sys, threading
addr, n, prefix, portfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.bind((addr, 0))
s.listen(64)
s.settimeout(10)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
def serve(c, i):
    c.settimeout(10)
    with open("%s.%d" % (prefix, i), "wb") as f:
        try:
            while True:
                d = c.recv(1 << 16)
                if not d:
                    break
                f.write(d)
        except ConnectionResetError:
            open("%s.%d.rst" % (prefix, i), "w").close()
threads = []
for i in range(n):
    c, _ = s.accept()
    t = threading.Thread(target=serve, args=(c, i))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
'

# start_receiver NAME CONNS [ADDR]: sets PORT; the received streams land in $TMP/NAME.i
start_receiver()
{
	local name=$1 conns=$2 addr=${3:-127.0.0.1}

	rm -f "$TMP/$name".* "$TMP/port"
	python3 -c "$RECEIVER" "$addr" "$conns" "$TMP/$name" "$TMP/port" &
	RPID=$!
	for _ in $(seq 100); do
		[ -s "$TMP/port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$TMP/port" 2>/dev/null)
	[ -n "$PORT" ]
}

stop_receiver()
{
	wait "$RPID"
	RPID=
}

# received_hashes NAME CONNS: sha256 of each stream the receiver got, in connection order
received_hashes()
{
	local i

	for i in $(seq 0 $(($2 - 1))); do
		sha256sum "$TMP/$1.$i" 2>/dev/null | cut -d' ' -f1
	done
}

# check_stream NAME CONNS EXPECTED_BYTES SENDER-ARGS...: send to a fresh receiver; the printed
# hashes must equal the received ones and, unless EXPECTED_BYTES is '-', each stream's length.
# Leaves the printed hashes in $TMP/NAME.sent.
check_stream()
{
	local name=$1 conns=$2 bytes=$3 rc
	shift 3

	if ! start_receiver "$name" "$conns"; then
		fail "$name: the receiver did not start"
		return
	fi
	timeout 15 "$SEND" "$@" "127.0.0.1:$PORT" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	stop_receiver
	if [ $rc -ne 0 ]; then
		fail "$name: offrx-send $* exited $rc: $(cat "$TMP/$name.err")"
		return
	fi
	awk '/^conn [0-9]+: sent / { print $NF }' "$TMP/$name.out" >"$TMP/$name.sent"
	received_hashes "$name" "$conns" >"$TMP/$name.got"
	if [ "$(wc -l <"$TMP/$name.sent")" -ne "$conns" ]; then
		fail "$name: expected $conns 'conn' lines, got: $(cat "$TMP/$name.out")"
	elif ! cmp -s "$TMP/$name.sent" "$TMP/$name.got"; then
		fail "$name: printed hashes differ from the received streams:" \
		     "$(paste "$TMP/$name.sent" "$TMP/$name.got")"
	elif [ "$bytes" != - ] && [ "$(stat -c %s "$TMP/$name.0")" -ne "$bytes" ]; then
		fail "$name: received $(stat -c %s "$TMP/$name.0") bytes, expected $bytes"
	else
		pass "$name"
	fi
}

# --- each pattern delivers the stream whose hash it prints ---

check_stream bulk_hash_matches_received 1 $((8 << 20)) -n 8M
check_stream messages_hash_matches_received 1 20000 -p messages -s 1000 -c 20 -i 5
check_stream trickle_hash_matches_received 1 2500 -p trickle -n 2500 -s 300 -i 5
check_stream trickle_small_mss_hash_matches 1 6000 -p trickle -s 100 -i 2 -c 60 --mss 1000
check_stream duration_cut_hash_matches_received 1 - -d 0.5 --msg-size 100K
check_stream conns_each_stream_matches 3 $((1 << 20)) -C 3 -n 1M -S 7
# Many connections on one thread: churn (open, send, FIN, at a rate) and hold (a trickle on each).
check_stream churn_each_stream_matches 20 4096 -p churn --rate 200 -c 20
check_stream hold_each_stream_matches 20 5000 -p hold -C 20 -i 20 -c 10 --msg-size 500

# The stream does not depend on how it is cut into writes.
check_stream bulk_same_seed_as_trickle 1 2500 -n 2500
if cmp -s "$TMP/bulk_same_seed_as_trickle.sent" "$TMP/trickle_hash_matches_received.sent"; then
	pass "same_seed_same_stream_in_every_pattern"
else
	fail "same_seed_same_stream_in_every_pattern: bulk and trickle of 2500 bytes differ"
fi

# --linger --rst: the whole stream is acknowledged, then the receiver sees a reset.
check_stream rst_after_linger_delivers_all 1 $((2 << 20)) -n 2M --linger --rst
if [ -e "$TMP/rst_after_linger_delivers_all.0.rst" ]; then
	pass "rst_closes_with_reset"
else
	fail "rst_closes_with_reset: the receiver saw a FIN, not a reset"
fi

# --- IPv6, when loopback has it ---

if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	if start_receiver ipv6 1 ::1; then
		timeout 15 "$SEND" -p messages -c 5 -i 1 "[::1]:$PORT" >"$TMP/ipv6.out" 2>&1
		rc=$?
		stop_receiver
		if [ $rc -eq 0 ] && [ "$(awk '{ print $NF }' "$TMP/ipv6.out")" = \
			"$(received_hashes ipv6 1)" ]; then
			pass "ipv6_hash_matches_received"
		else
			fail "ipv6_hash_matches_received: exit $rc: $(cat "$TMP/ipv6.out")"
		fi
	else
		fail "ipv6: the receiver did not start"
	fi
else
	echo "skip: ipv6 (no ::1 on this host)"
fi

# --- --json: one valid object per line, and the hashes match ---

if start_receiver json 2; then
	timeout 15 "$SEND" --json -C 2 -p messages -s 512 -c 10 -i 1 "127.0.0.1:$PORT" \
		>"$TMP/json.out" 2>"$TMP/json.err"
	rc=$?
	stop_receiver
	bad=0
	while IFS= read -r line; do
		printf '%s\n' "$line" | python3 -m json.tool >/dev/null 2>&1 || bad=1
	done <"$TMP/json.out"
	python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
conns = [r for r in rows if "conn" in r]
total = rows[-1]
assert len(conns) == 2 and total.get("total") is True, rows
assert total["bytes"] == sum(r["bytes"] for r in conns) == 2 * 5120, rows
assert all(r["error"] is None for r in conns), rows
print("\n".join(r["sha256"] for r in conns))
' "$TMP/json.out" >"$TMP/json.sent" 2>"$TMP/json.check" || bad=1
	if [ $rc -ne 0 ] || [ $bad -ne 0 ]; then
		fail "json_lines_parse: exit $rc: $(cat "$TMP/json.out" "$TMP/json.err" \
			"$TMP/json.check")"
	elif [ "$(cat "$TMP/json.sent")" != "$(received_hashes json 2)" ]; then
		fail "json_hashes_match_received: $(cat "$TMP/json.sent")"
	else
		pass "json_lines_parse_and_hashes_match"
	fi
else
	fail "json: the receiver did not start"
fi

# --- errors ---

# expect_usage NAME ARGS...: exit 2, with a message on stderr and nothing sent
expect_usage()
{
	local name=$1 rc
	shift

	timeout 5 "$SEND" "$@" >"$TMP/usage.out" 2>"$TMP/usage.err"
	rc=$?
	if [ $rc -ne 2 ]; then
		fail "usage_$name: offrx-send $* exited $rc, expected 2"
	elif ! grep -q '^offrx-send: ' "$TMP/usage.err"; then
		fail "usage_$name: no 'offrx-send:' message on stderr: $(cat "$TMP/usage.err")"
	else
		pass "usage_$name exits 2: $(head -1 "$TMP/usage.err")"
	fi
}

expect_usage no_target
expect_usage two_targets 127.0.0.1:1 127.0.0.1:2
expect_usage no_port 127.0.0.1
expect_usage bad_port 127.0.0.1:70000
expect_usage unbracketed_ipv6 ::1:5201
expect_usage unknown_pattern -p flood 127.0.0.1:1
expect_usage bad_size_suffix -n 12X 127.0.0.1:1
expect_usage count_with_bulk -c 5 127.0.0.1:1
expect_usage count_and_bytes -p messages -c 5 -n 1K 127.0.0.1:1
expect_usage mss_out_of_range --mss 40000 127.0.0.1:1
expect_usage zero_conns -C 0 127.0.0.1:1
expect_usage negative_duration -d -1 127.0.0.1:1
expect_usage rate_without_churn --rate 10 127.0.0.1:1
expect_usage churn_without_end -p churn 127.0.0.1:1
expect_usage threads_over_1024 -C 2000 127.0.0.1:1
expect_usage hold_with_bytes -p hold -n 1M 127.0.0.1:1
expect_usage unknown_option --frobnicate 127.0.0.1:1
expect_usage bind_family_mismatch --bind 127.0.0.1 '[::1]:1'

# A port nobody listens on: take a free one and close it again.
FREE=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
timeout 15 "$SEND" "127.0.0.1:$FREE" >"$TMP/refused.out" 2>"$TMP/refused.err"
rc=$?
if [ $rc -ne 1 ]; then
	fail "refused_exits_1: exited $rc: $(cat "$TMP/refused.err")"
elif ! grep -q "connect to 127.0.0.1:$FREE: Connection refused" "$TMP/refused.err"; then
	fail "refused_names_address: $(cat "$TMP/refused.err")"
else
	pass "refused_exits_1: $(cat "$TMP/refused.err")"
fi

if [ $failures -ne 0 ]; then
	echo "test_send: $failures check(s) failed" >&2
	exit 1
fi
echo "test_send: all checks passed"
