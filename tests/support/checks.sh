# shellcheck shell=bash
# check, finish and skip for the test scripts (sourced): each check prints "ok   NAME" or
# "FAIL NAME" and is counted; finish prints "P passed, F failed" and fails when any check did
# (the script's last command, so its status); skip exits 77, which CTest reports as skipped.
PASSED=0
FAILED=0

# CHECK_OUT: where the commands' own output goes (unset: the test's output; /dev/null, a log).
check() { # check NAME COMMAND...: COMMAND's status is the check's outcome
	local name=$1
	shift
	if if [[ -n ${CHECK_OUT:-} ]]; then "$@" >>"$CHECK_OUT" 2>&1; else "$@"; fi; then
		echo "ok   $name"
		PASSED=$((PASSED + 1))
	else
		echo "FAIL $name"
		FAILED=$((FAILED + 1))
	fi
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[[ $FAILED -eq 0 ]]
}

# wait_for SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds, at most SECONDS
wait_for() {
	local n=$(($1 * 20))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

skip() { # skip WHY...
	echo "skip: $*"
	exit 77
}
