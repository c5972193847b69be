#!/usr/bin/env bash
# The verifier catches faults: seeded faults, each of which breaks one rule, must be reported by
# offrx-export --verify with that rule's ID.
#  - trace faults (tests/verify/trace_mutants.py): events dropped, duplicated, reordered or
#    altered in a clean recording of gen_scenarios (seeds 1..40), read back as jsonl;
#  - core faults (tests/verify/mutants.txt): the mutant core (engine/src/mutant.h) with fault n
#    on, driven by the same scenarios (seeds 1..SCEN) under a real LTTng session.
# Prints every fault with its verdict and the kill rate per rule; exit 0 only at 100%.
#   run_mutants.sh [--scenarios N] [--table FILE]   (FILE: the markdown table, for RESULTS.md)
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
HERE=$SRC/tests/verify
EXPORT=$BIN/exporters/offrx-export
SCEN=40 TABLE=
while [[ $# -gt 0 ]]; do
	case $1 in
	--scenarios) SCEN=$2; shift 2 ;;
	--table) TABLE=$2; shift 2 ;;
	*) echo "run_mutants.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for f in "$EXPORT" "$BIN/tests/verify/gen_scenarios" "$BIN/tests/verify/gen_scenarios_mutant"; do
	[[ -x $f ]] || { echo "skip: $f is not built"; exit 77; }
done
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-mutants.XXXXXX)
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'rm -rf "$WORK"'
RESULTS=$WORK/results.txt
: >"$RESULTS"

# 1. A clean recording, then the trace faults planted in it.
rc=0
"$HERE/run_scenarios.sh" --count 40 --seed 1 --keep "$WORK/clean" >"$WORK/clean.log" 2>&1 || rc=$?
if [[ $rc -ne 0 ]]; then
	echo "FAIL: the clean recording did not verify clean (exit $rc):"
	sed 's/^/    /' "$WORK/clean.log" | head -30
	exit 1
fi
"$EXPORT" "$WORK/clean/trace-1" >"$WORK/clean.jsonl" 2>"$WORK/export.err"
mkdir -p "$WORK/edits"
python3 "$HERE/trace_mutants.py" "$EXPORT" "$WORK/clean.jsonl" "$WORK/edits" | tee -a "$RESULTS"

# 2. The core faults.
while read -r n rule what; do
	[[ -z $n || $n == \#* ]] && continue
	out=$("$HERE/run_scenarios.sh" --mutant "$n" --rule "$rule" --count "$SCEN" --seed 1 2>&1) &&
		verdict=killed || verdict=SURVIVED
	echo "core $n $rule $verdict ($what)" | tee -a "$RESULTS"
	[[ $verdict == killed ]] || echo "$out" | sed 's/^/    /' | head -5
done <"$HERE/mutants.txt"

# 3. The kill rate per rule.
python3 - "$RESULTS" "${TABLE:-}" <<'EOF'
import collections, sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith(("trace ", "core "))]
by = collections.OrderedDict()
for r in sorted(rows, key=lambda r: r[2]):
    k = by.setdefault(r[2], {"trace": 0, "core": 0, "killed": 0, "all": 0, "nosite": 0})
    if r[3] == "nosite":
        k["nosite"] += 1
        continue
    k[r[0]] += 1
    k["all"] += 1
    k["killed"] += r[3] == "killed"
lines = ["| rule | faults (trace + core) | killed | kill rate |", "| --- | --- | --- | --- |"]
tot = kil = 0
for rule, k in by.items():
    tot += k["all"]
    kil += k["killed"]
    rate = 100.0 * k["killed"] / k["all"] if k["all"] else 0.0
    lines.append(f"| {rule} | {k['all']} ({k['trace']} + {k['core']}) | {k['killed']} | {rate:.0f}% |")
lines.append(f"| all | {tot} | {kil} | {100.0 * kil / tot:.0f}% |")
print("\n".join(lines))
if sys.argv[2]:
    open(sys.argv[2], "w").write("\n".join(lines) + "\n")
few = [r for r, k in by.items() if k["all"] < 2]
if few:
    print("rules with fewer than two faults that ran:", " ".join(few))
sys.exit(0 if kil == tot and not few else 1)
EOF
