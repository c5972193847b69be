#!/usr/bin/env bash
# bench_wire.sh: the engine on the wire against the kernel's own TCP receive path, side by side
# in one run (rounds of A B C D X Y, so drift hits every mode alike), and the AF_XDP ceiling.
# Prints medians and per-round ratios, never a verdict. Needs root. See --help.
set -euo pipefail

prog=${0##*/}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

rounds=
bytes=1G
defaults=0
queues_list=
ceiling_secs=3
markdown=0
# offrx-recv's defaults; the engine advertises at most depth * buf_size + 256 KiB of window.
depth=4
buf_size=65536
# The receive window both receivers get: the engine advertises at most this (--window), the
# kernel's sink asks it as SO_RCVBUF. 320 KiB is 226 full frames: under the 256 frames a veth
# holds for an XDP program, so the sender does not overrun it (see --window 0).
window=327680
rcvbuf=
port=5201
eng_ip=10.77.0.1

usage()
{
	cat <<EOF
Usage: $prog [--rounds N] [--bytes N] [--ceiling-seconds S] [--window B] [--rcvbuf B] [--markdown]
       $prog --defaults [--rounds N] [--bytes N] [--markdown]
       $prog --queues LIST [--rounds N] [--bytes N] [--window B] [--markdown]

Measures, in one run and alternating A B C D X Y each round:
  (a) the engine: offrx-recv (--depth $depth --buf-size $buf_size --window W --no-hash: the
      sink does not hash either; --napi-threaded: eng0's NAPI, which runs the XDP program
      and copies frames into the socket, in a kernel thread the scheduler may move off the
      sender's CPU; the setting has no effect on the kernel's runs, where a veth without
      XDP has no NAPI) in the engine namespace,
      offrx-send bulk from the peer (its veth with tx checksum offload off, as scripts/netns
      leaves it: TSO is then off too, software GSO on)
  (b) the kernel's TCP: offrx-bench-sink with SO_RCVBUF = W, the engine's largest window,
      same sender, same veth with no XDP program; peer offloads at the
      veth defaults (tx checksum on, so TSO and GSO on)
  (c) (b) with 'ethtool -K peer0 gso off tso off': both receivers see MTU-sized frames
      (the kernel's carry partial checksums the veth lets it trust)
  (d) the kernel's TCP on frames identical to (a)'s: the peer's offloads exactly as in (a)
      (tx checksum off, software GSO), so the sender does the same work, every frame is
      MTU-sized with a full checksum, and the kernel verifies it as the engine does
  (X) the ceiling: offrx-bench-xsk (the engine's AF_XDP link, no TCP) fed by
      offrx-bench-blast, one prebuilt frame per message (sendmmsg batches)
  (Y) X with offrx-bench-blast --gso 44: the kernel cuts 44-segment super-segments, as it
      does for the TCP sender in (a), so frames reach eng0 in bursts, as in (a)
With --defaults, it compares the two receivers as a user runs them instead, alternating E K:
  (E) offrx-recv with no tuning flag (--no-hash only: the kernel's sink does not hash either;
      on a veth the engine runs eng0's NAPI in a kernel thread while attached, by itself)
  (K) offrx-bench-sink with no SO_RCVBUF (the kernel's autotuning)
  on the same veth pair, the peer's offloads as scripts/netns leaves them (tx checksum off),
  5 rounds by default; it prints medians, the peer's dropped frames, and the ratio E/K.
With --queues LIST (e.g. 1,2), receive queues instead, on one veth pair with as many queues
as the largest count (scripts/netns up --queues N), alternating for each count Q of LIST:
  (EQ) offrx-recv --queues 0-(Q-1) --cpus 0..(Q-1), otherwise flagged as (a)
  (KQ) offrx-bench-sink, SO_RCVBUF = W, on the same link
  with the same senders every time: one offrx-send per CPU, pinned (taskset), 2 connections
  each, --bytes in all; the peer's XPS sends CPU c's frames on tx queue c mod Q, so they
  arrive on eng0's rx queue c mod Q (Q = 1: all on queue 0, as after 'ethtool -L combined
  1'). The peer's offloads as in (a) for both receivers (frames as (d)). Goodput is the
  bytes of all connections over the longest connection's seconds. Per queue: the CPU of the
  engine thread that ran it (offrx-recv's JSON, queues[].thread_cpu_s: the thread's
  CLOCK_THREAD_CPUTIME_ID) per GiB of all traffic, and its share of the frames. 3 rounds by
  default.
Reports goodput (receiver's bytes and seconds), whole-system CPU seconds per GiB from
/proc/stat (user+nice+system+irq+softirq), the receiver's and the sender's own CPU, the mean
frame size eng0 received, and the ratios a/b, a/c and a/ceiling. offrx-recv runs with the LTTng
session daemon hidden from it (a private mount namespace), so no tracing session left active
on the machine can record it: its tracepoints are compiled in and disabled.

Options:
  --rounds N           rounds of A B C D X Y (default 3), or of E K (default 5)
  --bytes N            bytes per TCP run, K/M/G suffixes as offrx-send takes them
                       (default $bytes)
  --ceiling-seconds S  length of each ceiling run, X and Y (default $ceiling_secs)
  --window B           the receive window W (default $window): the engine's --window, and the
                       sink's SO_RCVBUF (Linux doubles it and advertises about half). 0: the
                       engine's own choice (it fits the veth's 256-frame XDP ring), and the
                       sink's SO_RCVBUF is depth x buf-size + 256 KiB. A window above ~360 KB
                       overruns that ring: the peer's 'TX dropped' and the engine's
                       tcp.ooo_full count the losses
  --defaults           E K instead: both receivers at their defaults (see above)
  --queues LIST        EQ KQ instead, for each queue count Q in LIST (1..8, e.g. 1,2)
  --rcvbuf B           the sink's SO_RCVBUF alone (default: W)
  --markdown           print the final table as Markdown
  -h, --help           this text

Binaries come from \${OFFRX_BIN:-build} (relative paths from the repository root). The
script makes its own namespaces (scripts/netns, a unique prefix) and always removes them.
EOF
}

die()
{
	echo "$prog: $*" >&2
	exit 1
}

say()
{
	printf '%s' "$*" >&2
}

while [[ $# -gt 0 ]]; do
	case $1 in
	-h | --help)
		usage
		exit 0
		;;
	--rounds)
		[[ $# -ge 2 ]] || die "--rounds needs a value"
		rounds=$2
		shift 2
		;;
	--bytes)
		[[ $# -ge 2 ]] || die "--bytes needs a value"
		bytes=$2
		shift 2
		;;
	--ceiling-seconds)
		[[ $# -ge 2 ]] || die "--ceiling-seconds needs a value"
		ceiling_secs=$2
		shift 2
		;;
	--rcvbuf)
		[[ $# -ge 2 ]] || die "--rcvbuf needs a value"
		rcvbuf=$2
		shift 2
		;;
	--window)
		[[ $# -ge 2 ]] || die "--window needs a value"
		window=$2
		shift 2
		;;
	--markdown)
		markdown=1
		shift
		;;
	--defaults)
		defaults=1
		shift
		;;
	--queues)
		[[ $# -ge 2 ]] || die "--queues needs a list of queue counts, e.g. 1,2"
		queues_list=$2
		shift 2
		;;
	*)
		die "unknown argument '$1' (see $prog --help)"
		;;
	esac
done
if [[ -z $rounds ]]; then
	rounds=3
	((defaults)) && rounds=5
fi
[[ $rounds =~ ^[1-9][0-9]?$ ]] || die "bad --rounds '$rounds': use 1..99"
if [[ -n $queues_list ]]; then
	[[ $queues_list =~ ^[1-8](,[1-8])*$ ]] ||
		die "bad --queues '$queues_list': queue counts 1..8, comma-separated (e.g. 1,2)"
	((defaults)) && die "--queues and --defaults are two different runs: give one"
fi
[[ $bytes =~ ^[1-9][0-9]*[KMG]?$ ]] || die "bad --bytes '$bytes': a number with K, M or G"
[[ $ceiling_secs =~ ^[1-9][0-9]?$ ]] || die "bad --ceiling-seconds '$ceiling_secs': use 1..99"
[[ $window =~ ^[0-9]+$ ]] || die "bad --window '$window': a number of bytes"
if [[ -z $rcvbuf ]]; then
	rcvbuf=$window
	((window)) || rcvbuf=$((depth * buf_size + 256 * 1024))
fi
[[ $rcvbuf =~ ^[1-9][0-9]*$ ]] || die "bad --rcvbuf '$rcvbuf': a number of bytes"
[[ $(id -u) -eq 0 ]] ||
	die "needs root for network namespaces, XDP and raw sockets (try: sudo $0 $*)"
for tool in ip ethtool awk timeout; do
	command -v $tool >/dev/null 2>&1 || die "'$tool' not found: run scripts/install-deps"
done

bin=${OFFRX_BIN:-build}
[[ $bin == /* ]] || bin=$root/$bin
recv_bin=$bin/samples/offrx-recv
send_bin=$bin/samples/send/offrx-send
sink_bin=$bin/bench/offrx-bench-sink
xsk_bin=$bin/bench/offrx-bench-xsk
blast_bin=$bin/bench/offrx-bench-blast
for b in "$recv_bin" "$send_bin" "$sink_bin" "$xsk_bin" "$blast_bin"; do
	[[ -x $b ]] || die "$b not built: run 'make' (or set OFFRX_BIN to the build directory)"
done

prefix=obw$$
eng_ns=$prefix-eng
peer_ns=$prefix-peer
tmp=$(mktemp -d /tmp/offrx-bench-wire.XXXXXX)
hz=$(getconf CLK_TCK)
running=() # spawn tags whose programs may still run

cleanup()
{
	local t
	# Our own processes only, by pid: each program, then the wrapper that waits for it.
	for t in "${running[@]}"; do
		if [[ -e $t.pid ]]; then
			kill -TERM "$(cat "$t.pid")" 2>/dev/null || true
		fi
	done
	for t in "${running[@]}"; do
		if [[ -e $t.wrapper ]]; then
			wait "$(cat "$t.wrapper")" 2>/dev/null || true
		fi
	done
	"$root/scripts/netns" down --name "$prefix" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
. "$(dirname "${BASH_SOURCE[0]}")/../tests/support/on_exit.sh"
on_exit 'cleanup'
trap 'exit 130' INT TERM

# Run a command in the background; its pid goes to $1.pid, and once it exits, its exit code
# to $1.rc and its CPU (user, system; in clock ticks) to $1.cpu, read from the wrapper's
# /proc/PID/stat (cutime, cstime: the CPU of the children it waited for).
spawn()
{
	local tag=$1
	shift
	(
		"$@" >"$tag.out" 2>"$tag.err" &
		echo $! >"$tag.pid"
		rc=0
		wait $! || rc=$?
		echo $rc >"$tag.rc"
		# Read here, not inside a pipeline: each pipeline stage has a $BASHPID of its own.
		read -r stat <"/proc/$BASHPID/stat"
		echo "${stat##*) }" | awk '{ print $14, $15 }' >"$tag.cpu"
	) &
	echo $! >"$tag.wrapper"
	running+=("$tag")
	# The pid file is written by the wrapper: wait for it, so cleanup can always find it.
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s $tag.pid ]] && return 0
		sleep 0.02
	done
}

# Wait up to $2 seconds for the process of spawn tag $1 to finish; TERM it after that.
finish()
{
	local tag=$1 limit=$2 w i
	w=$(cat "$tag.wrapper")
	for ((i = 0; i < limit * 10; i++)); do
		[[ -e $tag.rc ]] && break
		sleep 0.1
	done
	if [[ ! -e $tag.rc ]]; then
		kill -TERM "$(cat "$tag.pid")" 2>/dev/null || true
	fi
	wait "$w" 2>/dev/null || true
	local t keep=()
	for t in "${running[@]}"; do
		[[ $t == "$tag" ]] || keep+=("$t")
	done
	running=("${keep[@]}")
	[[ -e $tag.rc ]] && [[ $(cat "$tag.rc") == 0 ]]
}

# Wait until the stderr of spawn tag $1 says $2 (the program is ready), at most 10 s.
ready()
{
	local tag=$1 what=$2 i
	for ((i = 0; i < 100; i++)); do
		grep -q "$what" "$tag.err" 2>/dev/null && return 0
		[[ -e $tag.rc ]] && break
		sleep 0.1
	done
	die "$(basename "$tag") did not start: $(tail -n 3 "$tag.err" 2>/dev/null)"
}

# First "key":number in the JSON line of file $1.
jnum()
{
	grep -h '^{' "$1" | grep -o "\"$2\":-\\?[0-9.eE+]*" | head -n 1 | cut -d: -f2
}

jstr()
{
	grep -h '^{' "$1" | grep -o "\"$2\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4
}

# Whole-system busy ticks: user + nice + system + irq + softirq (guest time is inside user).
sys_busy()
{
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# Frames the peer's veth dropped on transmit: a full ring towards eng0.
peer_tx_dropped()
{
	ip -n "$peer_ns" -s link show peer0 | awk '/TX:/ { getline; print $4; exit }'
}

eng_rx()
{
	ip -n "$eng_ns" -s link show eng0 | awk '/RX:/ { getline; print $1, $2; exit }'
}

cpu_ticks()
{
	awk '{ print $1 + $2 }' "$1.cpu" 2>/dev/null || echo 0
}

calc()
{
	awk "BEGIN { printf \"%.3f\", $* }"
}

# offrx-recv carries lttng-ust tracepoints. A recording session left active by other work on
# this machine (tracking all processes) would record it, and the run would measure tracing.
# In a private mount namespace, an empty tmpfs over /run/lttng hides the session daemon from
# this one process: its tracepoints stay compiled in and disabled, as for a user with no session.
untraced=(unshare --mount --propagation private env LTTNG_HOME="$tmp/lttng-home" sh -c
	'if [ -d /run/lttng ]; then mount -t tmpfs -o size=64k offrx-bench /run/lttng || exit 1; fi
	exec "$@"' sh)

# The peer's offloads for each mode, set explicitly every run.
peer_offloads()
{
	case $1 in
	a) ip netns exec "$peer_ns" ethtool -K peer0 tx off gso on tso on 2>/dev/null ;;
	b) ip netns exec "$peer_ns" ethtool -K peer0 tx on gso on tso on 2>/dev/null ;;
	c) ip netns exec "$peer_ns" ethtool -K peer0 tx on gso off tso off 2>/dev/null ;;
	d | e | k) ip netns exec "$peer_ns" ethtool -K peer0 tx off gso on tso on 2>/dev/null ;;
	esac >/dev/null || true
}

peer_offload_state()
{
	ip netns exec "$peer_ns" ethtool -k peer0 |
		awk -F': ' '$1 ~ /^[ \t]*(tx-checksumming|tx-tcp-segmentation|generic-segmentation-offload)$/ {
			sub(/^[ \t]+/, "", $1); split($2, v, " ")
			printf "%s%s=%s", sep, $1, v[1]; sep = " " }'
}

xdp_attached()
{
	ip -n "$eng_ns" link show eng0 | grep -Eq 'prog/xdp|xdpgeneric|xdpdrv| xdp '
}

# One TCP run of mode $1 (a, b or c) in round $2. Appends a result line to $tmp/results:
# mode round gbit_s sys_s_per_gib recv_s_per_gib send_s_per_gib avg_rx_frame
tcp_run()
{
	local mode=$1 r=$2 d=$tmp/$1.$2 label
	mkdir -p "$d"
	case $mode in
	a) label="engine (offrx-recv)" ;;
	b) label="kernel, GSO/TSO on" ;;
	c) label="kernel, GSO/TSO off" ;;
	d) label="kernel, frames as (a)" ;;
	e) label="engine at its defaults" ;;
	k) label="kernel at its defaults" ;;
	esac
	say "round $r/$rounds: $label ... "
	peer_offloads "$mode"
	peer_offload_state >"$d/offloads"
	if [[ $mode == a ]]; then
		spawn "$d/recv" ip netns exec "$eng_ns" "${untraced[@]}" "$recv_bin" --iface eng0 \
			--port $port --depth $depth --buf-size $buf_size --json --max-conns 1 --no-hash \
			--window "$window" --napi-threaded
		ready "$d/recv" "receiving on"
	elif [[ $mode == e ]]; then
		spawn "$d/recv" ip netns exec "$eng_ns" "${untraced[@]}" "$recv_bin" --iface eng0 \
			--port $port --json --max-conns 1 --no-hash
		ready "$d/recv" "receiving on"
	elif [[ $mode == k ]]; then
		xdp_attached && die "an XDP program is still on eng0 in $eng_ns before the kernel run"
		spawn "$d/recv" ip netns exec "$eng_ns" "$sink_bin" --port $port
		ready "$d/recv" "listening"
	else
		xdp_attached && die "an XDP program is still on eng0 in $eng_ns before the kernel run"
		spawn "$d/recv" ip netns exec "$eng_ns" "$sink_bin" --port $port --rcvbuf "$rcvbuf"
		ready "$d/recv" "listening"
	fi
	local rx0 rx1 c0 c1 vd0 vd1
	rx0=$(eng_rx)
	vd0=$(peer_tx_dropped)
	c0=$(sys_busy)
	spawn "$d/send" ip netns exec "$peer_ns" timeout 300 "$send_bin" --json --quiet \
		-n "$bytes" $eng_ip:$port
	finish "$d/send" 310 || die "offrx-send failed in round $r ($label): $(tail -n 3 "$d/send.err")"
	finish "$d/recv" 20 || die "receiver failed in round $r ($label): $(tail -n 3 "$d/recv.err")"
	c1=$(sys_busy)
	rx1=$(eng_rx)
	vd1=$(peer_tx_dropped)
	((vd1 == vd0)) || say "(the peer's veth dropped $((vd1 - vd0)) frames: its ring was full) "
	if [[ $mode == a || $mode == e ]]; then
		# offrx-recv has exited: its XDP program must be gone before the kernel runs.
		local i
		for ((i = 0; i < 20; i++)); do
			xdp_attached || break
			sleep 0.1
		done
		xdp_attached && die "offrx-recv exited but left its XDP program on eng0 in $eng_ns"
		# (--no-hash: the engine hashes nothing, so only byte counts are compared.)
		local drops
		drops=$(grep -h '^{' "$d/recv.out" | grep -Eo '"(pkt|tcp|link|xsk)\.[^"]*":[0-9]+' |
			awk -F: '{ n += $2 } END { print n + 0 }')
		[[ $drops == 0 ]] || say "(engine dropped $drops frames: see its JSON drops) "
	fi
	local got sent secs
	got=$(jnum "$d/recv.out" bytes)
	secs=$(jnum "$d/recv.out" seconds)
	sent=$(jnum "$d/send.out" bytes)
	[[ -n $got && -n $secs && $got -gt 0 ]] || die "no byte count from the receiver in round $r"
	[[ $got == "$sent" ]] || say "(received $got of $sent bytes) "
	local gib gbps sys_pg recv_pg send_pg frame
	gib=$(calc "$got / 1073741824")
	gbps=$(calc "$got * 8 / $secs / 1e9")
	sys_pg=$(calc "($c1 - $c0) / $hz / $gib")
	recv_pg=$(calc "$(cpu_ticks "$d/recv") / $hz / $gib")
	send_pg=$(calc "$(cpu_ticks "$d/send") / $hz / $gib")
	frame=$(echo "$rx0 $rx1" | awk '{ printf "%.0f", ($4 > $2 ? ($3 - $1) / ($4 - $2) : 0) }')
	echo "$mode $r $gbps $sys_pg $recv_pg $send_pg $frame $((vd1 - vd0))" >>"$tmp/results"
	say "$(printf '%.2f Gbit/s, %.2f CPU s/GiB (receiver %.2f, sender %.2f), %s B frames' \
		"$gbps" "$sys_pg" "$recv_pg" "$send_pg" "$frame")"$'\n'
}

# The AF_XDP ceiling in round $2: offrx-bench-xsk fed by offrx-bench-blast, one frame per
# message (mode x) or 44-segment GSO super-segments (mode y). The receiver sleeps in poll()
# when its ring is empty, as offrx-recv does.
ceiling_run()
{
	local mode=$1 r=$2 d=$tmp/$1.$2 mac c0 c1 how=() label="frame by frame"
	mkdir -p "$d"
	if [[ $mode == y ]]; then
		how=(--gso 44)
		label="GSO bursts"
	fi
	say "round $r/$rounds: ceiling, AF_XDP without TCP, $label ... "
	# As for (a): the peer computes full checksums (tx off), so the frames are valid.
	peer_offloads a
	mac=$(ip -n "$eng_ns" -br link show eng0 | awk '{ print $3 }')
	spawn "$d/recv" ip netns exec "$eng_ns" "$xsk_bin" --iface eng0 --port $port \
		--seconds "$ceiling_secs"
	ready "$d/recv" "receiving on"
	c0=$(sys_busy)
	spawn "$d/send" ip netns exec "$peer_ns" "$blast_bin" --iface peer0 --dst-mac "$mac" \
		--port $port --seconds "$ceiling_secs" "${how[@]}"
	finish "$d/send" $((ceiling_secs + 10)) ||
		die "offrx-bench-blast failed in round $r: $(tail -n 3 "$d/send.err")"
	finish "$d/recv" 10 || die "offrx-bench-xsk failed in round $r: $(tail -n 3 "$d/recv.err")"
	c1=$(sys_busy)
	local pay gbps sent got fps frame sys_pg recv_pg send_pg
	pay=$(jnum "$d/recv.out" payload_bytes)
	gbps=$(jnum "$d/recv.out" payload_gbit_s)
	got=$(jnum "$d/recv.out" frames)
	sent=$(jnum "$d/send.out" frames)
	fps=$(jnum "$d/send.out" frames_per_s)
	frame=$(jnum "$d/send.out" frame_bytes)
	local gib
	gib=$(calc "$pay / 1073741824")
	sys_pg=$(calc "($c1 - $c0) / $hz / $gib")
	recv_pg=$(calc "$(cpu_ticks "$d/recv") / $hz / $gib")
	send_pg=$(calc "$(cpu_ticks "$d/send") / $hz / $gib")
	echo "$mode $r $gbps $sys_pg $recv_pg $send_pg $frame" >>"$tmp/results"
	say "$(printf '%.2f Gbit/s of payload, blaster %s frames/s, %s of %s frames received' \
		"$gbps" "$fps" "$got" "$sent")"$'\n'
}

# Median (and min, max) of column $2 for mode $1: "median min max".
stat_of()
{
	awk -v m="$1" -v c="$2" '$1 == m { print $c }' "$tmp/results" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (!NR) { print "nan nan nan"; exit }
			med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print med, v[1], v[NR] }'
}

# Per-round ratio of column $3 between modes $1 and $2: "median min max".
ratio_of()
{
	awk -v a="$1" -v b="$2" -v c="$3" '
		$1 == a { x[$2] = $c } $1 == b { y[$2] = $c }
		END { for (r in x) if ((r in y) && y[r] > 0) print x[r] / y[r] }' "$tmp/results" |
		sort -g | awk '{ v[NR] = $1 } END {
			if (!NR) { print "nan nan nan"; exit }
			med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			print med, v[1], v[NR] }'
}

fmt_stat()
{
	# "median (min-max)" with $1 decimals
	awk -v d="$1" '{ if (d + 0 == 0) printf "%.0f", $1;
		else printf "%.*f (%.*f-%.*f)", d, $1, d, $2, d, $3 }'
}

# ratio_header: the ratio table's header, after a blank line; sets the caller's row_fmt (and
# sep_row in markdown) for its rows
ratio_header()
{
	echo
	if ((markdown)); then
		row_fmt='| %s | %s | %s |\n'
		sep_row='| --- | ---: | ---: |'
	else
		row_fmt='%-40s %-20s %s\n'
	fi
	printf "$row_fmt" "ratio (median of per-round, min-max)" "throughput" "system CPU/GiB"
	if [[ -n $sep_row ]]; then echo "$sep_row"; fi
}

# The row format is chosen once, for text or Markdown; every cell goes in through %s.
# shellcheck disable=SC2059
print_table()
{
	local sep_row='' row_fmt m label
	if ((markdown)); then
		row_fmt='| %s | %s | %s | %s | %s | %s |\n'
		sep_row='| --- | ---: | ---: | ---: | ---: | ---: |'
	else
		row_fmt='%-40s %-20s %-20s %-20s %-20s %s\n'
	fi
	printf "$row_fmt" "run (median of $rounds, min-max)" "Gbit/s" "system CPU s/GiB" \
		"receiver CPU s/GiB" "sender CPU s/GiB" "rx frame B"
	[[ -n $sep_row ]] && echo "$sep_row"
	for m in a b c d x y; do
		case $m in
		a) label="(a) engine, offrx-recv" ;;
		b) label="(b) kernel TCP, peer GSO/TSO on" ;;
		c) label="(c) kernel TCP, peer GSO/TSO off" ;;
		d) label="(d) kernel TCP, frames as (a)" ;;
		x) label="ceiling: AF_XDP, no TCP, frame by frame" ;;
		y) label="ceiling: AF_XDP, no TCP, GSO bursts" ;;
		esac
		printf "$row_fmt" "$label" "$(stat_of $m 3 | fmt_stat 2)" \
			"$(stat_of $m 4 | fmt_stat 2)" "$(stat_of $m 5 | fmt_stat 2)" \
			"$(stat_of $m 6 | fmt_stat 2)" "$(stat_of $m 7 | fmt_stat 0)"
	done
	ratio_header
	printf "$row_fmt" "a/b" "$(ratio_of a b 3 | fmt_stat 2)" "$(ratio_of a b 4 | fmt_stat 2)"
	printf "$row_fmt" "a/c" "$(ratio_of a c 3 | fmt_stat 2)" "$(ratio_of a c 4 | fmt_stat 2)"
	printf "$row_fmt" "a/d (identical frames)" "$(ratio_of a d 3 | fmt_stat 2)" \
		"$(ratio_of a d 4 | fmt_stat 2)"
	printf "$row_fmt" "a/ceiling, frame by frame" "$(ratio_of a x 3 | fmt_stat 2)" "-"
	printf "$row_fmt" "a/ceiling, GSO bursts" "$(ratio_of a y 3 | fmt_stat 2)" "-"
}

# The --defaults table: E and K, and the throughput ratio E/K.
# shellcheck disable=SC2059
print_defaults_table()
{
	local sep_row='' row_fmt m label
	if ((markdown)); then
		row_fmt='| %s | %s | %s | %s | %s | %s |\n'
		sep_row='| --- | ---: | ---: | ---: | ---: | ---: |'
	else
		row_fmt='%-34s %-20s %-20s %-20s %-20s %s\n'
	fi
	printf "$row_fmt" "run (median of $rounds, min-max)" "Gbit/s" "system CPU s/GiB" \
		"receiver CPU s/GiB" "sender CPU s/GiB" "peer TX dropped"
	[[ -n $sep_row ]] && echo "$sep_row"
	for m in e k; do
		case $m in
		e) label="(E) offrx-recv, defaults" ;;
		k) label="(K) kernel TCP, defaults" ;;
		esac
		printf "$row_fmt" "$label" "$(stat_of $m 3 | fmt_stat 2)" \
			"$(stat_of $m 4 | fmt_stat 2)" "$(stat_of $m 5 | fmt_stat 2)" \
			"$(stat_of $m 6 | fmt_stat 2)" "$(stat_of $m 8 | fmt_stat 0)"
	done
	echo
	local med_e med_k
	med_e=$(stat_of e 3 | awk '{ print $1 }')
	med_k=$(stat_of k 3 | awk '{ print $1 }')
	echo "E/K throughput: median of the per-round ratios $(ratio_of e k 3 | fmt_stat 2);" \
		"ratio of the medians $(calc "$med_e / $med_k")"
}

# --queues: the peer's XPS for Q queues: CPU c sends on tx queue c mod Q (the others none).
queues_xps()
{
	local q=$1 i c mask ncpu
	ncpu=$(nproc)
	for ((i = 0; i < qmax; i++)); do
		mask=0
		for ((c = 0; c < ncpu; c++)); do
			((c % q == i)) && mask=$((mask | 1 << c))
		done
		ip netns exec "$peer_ns" sh -c \
			"printf '%x' $mask >/sys/class/net/peer0/queues/tx-$i/xps_cpus" ||
			die "cannot set the peer's XPS for tx-$i"
	done
}

# One --queues run: side $1 (e: the engine, k: the kernel) on $2 queues in round $3. Appends
# "eQ|kQ round gbit_s sys_pg recv_pg send_pg q0_pg q1_pg .. (8 columns) q0_frames% .. (8)
# engine_drops peer_tx_dropped".
queues_run()
{
	local side=$1 q=$2 r=$3 d=$tmp/$1$2.$3 label conns ncpu c per qlist cpus
	ncpu=$(nproc)
	conns=$((2 * ncpu))
	per=$(($(numfmt --from=iec "$bytes") / conns))
	mkdir -p "$d"
	queues_xps "$q"
	peer_offloads a
	if [[ $side == e ]]; then
		label="engine on $q queue(s)"
		qlist=0
		cpus=
		((q > 1)) && qlist="0-$((q - 1))"
		for ((c = 0; c < q; c++)); do
			cpus+="${cpus:+,}$((c % ncpu))" # queue c's thread beside its sender
		done
		say "round $r/$rounds: $label ... "
		spawn "$d/recv" ip netns exec "$eng_ns" "${untraced[@]}" "$recv_bin" --iface eng0 \
			--port $port --depth $depth --buf-size $buf_size --json --max-conns $conns \
			--no-hash --window "$window" --napi-threaded --queues "$qlist" --cpus "$cpus"
		ready "$d/recv" "receiving on"
	else
		label="kernel, $q queue(s)"
		say "round $r/$rounds: $label ... "
		xdp_attached && die "an XDP program is still on eng0 in $eng_ns before the kernel run"
		spawn "$d/recv" ip netns exec "$eng_ns" "$sink_bin" --port $port --rcvbuf "$rcvbuf" \
			--conns $conns
		ready "$d/recv" "listening"
	fi
	local c0 c1 send_ticks=0 vd0 vd1 drops=nan # the kernel's: not counted here
	vd0=$(peer_tx_dropped)
	c0=$(sys_busy)
	for ((c = 0; c < ncpu; c++)); do
		spawn "$d/send$c" ip netns exec "$peer_ns" taskset -c $c timeout 300 "$send_bin" \
			--json --quiet -n "$per" --conns 2 -S $((c * 100 + 1)) $eng_ip:$port
	done
	for ((c = 0; c < ncpu; c++)); do
		finish "$d/send$c" 310 ||
			die "offrx-send failed in round $r ($label): $(tail -n 3 "$d/send$c.err")"
		send_ticks=$((send_ticks + $(cpu_ticks "$d/send$c" | cut -d. -f1)))
	done
	finish "$d/recv" 20 || die "receiver failed in round $r ($label): $(tail -n 3 "$d/recv.err")"
	c1=$(sys_busy)
	vd1=$(peer_tx_dropped)
	if [[ $side == e ]]; then
		# What the engine refused (not mq.moved: a hand-over, no drop), as in (a).
		drops=$(grep -h '^{"connections"' "$d/recv.out" | grep -Eo '"(pkt|tcp|link|xsk)\.[^"]*":[0-9]+' |
			awk -F: '{ n += $2 } END { print n + 0 }')
		local i
		for ((i = 0; i < 20; i++)); do
			xdp_attached || break
			sleep 0.1
		done
		xdp_attached && die "offrx-recv exited but left its XDP program on eng0 in $eng_ns"
	fi
	local line
	line=$(python3 - "$d/recv.out" "$side$q" "$r" "$((c1 - c0))" "$hz" \
		"$(cpu_ticks "$d/recv")" "$send_ticks" "$drops" "$((vd1 - vd0))" <<'PY'
import json, sys
out, mode, rnd, sys_ticks, hz, recv_ticks, send_ticks = sys.argv[1:8]
hz = float(hz)
d = [json.loads(l) for l in open(out) if l.startswith('{"connections"')][-1]
conns = d["connections"]
got = sum(c["bytes"] for c in conns)
secs = max(c["seconds"] for c in conns)
gib = got / 2**30
cols = [mode, rnd, "%.3f" % (got * 8 / secs / 1e9), "%.3f" % (float(sys_ticks) / hz / gib),
        "%.3f" % (float(recv_ticks) / hz / gib), "%.3f" % (float(send_ticks) / hz / gib)]
qs = d.get("queues", [])
frames = sum(q["rx_frames"] for q in qs) or 1
pg = ["%.3f" % (q["thread_cpu_s"] / gib) for q in qs[:8]] if mode[0] == "e" else []
share = ["%.1f" % (100.0 * q["rx_frames"] / frames) for q in qs[:8]] if mode[0] == "e" else []
cols += pg + ["nan"] * (8 - len(pg)) + share + ["nan"] * (8 - len(share))
cols += [sys.argv[8], sys.argv[9]]
print(" ".join(cols))
sys.stderr.write("%d connections, %d bytes; " % (len(conns), got))
PY
	) || die "no result from the receiver in round $r ($label)"
	echo "$line" >>"$tmp/results"
	say "$(echo "$line" | awk '{ printf "%.2f Gbit/s, %.2f CPU s/GiB (receiver %.2f, sender %.2f)", $3, $4, $5, $6
		if ($7 != "nan") { printf "; per queue CPU s/GiB"; for (i = 7; i <= 14 && $i != "nan"; i++) printf " %s", $i
			printf ", frames %%"; for (i = 15; i <= 22 && $i != "nan"; i++) printf " %s", $i }
		printf "; drops: engine %s, peer TX %s", $23, $24 }')"$'\n'
}

# The --queues table: for each count, the engine and the kernel, and the per-queue figures.
# shellcheck disable=SC2059
print_queues_table()
{
	local sep_row='' row_fmt m q side label i pq sh
	if ((markdown)); then
		row_fmt='| %s | %s | %s | %s | %s | %s | %s | %s |\n'
		sep_row='| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
	else
		row_fmt='%-28s %-20s %-20s %-20s %-20s %-28s %-20s %s\n'
	fi
	printf "$row_fmt" "run (median of $rounds, min-max)" "Gbit/s" "system CPU s/GiB" \
		"receiver CPU s/GiB" "sender CPU s/GiB" "per-queue thread CPU s/GiB" \
		"frames per queue %" "drops: engine / peer TX"
	[[ -n $sep_row ]] && echo "$sep_row"
	for q in ${queues_list//,/ }; do
		for side in e k; do
			m=$side$q
			label="(E$q) engine, $q queue(s)"
			[[ $side == k ]] && label="(K$q) kernel TCP, $q queue(s)"
			pq=-
			sh=-
			if [[ $side == e ]]; then
				pq=
				sh=
				for ((i = 0; i < q; i++)); do
					pq+="${pq:+ / }$(stat_of "$m" $((7 + i)) | awk '{ printf "%.2f", $1 }')"
					sh+="${sh:+ / }$(stat_of "$m" $((15 + i)) | awk '{ printf "%.0f", $1 }')"
				done
			fi
			printf "$row_fmt" "$label" "$(stat_of "$m" 3 | fmt_stat 2)" \
				"$(stat_of "$m" 4 | fmt_stat 2)" "$(stat_of "$m" 5 | fmt_stat 2)" \
				"$(stat_of "$m" 6 | fmt_stat 2)" "$pq" "$sh" \
				"$(stat_of "$m" 23 | fmt_stat 0 | sed 's/nan/-/') / $(stat_of "$m" 24 | fmt_stat 0)"
		done
	done
	ratio_header
	for q in ${queues_list//,/ }; do
		printf "$row_fmt" "E$q/K$q" "$(ratio_of "e$q" "k$q" 3 | fmt_stat 2)" \
			"$(ratio_of "e$q" "k$q" 4 | fmt_stat 2)"
	done
	local first=${queues_list%%,*} q2
	for q2 in ${queues_list//,/ }; do
		[[ $q2 == "$first" ]] && continue
		printf "$row_fmt" "E$q2/E$first" "$(ratio_of "e$q2" "e$first" 3 | fmt_stat 2)" \
			"$(ratio_of "e$q2" "e$first" 4 | fmt_stat 2)"
	done
}

if [[ -n $queues_list ]]; then
	command -v python3 >/dev/null 2>&1 || die "'python3' not found: run scripts/install-deps"
	command -v taskset >/dev/null 2>&1 || die "'taskset' not found (util-linux)"
	qmax=$(tr , '\n' <<<"$queues_list" | sort -n | tail -n 1)
	say "$prog --queues $queues_list: topology $prefix (scripts/netns up --queues $qmax)," \
		"$rounds rounds of $bytes, $(nproc) CPUs"$'\n'
	"$root/scripts/netns" up --name "$prefix" --queues "$qmax" >/dev/null
	: >"$tmp/results"
	bg_rounds=()
	for ((r = 1; r <= rounds; r++)); do
		b0=$(sys_busy)
		sleep 1
		bg_rounds+=("$(awk -v d=$(($(sys_busy) - b0)) -v hz="$hz" 'BEGIN { printf "%.0f", d * 100 / hz }')")
		say "round $r/$rounds: background load ${bg_rounds[-1]}% of one CPU, idle for 1 s"$'\n'
		for q in ${queues_list//,/ }; do
			queues_run e "$q" "$r"
			queues_run k "$q" "$r"
		done
	done
	say "engine queue modes: $(grep -ho '"mode":"[a-z-]*"' "$tmp/e$qmax.1/recv.out" | cut -d'"' -f4 | tr '\n' ' ')"$'\n'
	print_queues_table
	echo
	echo "Background load (whole-system CPU in 1 s idle, % of one CPU) before each round:" \
		"${bg_rounds[*]}. Whatever else runs during a round is in its system CPU figures."
	exit 0
fi

if ((defaults)); then
	say "$prog --defaults: topology $prefix (scripts/netns), $rounds rounds of $bytes"$'\n'
	"$root/scripts/netns" up --name "$prefix" >/dev/null
	: >"$tmp/results"
	for ((r = 1; r <= rounds; r++)); do
		tcp_run e "$r"
		tcp_run k "$r"
	done
	say "peer offloads: $(cat "$tmp/e.1/offloads")"$'\n'
	say "engine's window: $(jnum "$tmp/e.1/recv.out" rcv_wnd_max) bytes" \
		"(auto: $(grep -ho '"rcv_wnd_auto":[a-z]*' "$tmp/e.1/recv.out" | cut -d: -f2));" \
		"sink's SO_RCVBUF as the kernel reports it: $(jnum "$tmp/k.1/recv.out" so_rcvbuf)"$'\n'
	print_defaults_table
	exit 0
fi

say "$prog: topology $prefix (scripts/netns), $rounds rounds of $bytes, ceiling ${ceiling_secs} s"$'\n'
"$root/scripts/netns" up --name "$prefix" >/dev/null
: >"$tmp/results"

# What the rest of the machine burns while we do nothing: it lands in every system CPU figure.
background()
{
	local b0 b1
	b0=$(sys_busy)
	sleep 1
	b1=$(sys_busy)
	awk -v d=$((b1 - b0)) -v hz="$hz" 'BEGIN { printf "%.0f", d * 100 / hz }'
}
bg_rounds=()

for ((r = 1; r <= rounds; r++)); do
	bg_rounds+=("$(background)")
	say "round $r/$rounds: background load ${bg_rounds[-1]}% of one CPU, idle for 1 s"$'\n'
	tcp_run a "$r"
	tcp_run b "$r"
	tcp_run c "$r"
	tcp_run d "$r"
	ceiling_run x "$r"
	ceiling_run y "$r"
done
for m in a b c d; do
	say "peer offloads in ($m): $(cat "$tmp/$m.1/offloads")"$'\n'
done
say "sink SO_RCVBUF: asked $rcvbuf, kernel reports $(jnum "$tmp/b.1/recv.out" so_rcvbuf)"$'\n'
bg_after=$(background)
print_table
echo
echo "Background load (whole-system CPU in 1 s idle, % of one CPU) before each round:" \
	"${bg_rounds[*]}; after the last: $bg_after. Whatever else runs during a round is in" \
	"its system CPU figures and competes for the same 2 CPUs."
