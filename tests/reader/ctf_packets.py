#!/usr/bin/env python3
"""The packets of an LTTng-UST CTF 1.8 trace, read straight from its stream files (not through
babeltrace2, nor tracer/reader), for tests that need an independent count.

  ctf_packets.py discarded DIR   the events the tracer discarded, as the stream files record
                                 them: per stream, the events_discarded of its last packet (a
                                 running count written when a packet is closed), summed
  ctf_packets.py list FILE       one line per packet: offset, packet bytes, content bytes,
                                 events_discarded

The layout is LTTng-UST 2.13's (64-bit): packet header magic(4) uuid(16) stream_id(4)
stream_instance_id(8), then the packet context timestamp_begin(8) timestamp_end(8)
content_size(8) packet_size(8) packet_seq_num(8) events_discarded(8) cpu_id(4), sizes in bits.
The metadata is checked to declare that layout, so a changed tracer fails loudly here.
"""
import glob
import os
import struct
import subprocess
import sys

MAGIC = 0xC1FC1FC1
CONTEXT = ["timestamp_begin", "timestamp_end", "content_size", "packet_size",
           "packet_seq_num", "events_discarded", "cpu_id"]


def check_layout(trace):
    md = subprocess.run(["babeltrace2", "--output-format=ctf-metadata", trace],
                        capture_output=True, text=True, check=True).stdout
    ctx = md.split("struct packet_context {", 1)[1].split("};", 1)[0]
    names = [l.strip().rstrip(";").split()[-1] for l in ctx.strip().splitlines()]
    if names != CONTEXT or "byte_order = le;" not in md:
        sys.exit(f"{trace}: not the LTTng-UST 2.13 packet layout this script knows: {names}")


def packets(path):
    b = open(path, "rb").read()
    off = 0
    while off + 88 <= len(b):
        magic, = struct.unpack_from("<I", b, off)
        content, size, _seq, disc = struct.unpack_from("<QQQQ", b, off + 48)
        if magic != MAGIC or size % 8 or size // 8 < 88 or off + size // 8 > len(b):
            sys.exit(f"{path}: bad packet at byte {off}")
        yield off, size // 8, content // 8, disc
        off += size // 8
    if off != len(b):
        sys.exit(f"{path}: {len(b) - off} bytes after the last whole packet")


def streams(trace):
    return sorted(p for p in glob.glob(os.path.join(trace, "*"))
                  if os.path.isfile(p) and os.path.basename(p) != "metadata")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("discarded", "list"):
        sys.exit(__doc__)
    if sys.argv[1] == "list":
        for p in packets(sys.argv[2]):
            print(*p)
        return
    total = 0
    for md in glob.glob(os.path.join(sys.argv[2], "**", "metadata"), recursive=True):
        trace = os.path.dirname(md)
        check_layout(trace)
        for s in streams(trace):
            last = None
            for p in packets(s):
                last = p
            total += last[3] if last else 0
    print(total)


main()
