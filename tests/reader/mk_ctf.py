#!/usr/bin/env python3
"""Write a small CTF 1.8 trace by hand into DIR, for tests/reader/test_reader_salvage.sh: one
stream file 'chan_0' of three 128-byte packets of three 'other:tick' events each, big-endian,
with a packet context laid out unlike LTTng's (a 16-bit field first, packet_size before the
timestamps and content_size last: bytes 10 and 34), so a reader that finds packet_size where
LTTng puts it, rather than where the metadata says, is caught."""
import os
import struct
import sys

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
open(os.path.join(d, "metadata"), "w").write("""/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 16; align = 8; signed = false; } := uint16_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace {
	major = 1;
	minor = 8;
	byte_order = be;
	packet.header := struct {
		uint32_t magic;
		uint32_t stream_id;
	};
};
clock {
	name = "mono";
	freq = 1000000000;
};
typealias integer { size = 64; align = 8; signed = false; map = clock.mono.value; } := uint64_clock_t;
struct ctx {
	uint16_t pad_a;
	uint64_t packet_size;
	uint64_clock_t timestamp_begin;
	uint64_clock_t timestamp_end;
	uint64_t content_size;
};
stream {
	id = 0;
	packet.context := struct ctx;
	event.header := struct {
		uint32_t id;
		uint64_clock_t timestamp;
	};
};
event {
	name = "other:tick";
	id = 0;
	stream_id = 0;
	fields := struct {
		uint32_t n;
	};
};
""")
PACKET = 128
out = b""
t = 1000
for p in range(3):
    events = b""
    t0 = t
    for e in range(3):
        events += struct.pack(">IQI", 0, t, p * 3 + e)
        t += 10
    content = 42 + len(events)
    hdr = struct.pack(">II", 0xC1FC1FC1, 0) + struct.pack(">HQQQQ", 0, PACKET * 8, t0, t, content * 8)
    assert len(hdr) == 42
    out += (hdr + events).ljust(PACKET, b"\0")
open(os.path.join(d, "chan_0"), "wb").write(out)
