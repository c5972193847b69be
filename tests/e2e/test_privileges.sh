#!/usr/bin/env bash
# Least privilege (issue 9): once offrx-recv is receiving, its receiving thread holds exactly the
# documented set (nothing effective, an empty bounding set, no_new_privs, CAP_NET_ADMIN
# permitted for the teardown only, and CAP_SYS_ADMIN too when the program sits in libxdp's
# dispatcher); it still receives byte-exact; SIGTERM
# detaches its XDP program and it exits 0. Setup works with only the four documented
# capabilities, a setup without one of them fails cleanly, and --keep-caps keeps them all.
. "$(dirname "$0")/../support/e2e.sh"

CAP_NET_ADMIN=12
CAP_SYS_ADMIN=21
CAP_BPF=39
# Before Linux 6.5 every bpf() call, a map read on a held fd included, wants CAP_BPF: the
# engine then keeps CAP_BPF effective (offrx.h); from 6.5 on, nothing.
read -r kmaj kmin < <(uname -r | sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/')
if ((kmaj > 6 || (kmaj == 6 && kmin >= 5))); then
	want_eff=0
else
	want_eff=$((1 << CAP_BPF))
fi

status_field() { # status_field FILE NAME: the hex value as a decimal number
	local v
	v=$(awk -v k="$2:" '$1 == k { print $2 }' "$1")
	echo $((16#${v:-ff}))
}
xdp_on_eng0() { ip -n "$NS-eng" link show eng0 | grep -Eq 'xdp|prog/'; }

# 1. The receiving thread's capabilities once "receiving on" was printed.
start_recv
st=/proc/$RECV_PID/status
cp "$st" "$WORK/status" # kept as it was at this moment, for the messages below
# libxdp's dispatcher (where the kernel takes it) is detached through libxdp: CAP_SYS_ADMIN too
want_prm=$(((1 << CAP_NET_ADMIN) | want_eff)) kept=cap_net_admin
if ip -n "$NS-eng" link show eng0 | grep -q 'name xdp_dispatcher'; then
	want_prm=$((want_prm | (1 << CAP_SYS_ADMIN))) kept="cap_net_admin, cap_sys_admin"
fi
check "CapEff is $want_eff (was $(status_field "$WORK/status" CapEff))" \
	test "$(status_field "$WORK/status" CapEff)" -eq "$want_eff"
check "CapPrm is exactly $kept (was $(awk '/^CapPrm/ {print $2}' "$WORK/status"))" \
	test "$(status_field "$WORK/status" CapPrm)" -eq "$want_prm"
check "CapBnd is empty (was $(awk '/^CapBnd/ {print $2}' "$WORK/status"))" \
	test "$(status_field "$WORK/status" CapBnd)" -eq 0
check "CapInh and CapAmb are empty" \
	test "$(($(status_field "$WORK/status" CapInh) + $(status_field "$WORK/status" CapAmb)))" -eq 0
check "no_new_privs is set" grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$WORK/status"
check "it said what it dropped and kept" \
	grep -q "capabilities dropped: .*kept permitted only to detach the XDP program at exit: $kept\$" "$WORK/recv.err"
# Other threads (lttng-ust's listeners in a traced build) were started before main(): they
# keep theirs, and read only the session daemon's socket. Listed for the log.
for t in /proc/$RECV_PID/task/*; do
	[[ ${t##*/} == "$RECV_PID" ]] && continue
	echo "note: thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)) CapEff $(awk '/^CapEff/ {print $2}' "$t/status" 2>/dev/null)"
done

# 2. Still receives, byte-exact, with nothing effective.
peer "$SEND" --json --quiet -n 16M --conns 2 10.77.0.1:5201 >"$WORK/send.json"
# The FINs are in once the engine has acknowledged them: no sender socket is left in a state
# with data or a FIN unacknowledged.
unacked() { peer ss -Htn state established state syn-sent state fin-wait-1 state closing \
	state last-ack '( dport = :5201 )' | grep -q .; }
check "the engine acknowledged both streams and their FINs" wait_for 15 eval '! unacked'
check "the XDP program is attached while it runs" xdp_on_eng0

# 3. SIGTERM: clean exit, program detached.
kill -TERM "$RECV_PID"
rc=0
wait "$RECV_PID" || rc=$?
RECV_PID=
check "SIGTERM: exit status 0 ($rc)" test "$rc" -eq 0
check "2 streams of 16M byte-exact (SHA-256 both sides)" \
	test "$(send_shas "$WORK/send.json")" = "$(recv_shas)"
check "... and the receiver saw exactly 2" test "$(rj "len(d['connections'])")" = 2
check "SIGTERM: no XDP program left on eng0" eval '! xdp_on_eng0'
[[ $rc -eq 0 ]] || sed 's/^/  | /' "$WORK/recv.err"

# 4. The documented setup set is enough; without CAP_SYS_ADMIN setup fails cleanly.
limited() { # limited CAPS ARGS...: offrx-recv with only CAPS in its bounding (so permitted) set
	local caps=$1
	shift
	rm -f "$WORK/recv.err"
	ip netns exec "$NS-eng" setpriv --bounding-set "-all,$caps" --inh-caps -all \
		"$RECV" --iface eng0 --port 5201 --quiet "$@" 2>"$WORK/recv.err" &
	RECV_PID=$!
}
if command -v setpriv >/dev/null; then
	limited +net_admin,+net_raw,+sys_admin,+ipc_lock
	ok=
	for _ in $(seq 100); do
		grep -q "receiving on" "$WORK/recv.err" 2>/dev/null && { ok=1; break; }
		kill -0 "$RECV_PID" 2>/dev/null || break
		sleep 0.05
	done
	check "setup with only CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN, CAP_IPC_LOCK" test -n "$ok"
	[[ -n "$ok" ]] || sed 's/^/  | /' "$WORK/recv.err"
	kill -INT "$RECV_PID" 2>/dev/null
	rc=0
	wait "$RECV_PID" || rc=$?
	RECV_PID=
	check "... exits 0 on SIGINT ($rc) and detaches its program" \
		eval "test $rc -eq 0 && ! xdp_on_eng0"

	limited +net_admin,+net_raw,+bpf,+ipc_lock
	rc=0
	wait "$RECV_PID" || rc=$?
	RECV_PID=
	check "without CAP_SYS_ADMIN: refused with status 1 ($rc), not a crash" test "$rc" -eq 1
	check "... saying why" grep -q 'refused (EPERM)' "$WORK/recv.err"
	check "... and nothing left on eng0" eval '! xdp_on_eng0'
else
	echo "note: setpriv (util-linux) is missing: the limited-capability runs are skipped"
fi

# 5. --keep-caps opts out.
start_recv --keep-caps
cp "/proc/$RECV_PID/status" "$WORK/status"
check "--keep-caps: CapEff unchanged (not empty)" test "$(status_field "$WORK/status" CapEff)" -ne 0
check "--keep-caps: no 'capabilities dropped' line" eval '! grep -q "capabilities dropped" "$WORK/recv.err"'
kill -TERM "$RECV_PID"
rc=0
wait "$RECV_PID" || rc=$?
RECV_PID=
check "--keep-caps: exits 0 and detaches" eval "test $rc -eq 0 && ! xdp_on_eng0"

finish
