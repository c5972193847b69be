#!/usr/bin/env bash
# bench_commits.sh: one commit against another on the wire, side by side in one run. Bulk from a
# kernel sender into offrx-recv over AF_XDP, built from each commit, rounds alternating
#   base untraced, head untraced, base traced, head traced
# so drift hits every run alike. "Traced" is a session with every offrx event enabled
# (offrx-trace start, its default sizing). Prints per-round figures, medians and head/base
# ratios: the check a refactoring owes ("the benchmarks within noise of the previous commit").
set -euo pipefail

prog=${0##*/}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=5
bytes=1G
base=HEAD~1
head_build=
head_rev=
traced=1

usage()
{
	cat <<EOF
Usage: $prog [--base REV] [--head REV | --build DIR] [--rounds N] [--bytes N] [--no-traced]

Builds REV (a git revision of this repository) in a worktree under /tmp (kept between runs,
one per commit) and compares its offrx-recv with this tree's (or --head REV's), side by side:
bulk of N bytes from offrx-send, offrx-recv --napi-threaded --no-hash --max-conns 1, the
receiver's CPU from /usr/bin/time. Untraced runs hide the session daemon from the receiver (a
private mount namespace), so a session someone left recording cannot count.

  --base REV    the commit to compare against (default $base)
  --head REV    compare against this commit (built the same way) instead of this tree
  --build DIR   this tree's build directory (default: \$OFFRX_BIN, else build)
  --rounds N    rounds (default $rounds); medians are printed
  --bytes N     bytes per run, K/M/G suffixes (default $bytes)
  --no-traced   untraced runs only
  -h, --help    this text

Needs root (namespaces, XDP) and lttng-sessiond for the traced runs (started if missing).
EOF
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--base) base=$2; shift 2 ;;
	--build) head_build=$2; shift 2 ;;
	--head) head_rev=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--bytes) bytes=$2; shift 2 ;;
	--no-traced) traced=0; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$prog: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[[ $(id -u) -eq 0 ]] || { echo "$prog: needs root (namespaces, XDP, tracing)" >&2; exit 1; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "$prog: --rounds '$rounds': want a count >= 1" >&2; exit 2; }

cd "$root"
# worktree_build REV: a detached worktree of REV under /tmp, built with the default
# configuration (offrx-recv, offrx-send, offrx-trace); prints its build directory.
worktree_build()
{
	local rev wt
	rev=$(git rev-parse --verify --quiet "$1^{commit}") ||
		{ echo "$prog: '$1' is not a commit of $root" >&2; return 2; }
	wt=/tmp/offrx-bench-${rev:0:12}
	if [[ "$(git -C "$wt" rev-parse HEAD 2>/dev/null)" != "$rev" ]]; then
		echo "$prog: checking out ${rev:0:12} in $wt" >&2
		git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"
		git worktree prune
		git worktree add --detach "$wt" "$rev" >/dev/null 2>&1 ||
			{ echo "$prog: cannot make a worktree of $rev in $wt" >&2; return 1; }
	fi
	if [[ ! -x $wt/build/samples/offrx-recv || ! -x $wt/build/samples/send/offrx-send ||
		! -x $wt/build/tracer/session/offrx-trace ]]; then
		echo "$prog: building ${rev:0:12} in $wt/build (a few minutes)" >&2
		cmake -S "$wt" -B "$wt/build" >"$wt/build.log" 2>&1 &&
			cmake --build "$wt/build" -j "$(nproc)" --target offrx-recv offrx-send \
				offrx-trace >>"$wt/build.log" 2>&1 ||
			{ echo "$prog: the build of ${rev:0:12} failed: $wt/build.log" >&2; return 1; }
	fi
	echo "$wt/build"
}
rev=$(git rev-parse --verify --quiet "$base^{commit}") ||
	{ echo "$prog: --base '$base' is not a commit of $root" >&2; exit 2; }
base_bin=$(worktree_build "$base") || exit
if [[ -n $head_rev ]]; then
	bin=$(worktree_build "$head_rev") || exit
else
	bin=$(realpath "${head_build:-${OFFRX_BIN:-build}}")
fi
for b in "$bin/samples/offrx-recv" "$bin/samples/send/offrx-send" "$bin/tracer/session/offrx-trace"; do
	[[ -x $b ]] || { echo "$prog: $b is missing: run make first" >&2; exit 1; }
done

