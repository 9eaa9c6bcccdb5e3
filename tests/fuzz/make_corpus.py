#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (a few valid and invalid inputs).

Run from anywhere: python3 tests/fuzz/make_corpus.py [path/to/handshake_transcripts.json]
The default is $SEEDSCOPE_TESTDATA, else ../shared/testdata beside the repository (as in
tests/CMakeLists.txt).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.environ.get("SEEDSCOPE_TESTDATA",
                          os.path.join(HERE, "..", "..", "..", "shared", "testdata"))
TRANSCRIPTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    TESTDATA, "handshake_transcripts.json")


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(num, wire_type, payload):
    key = uvarint(num << 3 | wire_type)
    if wire_type == 2:
        return key + uvarint(len(payload)) + payload
    return key + uvarint(payload)


def text(num, s):
    return field(num, 2, s if isinstance(s, bytes) else s.encode()) if s else b""


def node_info(p2p=8, block=11, app=0, node_id="2ff3a0b78e2c741f6d9cede791ebeb58cecf02fa",
              listen="tcp://0.0.0.0:26656", network="testing", version="0.34.24",
              channels=bytes([0x40, 0x20, 0x21, 0x22, 0x23, 0x30, 0x38, 0x60, 0x61, 0x00]),
              moniker="node", tx_index="on", rpc=""):
    pv = b"".join(field(i, 0, v) for i, v in ((1, p2p), (2, block), (3, app)) if v)
    other = text(1, tx_index) + text(2, rpc)
    return (field(1, 2, pv) + text(2, node_id) + text(3, listen) + text(4, network) +
            text(5, version) + text(6, channels) + text(7, moniker) + field(8, 2, other))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    with open(TRANSCRIPTS) as f:
        transcripts = json.load(f)
    go_a = bytes.fromhex(transcripts[0]["a"]["node_info_protobuf_hex"])
    go_b = bytes.fromhex(transcripts[0]["b"]["node_info_protobuf_hex"])

    # node_info_fuzz: the raw protobuf body.
    t = "node_info_fuzz"
    write(t, "go_transcript_a", go_a)
    write(t, "go_transcript_b", go_b)
    write(t, "built_valid", node_info())
    write(t, "empty_embedded", bytes.fromhex("0a004200"))
    write(t, "empty", b"")
    write(t, "truncated", go_a[:-5])
    write(t, "bad_length", bytes.fromhex("0a05aa"))
    write(t, "non_utf8_moniker", node_info(moniker=b"\xff\xfe bad"))
    write(t, "seventeen_channels", node_info(channels=bytes(range(17))))
    write(t, "duplicate_channel", node_info(channels=bytes([0, 1, 0])))
    write(t, "no_scheme_ipv6", node_info(listen="[::1]:26656", tx_index="off",
                                         rpc="tcp://[::1]:26657"))
    write(t, "bad_listen_addr", node_info(listen="not-an-address"))
    write(t, "block_12", node_info(block=12, app=5))
    write(t, "unknown_field_and_repeat", go_a + text(15, "x") + text(7, "second-moniker"))

    # delimited_reader_fuzz: byte 0 = max size (255 -> 64 KiB), bytes 1-2 = chunk size, stream.
    t = "delimited_reader_fuzz"
    pex_request = bytes.fromhex("081a0610011a020a00")
    write(t, "pex_request_packet", bytes([255, 0, 4]) + pex_request)
    write(t, "node_info_delimited", bytes([255, 0, 7]) + uvarint(len(go_a)) + go_a +
          uvarint(len(go_b)) + go_b)
    write(t, "several_small", bytes([16, 0, 0]) + b"".join(
        uvarint(len(m)) + m for m in (b"", b"a", b"\x00" * 16, b"xyz", b"")))
    write(t, "too_large_prefix_only", bytes([4, 0, 1]) + uvarint(5))
    write(t, "too_large_after_good", bytes([4, 0, 2]) + uvarint(2) + b"ok" + uvarint(300) + b"z")
    write(t, "varint_overflow", bytes([255, 0, 3]) + bytes([0x80] * 10) + b"\x01")
    write(t, "varint_max_u64", bytes([255, 0, 3]) + bytes([0xFF] * 9) + b"\x01")
    write(t, "non_minimal_length", bytes([16, 0, 1]) + bytes([0x82, 0x00]) + b"hi")
    write(t, "truncated_body", bytes([255, 0, 2]) + uvarint(100) + b"short")


if __name__ == "__main__":
    main()
