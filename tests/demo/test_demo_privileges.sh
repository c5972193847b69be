#!/usr/bin/env bash
# Least privilege in offrx-demo (issue 9): the engine runs on its own thread, and that thread
# alone drops its capabilities once the XDP program is attached (nothing effective, an empty
# bounding set, CAP_NET_ADMIN permitted for the detach at the end, and CAP_SYS_ADMIN when the
# program sits in libxdp's dispatcher), while the
# main thread keeps what namespace and session teardown need. The run stays byte-exact and
# leaves nothing behind.
. "$OFFRX_SRC/tests/demo/lib.sh"
need_root_tools
PREFIX=odp$$
daemons_before
read -r kmaj kmin < <(uname -r | sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/')
want_eff=0 # before Linux 6.5, CAP_BPF stays effective (offrx.h)
((kmaj > 6 || (kmaj == 6 && kmin >= 5))) || want_eff=$((1 << 39))
want_prm=$(((1 << 12) | want_eff))
hexval() { awk -v k="$2:" '$1 == k { print $2 }' "$1"; }

"$DEMO" --headless --duration 6 --scenario chat --record "$WORK/trace" --name "$PREFIX" \
	--json "$WORK/report.json" >"$WORK/out.txt" 2>"$WORK/err.txt" &
pid=$!
DEMO_PIDS+=("$pid")
TRACES+=("$WORK/trace")
# The engine thread is the one in the engine namespace.
eng_tid= prog=
if wait_line "$WORK/err.txt" 'senders running' 20; then
	main_ns=$(readlink "/proc/$pid/ns/net")
	for t in /proc/"$pid"/task/*; do
		[[ "$(readlink "$t/ns/net" 2>/dev/null)" != "$main_ns" ]] || continue
		eng_tid=${t##*/}
		cp "$t/status" "$WORK/eng.status"
		cp "/proc/$pid/status" "$WORK/main.status"
		break
	done
	prog=$(xdp_prog_id "$PREFIX")
	if ip -n "$PREFIX-eng" link show eng0 | grep -q 'name xdp_dispatcher'; then
		want_prm=$((want_prm | (1 << 21))) # libxdp detaches its dispatcher: CAP_SYS_ADMIN
	fi
fi
check "the engine thread is found in $PREFIX-eng (tid ${eng_tid:-none})" test -n "$eng_tid"
if [[ -n "$eng_tid" ]]; then
	check "engine thread: CapEff $(hexval "$WORK/eng.status" CapEff) is $want_eff" \
		test $((16#$(hexval "$WORK/eng.status" CapEff))) -eq "$want_eff"
	check "engine thread: CapPrm $(hexval "$WORK/eng.status" CapPrm) is $(printf %016x "$want_prm")" \
		test $((16#$(hexval "$WORK/eng.status" CapPrm))) -eq "$want_prm"
	check "engine thread: CapBnd empty, no_new_privs" \
		eval "test $((16#$(hexval "$WORK/eng.status" CapBnd))) -eq 0 && grep -Eq '^NoNewPrivs:[[:space:]]+1$' '$WORK/eng.status'"
	check "main thread: keeps CAP_SYS_ADMIN for the namespaces ($(hexval "$WORK/main.status" CapEff))" \
		test $(((16#$(hexval "$WORK/main.status" CapEff) >> 21) & 1)) -eq 1
fi
rc=0
wait "$pid" || rc=$?
check "offrx-demo exits 0 ($rc): every connection byte-exact" test "$rc" -eq 0
[[ $rc -eq 0 ]] || sed 's/^/  | /' "$WORK/err.txt" "$WORK/out.txt" | tail -30
check "it said what the engine thread dropped" grep -q 'engine info: capabilities dropped: ' "$WORK/err.txt"
if [[ -x "$EXPORT" ]]; then
	vrc=0
	"$EXPORT" --verify --vpid "$pid" "$WORK/trace" >"$WORK/verify.txt" 2>&1 || vrc=$?
	check "its trace passes offrx-export --verify ($vrc)" test "$vrc" -eq 0
fi
check "no namespace $PREFIX-eng or $PREFIX-peer left" \
	test ! -e "/run/netns/$PREFIX-eng" -a ! -e "/run/netns/$PREFIX-peer"
check "its XDP program (id ${prog:-none}) was attached, and is now on no interface" \
	eval 'test -n "$prog" && ! xdp_anywhere "$prog"'

finish
