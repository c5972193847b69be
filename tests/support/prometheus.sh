# shellcheck shell=bash
# A Prometheus server of the test's own (sourced after tests/support/checks.sh; needs $WORK and
# python3): the real one (Debian's prometheus), with a temporary config and TSDB under
# $WORK/prom and its web port on 127.0.0.1, so the machine's own Prometheus, if any, stays
# untouched. Skips (77) when prometheus is not installed. If the caller keeps a PIDS array
# (tests/support/trace.sh), the server's pid goes there too, to be killed at exit; otherwise
# call prom_stop at exit.
#   prom_start TARGET...: scrape each TARGET (HOST:PORT, path /metrics) every second, as job
#     "offrx"; waits (bounded) for /-/ready. $PROM_URL is its address, $PROM_PID its pid.
#     Fails with its log shown when it does not come up.
#   prom_stop: stop it (by its pid) and wait for it.
#   prom_value EXPR: an instant query's one value ("" when the result is empty; fails when
#     the query does, or the result has more than one series).
#   prom_wait_value SECONDS EXPR EXPECTED: poll (every 0.25 s) until prom_value EXPR is
#     EXPECTED (compared as numbers); the last value seen in $PROM_LAST.
command -v prometheus >/dev/null || { echo "skip: prometheus missing (scripts/install-deps)"; exit 77; }
PROM_URL=
PROM_PID=
PROM_LAST=

prom_start() {
	local dir=$WORK/prom t targets='' port end
	mkdir -p "$dir"
	for t in "$@"; do targets+="${targets:+, }'$t'"; done
	cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: offrx
    static_configs:
      - targets: [$targets]
EOF
	# A port picked at random can be taken by the time prometheus binds it: try again.
	for _ in 1 2 3 4 5; do
		port=$((30000 + RANDOM % 20000))
		prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
			--web.listen-address="127.0.0.1:$port" >>"$dir/log" 2>&1 &
		PROM_PID=$!
		PROM_URL=http://127.0.0.1:$port
		end=$((SECONDS + 30)) # its first start on a loaded machine is slow
		while ((SECONDS < end)); do
			kill -0 "$PROM_PID" 2>/dev/null || break
			if prom_get "$PROM_URL/-/ready" >/dev/null 2>&1; then
				declare -p PIDS >/dev/null 2>&1 && PIDS+=("$PROM_PID")
				return 0
			fi
			sleep 0.1
		done
		prom_stop
		grep -q "address already in use" "$dir/log" || break
	done
	echo "prometheus did not come up; its log:"
	sed 's/^/    /' "$dir/log"
	return 1
}

prom_stop() {
	[[ -n "$PROM_PID" ]] || return 0
	kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null
	PROM_PID=
	return 0
}

prom_get() { # prom_get URL: the body on stdout; fails unless 200
	python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1"
}

prom_value() { # prom_value EXPR
	python3 - "$PROM_URL" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
d = json.load(urllib.request.urlopen(url, timeout=5))
if d.get("status") != "success":
    sys.exit("query failed: %s" % d)
r = d["data"]["result"]
if len(r) > 1:
    sys.exit("%d series, not one: %s" % (len(r), r))
print(r[0]["value"][1] if r else "")
EOF
}

prom_wait_value() { # prom_wait_value SECONDS EXPR EXPECTED
	local end=$((SECONDS + $1))
	PROM_LAST=
	while ((SECONDS < end)); do
		PROM_LAST=$(prom_value "$2" 2>&1) || true
		[[ -n "$PROM_LAST" ]] && python3 -c 'import sys; sys.exit(float(sys.argv[1]) != float(sys.argv[2]))' \
			"$PROM_LAST" "$3" 2>/dev/null && return 0
		sleep 0.25
	done
	return 1
}
