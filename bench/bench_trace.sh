#!/usr/bin/env bash
# bench_trace.sh: what tracing costs the engine. Bulk throughput of offrx-recv in one run,
# rounds of A B C so drift hits every mode alike:
#   (A) tracing compiled out (OFFRX_TRACING=NONE build),
#   (B) compiled in, no session (each tracepoint a load and a branch),
#   (C) compiled in, a session with every offrx event enabled (offrx-trace's default sizing).
# Prints medians, the ratios B/A and C/A, and the discarded-event counts; under C also the
# events recorded per GiB and lttng-consumerd's CPU (the whole cost of tracing: the engine
# writes events into the ring buffers, the consumer daemon drains them to disk). C's session is
# started once and kept across the rounds, as a session left on in production is (a warm-up run
# first, not counted); --session-per-run starts one per C run, as this script did before.
# Diagnostic modes (--modes): (C0) the same kept session with no offrx event enabled, so the
# engine pays for lttng-ust being registered with a session but records nothing; (CS) C with
# lttng-ust's base-address and procname state dumps off for the engine; (CN) C in a second kept
# session whose channel has the vpid context only, not offrx-trace's procname (smaller events).
# Needs root.
set -euo pipefail

prog=${0##*/}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=3
bytes=1G
per_run=0
fixed_bytes=32M
perf_dir=
modes="A B C"

usage()
{
	cat <<EOF
Usage: $prog [--rounds N] [--bytes N] [--fixed-bytes N] [--session-per-run] [--perf DIR]
       [--modes LIST]

Bulk from a kernel sender (offrx-send) into offrx-recv over AF_XDP, in three builds/modes:
(A) OFFRX_TRACING=NONE, (B) tracing compiled in with no session, (C) a session with all
offrx:* events (offrx-trace start, 8 x 4 MiB per CPU). Alternates A B C each round. Under C
it also counts the events recorded per GiB (babeltrace2's counter) and lttng-consumerd's CPU
(from /proc, from before the run to after the flush that ends it).

C's session is started once, before the rounds, and kept: a traced run of the same size warms
it first (not counted), so no measured run pays the ring buffers' first touch (page clearing),
which a session left on in production pays once. Each C run ends with 'offrx-trace stop
--keep' (a flush: the consumer daemon's work for the run is done and counted) and the session
starts again before the next one.

  --rounds N           rounds (default $rounds)
  --bytes N            bytes per run, K/M/G suffixes (default $bytes)
  --fixed-bytes N      also a run of N bytes right after each run (default $fixed_bytes; 0:
                       none), for the marginal cost: (CPU(--bytes) - CPU(N)) / (the bytes
                       between), per GiB. What a process pays once (loading, the XDP
                       program, lttng-ust's registration, the session's flush) drops out:
                       what a long-running engine pays per GiB
  --session-per-run    start and destroy a session around every C run instead (this
                       script's method before; C then also pays the session's fixed costs)
  --perf DIR           after the rounds, one more run per mode (not counted) under
                       'perf record -g': DIR/A.data, DIR/B.data, DIR/C.data; and the
                       events all C runs recorded, by name: DIR/C-events.txt
  --modes LIST         the modes each round runs, in this order (default "$modes"); also:
                       C0  the kept session, its events 'offrx:*' disabled and only an event
                           no engine emits enabled: lttng-ust registered with a live session
                           (ring buffers mapped, state dump, listener threads, consumer daemon)
                           but no event recorded. C - C0: the events and the engine's own
                           tracing work; C0 - A: having a session at all
                       CS  C with LTTNG_UST_WITHOUT_BADDR_STATEDUMP=1 and
                           LTTNG_UST_WITHOUT_PROCNAME_STATEDUMP=1 for the engine (no state
                           dump of the loaded libraries' base addresses at registration)
                       CN  C in a second kept session whose channel has the vpid context only
                           (offrx-trace adds procname too: 17 bytes of every event); not with
                           C0 (its session's enabled events would keep the probes on under C0)
                       Every C-like mode uses a kept session (not --session-per-run).
                       Beside the medians it prints each mode's spread (min-max of rounds)
  -h, --help           this text

Binaries: \${OFFRX_BIN:-build} (LTTNG) and \${OFFRX_BIN_NONE:-build-notrace} (NONE; configured
and built here if missing).
EOF
}

while [[ $# -gt 0 ]]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--bytes) bytes=$2; shift 2 ;;
	--fixed-bytes) fixed_bytes=$2; shift 2 ;;
	--session-per-run) per_run=1; shift ;;
	--perf) perf_dir=$2; shift 2 ;;
	--modes) modes=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$prog: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
for m in $modes; do
	case $m in
	A | B | C | C0 | CS | CN) ;;
	*) echo "$prog: unknown mode '$m' in --modes (A, B, C, C0, CS, CN)" >&2; exit 2 ;;
	esac
