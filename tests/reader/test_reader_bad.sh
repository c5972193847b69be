#!/usr/bin/env bash
# tracer/reader on bad input: every case exits 1 with a sentence that says what is wrong (not
# a crash, not a hang, not exit 0): a missing directory, an empty one, a file, damaged
# metadata, truncated or scrambled stream files, a trace without streams, and a real trace of
# another provider (lttng-ust's libc wrapper). Usage errors exit 2.
. "$OFFRX_SRC/tests/support/e2e.sh"
. "$OFFRX_SRC/tests/reader/lib_reader.sh"

# expect_error NAME PHRASE ARGS...: offrx-trace-dump ARGS exits 1 and stderr holds PHRASE
expect_error() {
	local name=$1 phrase=$2 rc=0
	shift 2
	timeout -k 5 20 "$DUMP" "$@" >/dev/null 2>"$WORK/err.txt" || rc=$?
	if [[ $rc -eq 1 ]] && grep -q -- "$phrase" "$WORK/err.txt"; then
		check "$name: exit 1, '$phrase...'" true
	else
		sed "s/^/  exit $rc: /" "$WORK/err.txt"
		check "$name: exit 1, '$phrase...'" false
	fi
}

record_trace --max-conns 1
send -p messages -s 1000 -c 3 10.77.0.1:5201
wait_recv >/dev/null || true
GOOD=$WORK/good
mv "$TRACE_SRC" "$GOOD"
CH=ust/uid/0/64-bit # where a per-UID trace keeps its metadata and streams
quiet() { "$@" >/dev/null 2>&1; }
check "a good trace reads (the baseline)" quiet "$DUMP" --count "$GOOD"
streams=("$GOOD/$CH"/offrx_*)
stream=${streams[0]##*/}

# copy NAME: a fresh copy of the good trace, damaged by the caller
copy() { rm -rf "${WORK:?}/$1"; cp -a "$GOOD" "$WORK/$1"; echo "$WORK/$1"; }

expect_error "a missing directory" "cannot open the trace directory" "$WORK/nonexistent"
mkdir "$WORK/empty"
expect_error "an empty directory" "no CTF trace under" "$WORK/empty"
expect_error "a file" "is not a directory" "$GOOD/$CH/$stream"

t=$(copy garbage-metadata)
head -c 4096 /dev/urandom >"$t/$CH/metadata"
expect_error "garbage metadata" "is not CTF metadata" "$t"
# babeltrace2 2.0.4 itself spins forever on metadata that ends inside a packet.
t=$(copy cut-metadata)
truncate -s 200 "$t/$CH/metadata"
expect_error "metadata cut inside its first packet" "is cut short: its packet at byte 0" "$t"
t=$(copy cut-metadata-late)
truncate -s $(($(stat -c %s "$GOOD/$CH/metadata") - 1)) "$t/$CH/metadata"
expect_error "metadata missing its last byte" "is cut short" "$t"
t=$(copy empty-metadata)
: >"$t/$CH/metadata"
expect_error "empty metadata" "metadata of the trace in '$t/$CH' is empty" "$t"
t=$(copy text-metadata-cut)
babeltrace2 --output-format=ctf-metadata "$GOOD/$CH" >"$t/$CH/metadata"
truncate -s 2000 "$t/$CH/metadata"
expect_error "plain-text metadata cut short" "cannot read the CTF trace in" "$t"

size=$(stat -c %s "$GOOD/$CH/$stream")
t=$(copy cut-stream)
truncate -s $((size / 2 + 7)) "$t/$CH/$stream"
expect_error "a stream file cut in the middle" "$stream" "$t"
t=$(copy cut-stream-noindex)
rm -rf "$t/$CH/index"
truncate -s $((size / 2 + 7)) "$t/$CH/$stream"
expect_error "a stream file cut in the middle, without its index" "$stream ends inside" "$t"
t=$(copy tiny-stream)
truncate -s 10 "$t/$CH/$stream"
expect_error "a stream file of 10 bytes" "$stream ends inside the packet header at byte 0" "$t"
t=$(copy scrambled-stream)
head -c "$size" /dev/urandom >"$t/$CH/$stream"
expect_error "a stream file of random bytes" "$stream has a corrupt packet at byte 0" "$t"
t=$(copy no-streams)
rm -rf "$t/$CH"/offrx_* "$t/$CH/index"
expect_error "a trace with metadata and no stream" "the trace holds no event at all" "$t"

# A real trace of another provider: lttng-ust's libc wrapper records malloc and free.
if other_provider_trace offrxbad$$ "$WORK/libc"; then
	expect_error "a trace of another provider" "no offrx events in .*lttng_ust_libc:" "$WORK/libc"
	check "... after reading it all (its events counted as other)" \
		grep -Eq '\(0 offrx, [1-9][0-9]* other\)' "$WORK/err.txt"
else
	echo "  (no liblttng-ust-libc-wrapper.so: the other-provider case is skipped)"
fi

expect_error "a malformed live URL" "is not a live session URL" "net://"
rc=0
"$DUMP" >/dev/null 2>&1 || rc=$?
check "no input: exit 2 ($rc)" test "$rc" -eq 2
rc=0
"$DUMP" --bogus "$GOOD" >/dev/null 2>&1 || rc=$?
check "an unknown option: exit 2 ($rc)" test "$rc" -eq 2
check "--help: exit 0 and the usage" bash -c "'$DUMP' --help | grep -q '^Usage: offrx-trace-dump'"
finish