ns=offrxbc$$
work=$(mktemp -d /tmp/offrx-bench-commits.XXXXXX)
session=offrxbc$$
trace_ctl=$bin/tracer/session/offrx-trace
cleanup()
{
	"$trace_ctl" stop --name "$session" >/dev/null 2>&1 || true
	scripts/netns down --name "$ns" >/dev/null 2>&1 || true
	rm -rf "$work"
}
. "$root/tests/support/on_exit.sh"
on_exit 'cleanup'
scripts/netns up --name "$ns" >/dev/null
((traced)) && { pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize; }

untraced=(unshare --mount --propagation private env LTTNG_HOME="$work/lttng-home" sh -c
	'if [ -d /run/lttng ]; then mount -t tmpfs -o size=64k offrx-bench /run/lttng || exit 1; fi
	exec "$@"' sh)

# run BIN TRACED: one bulk transfer; prints "gbps cpu_s_per_gib discarded"
run()
{
	local b=$1 tr=$2 discarded=0 hide=("${untraced[@]}")
	if ((tr)); then
		hide=()
		"$trace_ctl" start --name "$session" --output "$work/trace-$RANDOM" >/dev/null
	fi
	ip netns exec "$ns-eng" "${hide[@]}" /usr/bin/time -f "%U %S" -o "$work/cpu.txt" \
		"$b/samples/offrx-recv" --iface eng0 --port 5201 --max-conns 1 --json --quiet \
		--no-hash --napi-threaded >"$work/recv.json" 2>"$work/recv.err" &
	local pid=$! i
	for i in $(seq 200); do
		grep -q "receiving on" "$work/recv.err" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -q "receiving on" "$work/recv.err" ||
		{ echo "$prog: offrx-recv of $b did not start:" >&2; cat "$work/recv.err" >&2; exit 1; }
	ip netns exec "$ns-peer" "$bin/samples/send/offrx-send" --quiet -n "$bytes" \
		10.77.0.1:5201 >/dev/null
	wait "$pid"
	if ((tr)); then
		discarded=$("$trace_ctl" stop --name "$session" 2>&1 |
			sed -n 's/.*: \([0-9]*\) discarded events.*/\1/p' | head -1)
		rm -rf "$work"/trace-*
	fi
	python3 -c "import json; c=json.load(open('$work/recv.json'))['connections'][0]; \
u, s = map(float, open('$work/cpu.txt').read().split()[-2:]); \
print('%.3f %.3f' % (c['bytes'] * 8 / c['seconds'] / 1e9, (u + s) / (c['bytes'] / 2**30)), end='')"
	echo " ${discarded:-0}"
}

modes=(base0 head0)
((traced)) && modes+=(base1 head1)
declare -A gb cpu disc
name() { local w=${1%?} t=${1: -1}; echo "$w $([[ $t == 1 ]] && echo traced || echo untraced)"; }
echo "$prog: base ${rev:0:12} ($(git log -1 --format=%s "$rev" | cut -c1-60)), head $bin" >&2
for r in $(seq "$rounds"); do
	for m in "${modes[@]}"; do
		b=$bin
		[[ $m == base* ]] && b=$base_bin
		read -r g c d < <(run "$b" "${m: -1}")
		gb[$m]+="$g "
		cpu[$m]+="$c "
		disc[$m]=$((${disc[$m]:-0} + ${d:-0}))
		echo "round $r/$rounds: $(name "$m"): $g Gbit/s, engine CPU $c s/GiB" >&2
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x / y}'; }
printf '\n%-22s %-46s %-40s\n' "run ($rounds x $bytes)" "Gbit/s: rounds (median)" \
	"engine CPU s/GiB: rounds (median)"
for m in "${modes[@]}"; do
	printf '%-22s %-46s %-40s\n' "$(name "$m")" "${gb[$m]}($(echo "${gb[$m]}" | median))" \
		"${cpu[$m]}($(echo "${cpu[$m]}" | median))"
done
for t in 0 1; do
	[[ -n ${gb[head$t]:-} ]] || continue
	printf 'head/base %-9s Gbit/s %s, engine CPU per GiB %s\n' \
		"$(name x$t | cut -d' ' -f2):" \
		"$(ratio "$(echo "${gb[head$t]}" | median)" "$(echo "${gb[base$t]}" | median)")" \
		"$(ratio "$(echo "${cpu[head$t]}" | median)" "$(echo "${cpu[base$t]}" | median)")"
done
((traced)) && printf 'discarded events, traced runs: base %s, head %s\n' "${disc[base1]}" "${disc[head1]}"
exit 0