done
if [[ " $modes " == *" CN "* && " $modes " == *" C0 "* ]]; then
	echo "$prog: --modes: CN and C0 cannot run together (CN's session keeps the probes on)" >&2
	exit 2
fi
[[ " $modes " == *" A "* ]] || { echo "$prog: --modes must hold A (the ratios are to A)" >&2; exit 2; }
if [[ $per_run == 1 && " $modes " =~ \ (C0|CS|CN)\  ]]; then
	echo "$prog: --modes C0, CS and CN use the kept session: drop --session-per-run" >&2
	exit 2
fi
[[ $(id -u) -eq 0 ]] || { echo "$prog: needs root (namespaces, XDP, tracing)" >&2; exit 1; }

cd "$root"
bin=${OFFRX_BIN:-build}
bin_none=${OFFRX_BIN_NONE:-build-notrace}
if [[ ! -x $bin_none/samples/offrx-recv ]]; then
	echo "$prog: building the OFFRX_TRACING=NONE variant in $bin_none" >&2
	cmake -S . -B "$bin_none" -DOFFRX_TRACING=NONE >/dev/null
	cmake --build "$bin_none" -j "$(nproc)" --target offrx-recv >/dev/null
fi
for b in "$bin/samples/offrx-recv" "$bin/samples/send/offrx-send" \
	"$bin/tracer/session/offrx-trace" "$bin_none/samples/offrx-recv"; do
	[[ -x $b ]] || { echo "$prog: $b is missing: run make first" >&2; exit 1; }
done

ns=offrxbt$$
work=$(mktemp -d /tmp/offrx-bench-trace.XXXXXX)
session=offrxbench$$
cleanup()
{
	"$bin/tracer/session/offrx-trace" stop --name "$session" >/dev/null 2>&1 || true
	lttng destroy "${session}n" >/dev/null 2>&1 || true
	scripts/netns down --name "$ns" >/dev/null 2>&1 || true
	rm -rf "$work"
}
. "$(dirname "${BASH_SOURCE[0]}")/../tests/support/on_exit.sh"
on_exit 'cleanup'
scripts/netns up --name "$ns" >/dev/null
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize
# Another active session with offrx events on (a per-UID session, left over by a test, say)
# records the C runs' engines too, and its probes run even under C0: say so
others=$(lttng list 2>/dev/null | sed -n 's/^ *[0-9]*) \([^ ]*\) \[active\].*/\1/p' | paste -sd ' ' || true)
[[ -n $others ]] && echo "$prog: warning: other LTTng sessions are active ($others): a per-UID" \
	"session with offrx events records the C runs' engines too ('lttng destroy NAME' if" \
	"one is left over)" >&2

