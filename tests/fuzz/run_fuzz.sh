#!/usr/bin/env bash
# Run the libFuzzer harnesses of tests/fuzz for a while each and report, per harness,
# executions, exec/s, corpus size and crashes. Called by `make fuzz` and `make fuzz-ci`.
# Each run starts from a copy of the seed corpus (tests/fuzz/corpus/<h>) in a scratch dir
# under the build dir, so the repository never grows; crashes land in <work>/<h>/artifacts/.
set -euo pipefail

usage() {
	cat <<EOF
usage: tests/fuzz/run_fuzz.sh [--build DIR] [--seconds N] [--jobs N] [HARNESS...]
  --build DIR    build dir configured with OFFRX_FUZZ=ON (default: build-fuzz)
  --seconds N    fuzzing time per harness (default: \$FUZZ_SECONDS or 300)
  --jobs N       harnesses run at the same time (default: \$FUZZ_JOBS or 2)
  HARNESS        pkt, tcp, model, api (default: all four)
Exits 1 when any harness crashed or broke an invariant, naming the input that did it.
Reproduce one: <build>/tests/fuzz/fuzz_<h> <crash-file>   (or fuzz_replay_<h> in a gcc build)
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
build=build-fuzz
seconds=${FUZZ_SECONDS:-300}
jobs=${FUZZ_JOBS:-2}
harnesses=()
while [[ $# -gt 0 ]]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	pkt | tcp | model | api) harnesses+=("$1"); shift ;;
	*) echo "run_fuzz: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
[[ ${#harnesses[@]} -gt 0 ]] || harnesses=(pkt tcp model api)
build=$(cd "$build" && pwd)
work=$build/fuzz-work

run_one() {
	local h=$1 bin=$build/tests/fuzz/fuzz_$1 d=$work/$1
	if [[ ! -x $bin ]]; then
		echo "run_fuzz: $bin is missing: configure $build with -DOFFRX_FUZZ=ON" >&2
		return 1
	fi
	rm -rf "$d"
	mkdir -p "$d/corpus" "$d/artifacts"
	cp "$here/corpus/$h/"* "$d/corpus/"
	# -rss_limit_mb and -timeout turn memory growth and hangs into reported failures;
	# detect_leaks reports a leak as a crash of that input. A small ASan quarantine: each
	# tcp input sets up and frees a whole engine, and the default 256 MB quarantine costs
	# more than the run (use-after-free is still caught within 32 MB of frees).
	# -len_control=0: the scripts of tcp and model may grow long at once.
	set +e
	(cd "$d" && ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=32:malloc_context_size=10 \
		UBSAN_OPTIONS=print_stacktrace=1 \
		"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-len_control=0 -print_final_stats=1 -artifact_prefix="$d/artifacts/" \
		"$d/corpus" >"$d/log" 2>&1)
	echo $? >"$d/rc"
	set -e
}
export -f run_one
export build work here seconds

mkdir -p "$work"
echo "run_fuzz: ${harnesses[*]}, ${seconds} s each, $jobs at a time; logs in $work/<harness>/log"
printf '%s\n' "${harnesses[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

fail=0
printf '%-6s %12s %9s %8s %8s\n' harness executions exec/s corpus crashes
for h in "${harnesses[@]}"; do
	d=$work/$h
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" | tail -n1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log" | tail -n1)
	corpus=$(find "$d/corpus" -type f | wc -l)
	crashes=$(find "$d/artifacts" -type f | wc -l)
	rc=$(cat "$d/rc" 2>/dev/null || echo 1)
	printf '%-6s %12s %9s %8s %8s\n' "$h" "${execs:-?}" "${rate:-?}" "$corpus" "$crashes"
	if [[ $crashes -gt 0 || $rc -ne 0 ]]; then
		fail=1
		echo "  $h FAILED (exit $rc); see $d/log" >&2
		grep -m3 -E 'invariant broken|ERROR: |runtime error' "$d/log" | sed 's/^/  /' >&2 || true
		for f in "$d/artifacts/"*; do
			[[ -e $f ]] && echo "  crashing input: $f" >&2
		done
	fi
done
if [[ $fail -ne 0 ]]; then
	echo "run_fuzz: FAIL. Reproduce with $build/tests/fuzz/fuzz_<harness> <input>; add the" \
		"input to tests/fuzz/regress/<harness>/ once fixed." >&2
	exit 1
fi
echo "run_fuzz: OK, no crash"
