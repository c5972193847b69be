# shellcheck shell=bash
# Checks over offrx-export's output (sourced after tests/support/checks.sh; by lib_export.sh and
# the tests that need no engine): needs $CHECK (check_export.py) and $WORK.

# py EXPR FILE: a Python expression over the JSON document in FILE (as d), true or not; d is
# None for JSON lines (the expression reads the file itself)
py() {
	python3 -c "
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    d = None
sys.exit(0 if ($1) else 1)" "${@:2}"
}

# subcheck NAME ARGS...: a check_export.py run, its lines shown when it fails
subcheck() {
	local name=$1
	shift
	if python3 "$CHECK" "$@" >"$WORK/sub.txt" 2>&1; then
		check "$name" true
	else
		sed 's/^/    /' "$WORK/sub.txt"
		check "$name" false
	fi
}