# A and B must not be recorded by a session someone else left recording (a per-UID session
# records every offrx process of the user): in a private mount namespace, an empty tmpfs over
# /run/lttng hides the session daemon from that one process (the wire benchmark does the same).
untraced=(unshare --mount --propagation private env LTTNG_HOME="$work/lttng-home" sh -c
	'if [ -d /run/lttng ]; then mount -t tmpfs -o size=64k offrx-bench /run/lttng || exit 1; fi
	exec "$@"' sh)

# cputime.py OUT CMD...: run CMD and write its user and system CPU seconds to OUT, to the
# microsecond (wait4's rusage; /usr/bin/time prints hundredths, 2 to 4% of a 512 MiB run), and
# its pid to OUT.pid (the vpid its events carry)
cat >"$work/cputime.py" <<'EOF'
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
with open(sys.argv[1] + ".pid", "w") as f:
    f.write("%d\n" % pid)
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%.6f %.6f\n" % (ru.ru_utime, ru.ru_stime))
sys.exit(os.waitstatus_to_exitcode(status))
EOF

# CPU seconds lttng-consumerd has used so far (every consumer daemon process, all threads).
# Each thread's schedstat (nanoseconds on a CPU): /proc/PID/stat counts in clock ticks, and a
# run's share of the consumer daemon is a tick or two.
consumerd_cpu()
{
	local pid
	for pid in $(pgrep -x lttng-consumerd); do
		cat /proc/"$pid"/task/*/schedstat 2>/dev/null
	done | awk '{t += $1} END {printf "%.6f", t / 1e9}'
}

# The kept session's trace, its discarded events so far (run is called in a subshell: the total
# lives in a file), and the pids of the measured C runs' engines.
kept_trace=$work/trace-kept
kept_trace_n=$work/trace-kept-n
echo 0 >"$work/kept-discarded-$session"
echo 0 >"$work/kept-discarded-${session}n"
: >"$work/c-pids"

# discarded_total: the events the session's channels discarded so far (offrx-trace status)
discarded_total()
{
	"$bin/tracer/session/offrx-trace" status --name "${1:-$session}" 2>/dev/null |
		sed -n 's/.*: \([0-9]*\) discarded events.*/\1/p' | awk '{s += $1} END {print s + 0}'
}

# events_of DIR PID: the events of process PID in a trace (its vpid context). A per-UID session
# records every offrx process of the user, and other engines may run beside the bench.
events_of()
{
	{ babeltrace2 "$1" 2>/dev/null || true; } | awk -v p="$2" '
		{ if (match($0, /vpid = [0-9]+/) && substr($0, RSTART + 7, RLENGTH - 7) == p) n++ }
		END { print n + 0 }'
}

# run MODE BYTES: one bulk transfer; prints "gbps cpu_s_per_gib discarded events_per_gib
# consumerd_s_per_gib cpu_s consumerd_s gib"
run()
{
	local mode=$1 size=$2 recv=$bin/samples/offrx-recv discarded=0 hide=("${untraced[@]}")
	local trace=$work/trace-$RANDOM events=0 cd0=0 cd1=0 n prof=() env=() traced=0
	local s=$session kt=$kept_trace
	[[ $mode == CN ]] && s=${session}n kt=$kept_trace_n
	[[ -n ${perf_out:-} ]] && prof=(perf record -q -g -o "$perf_out/$mode.data" --)
	[[ $mode == A ]] && recv=$bin_none/samples/offrx-recv
	[[ $mode == C* ]] && hide=() && traced=1
	[[ $mode == CS ]] && env=(LTTNG_UST_WITHOUT_BADDR_STATEDUMP=1
		LTTNG_UST_WITHOUT_PROCNAME_STATEDUMP=1)
	if [[ $mode == C0 ]]; then
		# the session stays, its buffers too; only an event no engine emits is enabled
		lttng disable-event -u -s "$session" -c offrx 'offrx:*' >/dev/null
		lttng enable-event -u -s "$session" -c offrx 'offrx:bench_c0_never_emitted' >/dev/null
	fi
	if [[ $mode == C && $per_run == 1 ]]; then
		"$bin/tracer/session/offrx-trace" start --name "$session" \
			--output "$trace" >/dev/null
	elif [[ $traced == 1 ]]; then
		lttng start "$s" >/dev/null # recording only while a C run runs
	fi
	[[ $traced == 1 ]] && cd0=$(consumerd_cpu)
	ip netns exec "$ns-eng" "${hide[@]}" env "${env[@]}" python3 "$work/cputime.py" "$work/cpu.txt" \
		"${prof[@]}" "$recv" --iface eng0 --port 5201 --max-conns 1 --json --quiet --no-hash \
		>"$work/recv.json" 2>"$work/recv.err" &
	local pid=$!
	# under load the program's loading can take seconds: up to 30 s, then say what happened
	for _ in $(seq 600); do
		grep -q "receiving on" "$work/recv.err" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q "receiving on" "$work/recv.err" 2>/dev/null; then
		echo "$prog: offrx-recv ($mode) did not attach within 30 s:" >&2
		cat "$work/recv.err" >&2
		kill "$pid" 2>/dev/null
		exit 1
	fi
	ip netns exec "$ns-peer" "$bin/samples/send/offrx-send" --quiet -n "$size" \
		10.77.0.1:5201 >/dev/null
	wait "$pid"
	if [[ $mode == C && $per_run == 1 ]]; then
		# stop flushes the buffers: the consumer's work for this run is done after it
		discarded=$("$bin/tracer/session/offrx-trace" stop --name "$session" 2>&1 |
			sed -n 's/.*: \([0-9]*\) discarded events.*/\1/p' | head -1)
		cd1=$(consumerd_cpu)
		events=$(events_of "$trace" "$(cat "$work/cpu.txt.pid")")
		rm -rf "$trace"
	elif [[ $traced == 1 ]]; then
		# stop --keep flushes the buffers and keeps them: the consumer's work for this run
		# is done after it; discarded: the session's total less the last one
		"$bin/tracer/session/offrx-trace" stop --keep --name "$s" >/dev/null 2>&1
		cd1=$(consumerd_cpu)
		n=$(discarded_total "$s")
		discarded=$((n - $(cat "$work/kept-discarded-$s")))
		echo "$n" >"$work/kept-discarded-$s"
		events=$(events_of "$kt" "$(cat "$work/cpu.txt.pid")")
		[[ -z ${perf_out:-} && $mode == C ]] && cat "$work/cpu.txt.pid" >>"$work/c-pids"
	fi
	if [[ $mode == C0 ]]; then
		lttng disable-event -u -s "$session" -c offrx 'offrx:bench_c0_never_emitted' >/dev/null
		lttng enable-event -u -s "$session" -c offrx 'offrx:*' >/dev/null
	fi
	# goodput, the engine process's CPU seconds per GiB; (C) the discarded events, the events
	# recorded per GiB and the consumer daemon's CPU seconds per GiB
	python3 -c "import json; c=json.load(open('$work/recv.json'))['connections'][0]; \
u, s = map(float, open('$work/cpu.txt').read().split()[-2:]); g = c['bytes'] / 2**30; \
print('%.3f %.3f ${discarded:-0} %.0f %.3f %.3f %.3f %.6f' % (c['bytes'] * 8 / c['seconds'] / 1e9, \
(u + s) / g, $events / g, ($cd1 - $cd0) / g, u + s, $cd1 - $cd0, g))"
}

if [[ $per_run == 0 ]]; then
	"$bin/tracer/session/offrx-trace" start --name "$session" --output "$kept_trace" >/dev/null
	lttng stop "$session" >/dev/null # each C run starts it
	if [[ " $modes " == *" CN "* ]]; then
		# C's channel (per-UID buffers, 8 x 4 MiB per CPU, discard mode) with the vpid context
		# alone: what an event costs without the 17-byte procname context offrx-trace adds
		lttng create "${session}n" --output "$kept_trace_n" >/dev/null
		lttng enable-channel -u -s "${session}n" --buffers-uid --discard --subbuf-size 4M \
			--num-subbuf 8 offrx >/dev/null
		lttng enable-event -u -s "${session}n" -c offrx 'offrx:*' >/dev/null
		lttng add-context -u -s "${session}n" -c offrx -t vpid >/dev/null
		lttng stop "${session}n" >/dev/null 2>&1 || true # each CN run starts it
		read -r gbps cpu disc evg cdg _ < <(run CN "$bytes")
		echo "warm-up (not counted): CN ${gbps} Gbit/s, engine CPU ${cpu} s/GiB" >&2
	fi
	read -r gbps cpu disc evg cdg _ < <(run C "$bytes")
	echo "warm-up (not counted): C ${gbps} Gbit/s, engine CPU ${cpu} s/GiB" >&2
fi

declare -A results
for r in $(seq "$rounds"); do
	for m in $modes; do
		read -r gbps cpu disc evg cdg cpus cds gib < <(run "$m" "$bytes")
		results[$m]+="$gbps "
		results[cpu$m]+="$cpu "
		extra=""
		if [[ $m == C* ]]; then
			results[D]+="$disc "
			results[ev$m]+="$evg "
			results[cd$m]+="$cdg "
			results[all$m]+="$(awk -v a="$cpu" -v b="$cdg" 'BEGIN {printf "%.3f", a + b}') "
			extra=", discarded $disc, $evg events/GiB, lttng-consumerd $cdg s/GiB"
		fi
		echo "round $r/$rounds: $m ${gbps} Gbit/s, engine CPU ${cpu} s/GiB$extra" >&2
		[[ $fixed_bytes == 0 ]] && continue
		read -r gbps2 cpu2 disc2 evg2 cdg2 cpus2 cds2 gib2 < <(run "$m" "$fixed_bytes")
		[[ $m == C* ]] && results[D]+="$disc2 "
		# per GiB between the two sizes: what the process paid once drops out
		read -r mc mcd < <(awk -v a="$cpus" -v b="$cpus2" -v c="$cds" -v d="$cds2" \
			-v g="$gib" -v h="$gib2" 'BEGIN {printf "%.3f %.3f\n", (a - b) / (g - h),
			(c - d) / (g - h)}')
		results[mcpu$m]+="$mc "
		if [[ $m == C* ]]; then
			results[mcd$m]+="$mcd "
			results[mall$m]+="$(awk -v a="$mc" -v b="$mcd" 'BEGIN {printf "%.3f", a + b}') "
		fi
		echo "round $r/$rounds: $m, $fixed_bytes run: engine CPU ${cpus2} s (${cpus} s for" \
			"$bytes): marginal ${mc} s/GiB$([[ $m == C* ]] && echo ", lttng-consumerd ${mcd} s/GiB")" >&2
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# spread: "min-max" of the rounds
spread() { tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {if (y + 0 == 0) print "-"; else printf "%.3f", x / y}'; }
has() { [[ " $modes " == *" $1 "* ]]; }
declare -A label=([A]="A: tracing compiled out" [B]="B: compiled in, no session"
	[C]="C: session with all offrx events" [C0]="C0: session, no offrx event enabled"
	[CS]="CS: C, lttng-ust state dumps off" [CN]="CN: C without the procname context")
a=$(echo "${results[A]:-}" | median)
ca=$(echo "${results[cpuA]:-}" | median)
disc_total=$(echo "${results[D]:-}" | tr ' ' '\n' | awk '{s += $1} END {print s + 0}')
how="one session kept across the rounds, warmed up"
[[ $per_run == 1 ]] && how="a session started per C run"
printf '\nC: %s\n' "$how"
printf '%-40s %8s %7s %16s %7s\n' "mode ($rounds rounds of $bytes, median)" "Gbit/s" "ratio" \
	"engine CPU s/GiB" "ratio"
for m in A B C C0 CS CN; do
	has "$m" || continue
	g=$(echo "${results[$m]}" | median)
	cm=$(echo "${results[cpu$m]}" | median)
	printf '%-40s %8s %7s %16s %7s\n' "${label[$m]}" "$g" "$(ratio "$g" "$a")" "$cm" \
		"$(ratio "$cm" "$ca")"
	[[ $m == C* ]] || continue
	allm=$(echo "${results[all$m]}" | median)
	printf '%-40s %8s %7s %16s %7s\n' "${m}: engine + lttng-consumerd" "" "" "$allm" \
		"$(ratio "$allm" "$ca")"
done
for m in C C0 CS CN; do
	has "$m" || continue
	printf 'under %s: %s events/GiB, lttng-consumerd %s CPU s/GiB (medians)\n' "$m" \
		"$(echo "${results[ev$m]}" | median)" "$(echo "${results[cd$m]}" | median)"
done
printf 'discarded events under C, all rounds: %s\n' "$disc_total"
printf 'spread over the rounds (min-max): '
for m in A B C C0 CS CN; do
	has "$m" || continue
	printf '%s %s Gbit/s, engine CPU %s s/GiB%s; ' "$m" "$(echo "${results[$m]}" | spread)" \
		"$(echo "${results[cpu$m]}" | spread)" \
		"$([[ $m == C* ]] && echo ", + lttng-consumerd $(echo "${results[all$m]}" | spread)")"
done
echo
# paired: each round's ratio to the same round's A (drift within a round hits both), median and
# min-max over the rounds
printf 'paired, engine CPU / the same round'"'"'s A (median, min-max): '
for m in B C C0 CS CN; do
	has "$m" || continue
	paste -d ' ' <(echo "${results[cpu$m]}" | tr ' ' '\n' | grep .) \
		<(echo "${results[cpuA]}" | tr ' ' '\n' | grep .) |
		awk '{printf "%.3f ", $1 / $2}' >"$work/paired"
	printf '%s %s (%s)%s; ' "$m" "$(median <"$work/paired")" "$(spread <"$work/paired")" \
		"$([[ $m == C* ]] && paste -d ' ' <(echo "${results[all$m]}" | tr ' ' '\n' | grep .) \
			<(echo "${results[cpuA]}" | tr ' ' '\n' | grep .) |
			awk '{printf "%.3f ", $1 / $2}' | median | sed 's/^/, + lttng-consumerd /')"
done
echo
# The goals of issue 15: C's engine CPU <= 1.10 x A's, engine + consumerd <= 1.20 x, throughput
# >= 0.97 x; B within noise of A.
if has A && has C; then
	c=$(echo "${results[C]}" | median)
	cc=$(echo "${results[cpuC]}" | median)
	allc=$(echo "${results[allC]}" | median)
	awk -v c="$(ratio "$cc" "$ca")" -v all="$(ratio "$allc" "$ca")" -v g="$(ratio "$c" "$a")" 'BEGIN {
	printf "goals: engine CPU C/A %.3f (<= 1.10: %s), engine+consumerd/A %.3f (<= 1.20: %s), " \
	       "throughput C/A %.3f (>= 0.97: %s)\n", c, (c <= 1.10 ? "met" : "NOT met"), all,
	       (all <= 1.20 ? "met" : "NOT met"), g, (g >= 0.97 ? "met" : "NOT met") }'
