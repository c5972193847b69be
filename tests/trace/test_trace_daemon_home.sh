#!/usr/bin/env bash
# 'ip netns exec NS offrx-recv --trace-live' with no session daemon running starts
# lttng-sessiond and lttng-relayd in the network namespace of the program that started it (the
# user's shell), not in NS: the relay daemon stays reachable at net://localhost from the host,
# also after NS is removed. Runs in a private mount and network namespace (its own /run/lttng,
# /dev/shm and loopback), so the machine's daemons are neither seen nor touched.
set -uo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
if [[ $(id -u) -ne 0 ]]; then
	echo "skip: needs root (namespaces, XDP, LTTng daemons)"
	exit 77
fi
for t in unshare lttng-sessiond lttng-relayd; do
	command -v "$t" >/dev/null || { echo "skip: $t missing"; exit 77; }
done

if [[ "${1:-}" != --inner ]]; then
	exec unshare -m -n --propagation private "$0" --inner
fi

# ---- inside the private namespaces ----
. "$SRC/tests/support/checks.sh"
CHECK_OUT=/dev/null
WORK=$(mktemp -d /tmp/offrx-daemon-home.XXXXXX)
NS=odh$$
# The daemons started in here: those not running when the test began ('ip netns exec' gives
# its program a mount namespace of its own, so they cannot be told apart by that).
BEFORE=" $(pgrep -x 'lttng-(sessiond|relayd|consumerd)' | tr '\n' ' ') "
ours() {
	local p
	for p in $(pgrep -x "$1"); do
		[[ $BEFORE == *" $p "* ]] || echo "$p"
	done
}
cleanup() {
	kill $(ours lttng-relayd) $(ours lttng-sessiond) $(ours lttng-consumerd) 2>/dev/null
	"$SRC/scripts/netns" down --name "$NS" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'cleanup'
ip link set lo up
mkdir -p /run/lttng
mount -t tmpfs offrx-test /run/lttng
mount -t tmpfs offrx-test /dev/shm
export HOME=$WORK/home LTTNG_HOME=$WORK/home
mkdir -p "$HOME"
check "no session daemon answers in here" eval '! lttng list'

"$SRC/scripts/netns" up --name "$NS" >/dev/null
ip netns exec "$NS-eng" "$BIN/samples/offrx-recv" --iface eng0 --port 5201 --trace-live \
	--max-conns 1 --json >"$WORK/recv.json" 2>"$WORK/recv.err" &
rp=$!
for _ in $(seq 100); do
	grep -q 'receiving on' "$WORK/recv.err" && break
	sleep 0.1
done
here=$(readlink /proc/self/ns/net)
sd=$(ours lttng-sessiond | head -1)
rd=$(ours lttng-relayd | head -1)
check "offrx-recv started a session daemon ($sd) and a relay daemon ($rd)" test -n "$sd" -a -n "$rd"
check "lttng-sessiond runs in the shell's namespace ($here), not $NS-eng's" \
	test -n "$sd" -a "$(readlink "/proc/$sd/ns/net" 2>/dev/null)" = "$here"
check "lttng-relayd too" test -n "$rd" -a "$(readlink "/proc/$rd/ns/net" 2>/dev/null)" = "$here"
check "babeltrace2 here lists the live session offrx-recv-$rp" \
	bash -c "babeltrace2 --input-format=lttng-live net://localhost | grep -q offrx-recv-$rp"
ip netns exec "$NS-peer" "$BIN/samples/send/offrx-send" -n 100K 10.77.0.1:5201 >"$WORK/send.out" 2>&1
wait "$rp"
rc=$?
check "offrx-recv --trace-live ran in $NS-eng and exited 0 ($rc)" test "$rc" -eq 0
"$SRC/scripts/netns" down --name "$NS" >/dev/null
check "with $NS removed, the relay daemon still accepts live viewers on 127.0.0.1:5344" \
	bash -c 'exec 3<>/dev/tcp/127.0.0.1/5344'
[[ $FAILED -eq 0 ]] || sed 's/^/  | /' "$WORK/recv.err"
finish
