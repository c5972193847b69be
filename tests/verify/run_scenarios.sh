#!/usr/bin/env bash
# Random engine scenarios (tests/verify/gen_scenarios.c) recorded by a real LTTng session and
# judged by offrx-export --verify.
#
#   run_scenarios.sh [--count N] [--seed S] [--batch B]
#       N scenarios (default 100) from seed S (default 1), B per session (default 500; each
#       scenario is its own process, so its vpid names it in the trace). Every trace must
#       verify clean, with no loss. Prints the totals; exit 0 only if all are clean.
#   run_scenarios.sh --mutant M --rule R [--count N] [--seed S]
#       the same on the mutant core with fault M on: exit 0 if --verify reports rule R
#       (the fault was found), 1 if not. Used by run_mutants.sh.
#   --keep DIR   keep the traces and reports in DIR
#   --lock FILE  hold flock FILE while each session records (and only then): long runs share
#                the machine with other users of lttng-sessiond
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
EXPORT=$BIN/exporters/offrx-export
GEN=$BIN/tests/verify/gen_scenarios
COUNT=100 SEED=1 BATCH=500 MUTANT= RULE= KEEP= LOCK=
while [[ $# -gt 0 ]]; do
	case $1 in
	--count) COUNT=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--batch) BATCH=$2; shift 2 ;;
	--mutant) MUTANT=$2; shift 2 ;;
	--rule) RULE=$2; shift 2 ;;
	--keep) KEEP=$2; shift 2 ;;
	--lock) LOCK=$2; shift 2 ;;
	*) echo "run_scenarios.sh: unknown argument '$1' (see the comment at its top)" >&2; exit 2 ;;
	esac
done
[[ -n $MUTANT ]] && GEN=$BIN/tests/verify/gen_scenarios_mutant
for f in "$EXPORT" "$GEN"; do
	[[ -x $f ]] || { echo "skip: $f is not built"; exit 77; }
done
command -v lttng >/dev/null || { echo "skip: the lttng CLI is missing"; exit 77; }
pgrep -x lttng-sessiond >/dev/null || lttng-sessiond --daemonize >/dev/null
WORK=${KEEP:-$(mktemp -d /tmp/offrx-verify.XXXXXX)}
mkdir -p "$WORK"
SESSION=
finish() {
	[[ -n $SESSION ]] && lttng destroy "$SESSION" >/dev/null 2>&1
	[[ -n $KEEP ]] || rm -rf "$WORK"
}
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'finish'

# one_batch FIRST N TAG: record scenarios FIRST..FIRST+N-1 in one session, verify the trace
one_batch() {
	local first=$1 n=$2 tag=$3 rc=0
	SESSION=offrxverify$$_$tag
	lttng create "$SESSION" --output="$WORK/trace-$tag" >/dev/null
	lttng enable-channel -u -s "$SESSION" --buffers-uid --subbuf-size=4M --num-subbuf=16 \
		offrx >/dev/null
	# Per-UID buffers record every offrx engine of the user: keep only the scenarios.
	lttng enable-event -u -s "$SESSION" -c offrx 'offrx:*' \
		--filter '$ctx.procname == "gen_scenarios*"' >/dev/null
	lttng add-context -u -s "$SESSION" -c offrx -t vpid -t procname >/dev/null
	lttng start "$SESSION" >/dev/null
	if [[ -n $MUTANT ]]; then
		OFFRX_MUTANT=$MUTANT timeout 120 "$GEN" --seed "$first" --count "$n" \
			>"$WORK/gen-$tag.txt" 2>"$WORK/gen-$tag.err" || rc=$?
	else
		"$GEN" --seed "$first" --count "$n" >"$WORK/gen-$tag.txt" 2>"$WORK/gen-$tag.err" ||
			rc=$?
	fi
	lttng stop "$SESSION" >/dev/null
	lttng destroy "$SESSION" >/dev/null
	SESSION=
	GEN_RC=$rc
	VRC=0
	"$EXPORT" --verify "$WORK/trace-$tag" >"$WORK/verify-$tag.txt" 2>"$WORK/verify-$tag.err" ||
		VRC=$?
	[[ -n $KEEP ]] || rm -rf "$WORK/trace-$tag"
}

if [[ -n $MUTANT ]]; then
	one_batch "$SEED" "$COUNT" m$MUTANT
	if grep -q "^violation $RULE " "$WORK/verify-m$MUTANT.txt"; then
		grep -m1 "^violation $RULE " "$WORK/verify-m$MUTANT.txt"
		exit 0
	fi
	echo "fault $MUTANT: no $RULE violation in $COUNT scenarios (verify exit $VRC, generator exit $GEN_RC)"
	grep -m3 "^violation " "$WORK/verify-m$MUTANT.txt" || true
	exit 1
fi

start=$(date +%s)
done_n=0 bad=0 events=0 conns=0
while [[ $done_n -lt $COUNT ]]; do
	n=$((COUNT - done_n < BATCH ? COUNT - done_n : BATCH))
	first=$((SEED + done_n))
	if [[ -n $LOCK ]]; then
		exec {lockfd}>"$LOCK"
		flock "$lockfd"
	fi
	one_batch "$first" "$n" "$first"
	[[ -z $LOCK ]] || exec {lockfd}>&-
	rep=$WORK/verify-$first.txt
	if [[ $GEN_RC -ne 0 ]]; then
		echo "FAIL: the generator failed on scenarios $first..$((first + n - 1)) (exit $GEN_RC):"
		sed 's/^/    /' "$WORK/gen-$first.err" | head -20
		bad=$((bad + 1))
	fi
	if [[ $VRC -ne 0 ]] || ! grep -q "^verdict: OK, no violation$" "$rep" || grep -q "^LOSS" "$rep"; then
		echo "FAIL: scenarios $first..$((first + n - 1)): offrx-export --verify exit $VRC"
		sed 's/^/    /' "$rep" "$WORK/verify-$first.err" | head -40
		# name the seeds of the processes with violations
		for vpid in $(sed -n 's/^violation [A-Z0-9]* conn \([0-9]*\):.*/\1/p' "$rep" | sort -u | head -5); do
			grep " vpid $vpid\$" "$WORK/gen-$first.txt" |
				sed 's/^scenario seed /    replay: gen_scenarios --one /; s/ vpid .*//' || true
		done
		bad=$((bad + 1))
	fi
	seen=$(sed -n 's/^checked \([0-9]*\) events: connections \([0-9]*\).*/\1 \2/p' "$rep")
	events=$((events + ${seen% *}))
	conns=$((conns + ${seen#* }))
	done_n=$((done_n + n))
done
secs=$(($(date +%s) - start))
echo "scenarios $COUNT (seeds $SEED..$((SEED + COUNT - 1))), connections $conns, events $events, batches with a violation or loss: $bad, $secs s"
[[ $bad -eq 0 ]]