fi
if [[ -n $perf_dir ]]; then
	mkdir -p "$perf_dir"
	for m in $modes; do
		perf_out=$perf_dir run "$m" "$bytes" >/dev/null
	done
	perf_out=
	echo "perf: $perf_dir/{${modes// /,}}.data (perf report -i FILE --no-children)" >&2
	if [[ $per_run == 0 ]]; then
		# what the measured C runs' engines recorded, by event: which events a byte costs
		{ babeltrace2 "$kept_trace" 2>/dev/null || true; } | awk -v pids="$(cat "$work/c-pids")" '
			BEGIN { n = split(pids, a); for (i = 1; i <= n; i++) ours[a[i]] = 1 }
			match($0, /vpid = [0-9]+/) && (substr($0, RSTART + 7, RLENGTH - 7) in ours) {
				if (match($0, /offrx:[a-z_]+/)) c[substr($0, RSTART, RLENGTH)]++ }
			END { for (k in c) printf "%9d %s\n", c[k], k }' | sort -rn >"$perf_dir/C-events.txt"
		echo "events of every C run, by name: $perf_dir/C-events.txt" >&2
	fi
fi
[[ $fixed_bytes == 0 ]] && exit 0
ma=$(echo "${results[mcpuA]}" | median)
printf '\nmarginal: (CPU of a %s run - CPU of a %s run) / the GiB between (medians)\n' \
	"$bytes" "$fixed_bytes"
