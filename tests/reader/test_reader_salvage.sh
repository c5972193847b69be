#!/usr/bin/env bash
# tracer/reader's salvage of damaged stream files, on a CTF trace written by hand (mk_ctf.py:
# big-endian, a packet context laid out unlike LTTng's, three packets of three events of
# another provider): the packets are found where the metadata puts packet_size, a file cut or
# corrupted is read up to its last whole packet (the events of the whole packets counted, the
# file, the place and the bytes dropped named, exit 1), a file cut at a packet boundary reads
# as whole, and no trimmed copy is left behind. No root, no LTTng.
set -euo pipefail
BIN=${OFFRX_BIN:?OFFRX_BIN is the build directory}
SRC=${OFFRX_SRC:?OFFRX_SRC is the source directory}
DUMP=$BIN/tracer/reader/offrx-trace-dump
[[ -x $DUMP ]] || { echo "skip: $DUMP is not built"; exit 77; }
command -v babeltrace2 >/dev/null || { echo "skip: babeltrace2 missing"; exit 77; }
WORK=$(mktemp -d /tmp/offrx-salvage-test.XXXXXX)
. "$(dirname "${BASH_SOURCE[0]}")/../support/on_exit.sh"
on_exit 'rm -rf "$WORK"'
export TMPDIR=$WORK/tmp
mkdir "$TMPDIR"
. "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"

python3 "$SRC/tests/reader/mk_ctf.py" "$WORK/good"
check "babeltrace2 reads the hand-made trace: 9 events" test "$(babeltrace2 "$WORK/good" | wc -l)" -eq 9

# case NAME: a copy of the good trace to damage; prints its directory
case_dir() { cp -a "$WORK/good" "$WORK/$1"; echo "$WORK/$1"; }
# poke FILE OFFSET HEX: overwrite bytes
poke() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

# expect NAME DIR RC OTHER PHRASE: offrx-trace-dump DIR exits RC, counts OTHER events of other
# providers, and says PHRASE
expect() {
	local name=$1 dir=$2 want_rc=$3 other=$4 phrase=$5 rc=0
	timeout -k 5 20 "$DUMP" "$dir" >/dev/null 2>"$WORK/$name.err" || rc=$?
	if [[ $rc -eq $want_rc ]] && grep -qF -- "$phrase" "$WORK/$name.err" &&
		grep -qF "(0 offrx, $other other)" "$WORK/$name.err"; then
		check "$name: exit $want_rc, $other events of the whole packets, '$phrase'" true
	else
		sed "s/^/  exit $rc: /" "$WORK/$name.err"
		check "$name: exit $want_rc, $other events of the whole packets, '$phrase'" false
	fi
}

expect whole "$WORK/good" 1 9 "no offrx events in"
d=$(case_dir cut-mid-packet)
truncate -s 306 "$d/chan_0"
expect cut-mid-packet "$d" 1 6 \
	"the stream file $d/chan_0 ends inside the packet at byte 256 (50 of its 128 bytes): read up to its last whole packet, dropped 50 of its 306 bytes"
d=$(case_dir cut-in-header)
truncate -s 276 "$d/chan_0"
expect cut-in-header "$d" 1 6 \
	"the stream file $d/chan_0 ends inside the packet header at byte 256: read up to its last whole packet, dropped 20 of its 276 bytes"
d=$(case_dir cut-in-first-packet)
truncate -s 50 "$d/chan_0"
expect cut-in-first-packet "$d" 1 0 "the stream file $d/chan_0 ends inside the packet at byte 0"
d=$(case_dir bad-magic)
poke "$d/chan_0" 128 '\xde\xad\xbe\xef'
expect bad-magic "$d" 1 3 \
	"the stream file $d/chan_0 has a corrupt packet at byte 128: it does not start with the CTF magic 0xc1fc1fc1 (0xdeadbeef): read up to its last whole packet, dropped 256 of its 384 bytes"
# packet_size (big-endian, bytes 10-17 of the packet) of the second packet: 1001 bits
d=$(case_dir bad-size)
poke "$d/chan_0" $((128 + 10)) '\x00\x00\x00\x00\x00\x00\x03\xe9'
expect bad-size "$d" 1 3 "has a corrupt packet at byte 128: packet_size 1001 bits"
d=$(case_dir cut-at-boundary)
truncate -s 256 "$d/chan_0"
expect cut-at-boundary "$d" 1 6 "no offrx events in"
check "cut-at-boundary: ... not called damaged" eval '! grep -q damaged "$WORK/cut-at-boundary.err"'
check "no trimmed copy is left in TMPDIR" test -z "$(ls -A "$TMPDIR")"

finish