printf '%-40s %16s %7s\n' "mode" "engine CPU s/GiB" "ratio"
for m in A B C C0 CS CN; do
	has "$m" || continue
	mm=$(echo "${results[mcpu$m]}" | median)
	printf '%-40s %16s %7s\n' "${label[$m]}" "$mm" "$(ratio "$mm" "$ma")"
	[[ $m == C* ]] || continue
	mall=$(echo "${results[mall$m]}" | median)
	printf '%-40s %16s %7s\n' "${m}: engine + lttng-consumerd" "$mall" "$(ratio "$mall" "$ma")"
done
for m in C C0 CS CN; do
	has "$m" || continue
	printf 'marginal lttng-consumerd under %s: %s CPU s/GiB\n' "$m" \
		"$(echo "${results[mcd$m]}" | median)"
done
has C || exit 0
mc=$(echo "${results[mcpuC]}" | median)
mall=$(echo "${results[mallC]}" | median)
awk -v c="$(ratio "$mc" "$ma")" -v all="$(ratio "$mall" "$ma")" 'BEGIN {
	printf "goals, marginal: engine CPU C/A %.3f (<= 1.10: %s), engine+consumerd/A %.3f " \
	       "(<= 1.20: %s)\n", c, (c <= 1.10 ? "met" : "NOT met"), all,
	       (all <= 1.20 ? "met" : "NOT met") }'
