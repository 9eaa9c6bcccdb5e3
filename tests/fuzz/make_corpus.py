#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (a few valid and invalid inputs).

Run from anywhere: python3 tests/fuzz/make_corpus.py [path/to/handshake_transcripts.json]
The default is $SEEDSCOPE_TESTDATA, else ../shared/testdata beside the repository (as in
tests/CMakeLists.txt).
"""
import base64
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

    write_new_corpora(go_a)


def bytes_field(num, payload):
    return field(num, 2, payload)


def net_address(id_, ip, port):
    return text(1, id_) + text(2, ip) + (field(3, 0, port) if port else b"")


def pex_addrs(addrs):
    return bytes_field(2, b"".join(bytes_field(1, net_address(*a)) for a in addrs))


def packet_msg(channel, eof, data):
    inner = (field(1, 0, channel) if channel else b"") + (field(2, 0, 1) if eof else b"") + \
        (bytes_field(3, data) if data else b"")
    return bytes_field(3, inner)


def delimited(body):
    return uvarint(len(body)) + body


# Node IDs of the fuzz targets' fixed keys (NodeKey::from_seed with byte 0 = 1 and 2).
OUR_ID = "fa4d86c3b551aa6cd7c3759d040c037ef2c6379f"
PEER_ID = "e3c1b362c0df36f6b370b8b1479b67dad96392b2"
ID1 = "1" * 40
ID2 = "2" * 40

ADDRBOOK = """{
\t"key": "0a1b2c3d4e5f60718293a4b5",
\t"addrs": [
\t\t{
\t\t\t"addr": {"id": "%s", "ip": "1.2.3.4", "port": 26656},
\t\t\t"src": {"id": "%s", "ip": "2001:db8::1", "port": 26657},
\t\t\t"buckets": [12, 200],
\t\t\t"attempts": 2,
\t\t\t"bucket_type": 1,
\t\t\t"last_attempt": "2024-03-05T07:08:09.12Z",
\t\t\t"last_success": "0001-01-01T00:00:00Z",
\t\t\t"last_ban_time": "0001-01-01T00:00:00Z"
\t\t},
\t\t{
\t\t\t"addr": {"id": "%s", "ip": "5.6.7.8", "port": 26656},
\t\t\t"src": {"id": "%s", "ip": "1.2.3.4", "port": 26656},
\t\t\t"buckets": [7],
\t\t\t"attempts": 0,
\t\t\t"bucket_type": 2,
\t\t\t"last_attempt": "2024-03-05T07:08:09+02:00",
\t\t\t"last_success": "2024-03-05T07:08:09.999999999Z",
\t\t\t"last_ban_time": "0001-01-01T00:00:00Z"
\t\t}
\t]
}""" % (ID2, "3" * 40, ID1, ID2)

CONFIG = """moniker = "fuzz-node"
network = "cosmoshub-4"
db_file = "data/seedscope.db"

[p2p]
laddr = "tcp://0.0.0.0:26656"
external_address = "tcp://1.2.3.4:26656"
seeds = "%s@seed.example.com:26656,%s@[2001:db8::1]:26656"
persistent_peers = ""
seed_mode = true
pex = true
max_num_inbound_peers = 40
max_num_outbound_peers = 10
flush_throttle_timeout = "100ms"
handshake_timeout = "20s"
dial_timeout = "3s"
persistent_peers_max_dial_period = "1h30m"

[crawler]
crawl = true
max_concurrent_dials = 512
recrawl_interval = "10m"
retry_base = "1m"
retry_cap = "4h"

[instrumentation]
prometheus = true
prometheus_listen_addr = ":26660"
namespace = "seedscope"
""" % (ID1, ID2)

SCENARIO = """seed = 7
port = 26656
address_offset = 0

[churn]
offline_fraction = 0.03
period = "20s"

[[network]]
chain_id = "simhub-1"
nodes = 120
known_peers = 20
stale_addresses = 3
seed_nodes = 2
rpc_fraction = 0.3
versions = [ { version = "0.34.24", weight = 6 }, { version = "0.37.4", weight = 1 } ]
[network.fractions]
refused = 0.20
silent = 0.05
bad_signature = 0.01
slowloris = 0.01

[[network]]
chain_id = "simzone-7"
nodes = 80
versions = [ { version = "0.38.12", weight = 1 } ]
[network.fractions]
unsolicited_addrs = 0.01
"""


def write_new_corpora(go_a):
    # pex_message_fuzz: tendermint.p2p.Message.
    t = "pex_message_fuzz"
    write(t, "request", bytes.fromhex("0a00"))
    write(t, "addrs", pex_addrs([(ID1, "1.2.3.4", 26656), (ID2, "2001:db8::1", 26657),
                                 ("", "::ffff:10.0.0.1", 1)]))
    write(t, "addrs_empty", bytes.fromhex("1200"))
    write(t, "bad_ip", pex_addrs([(ID1, "1.2.3", 26656)]))
    write(t, "bracketed_ip", pex_addrs([(ID1, "[::1]", 26656)]))
    write(t, "port_too_large", pex_addrs([(ID1, "1.2.3.4", 65536)]))
    write(t, "no_oneof", b"")
    write(t, "truncated", pex_addrs([(ID1, "1.2.3.4", 26656)])[:-3])

    # mconnection_fuzz: byte 0 = setup (bits 0-1 payload size 1/7/64/1024, bit 2 raw mode,
    # bits 3-4 send rate, bit 5 small capacity on channel 0, bits 6-7 receive rate), then
    # (op, arg) pairs: 0 feed (raw: the next arg bytes; loop: B -> A), 1 time, 2 A's timer,
    # 3 A -> B, 4 A sends (arg channel, next byte length), 5 B sends, 6 A's take, 7 A flushes.
    t = "mconnection_fuzz"
    ping = delimited(bytes.fromhex("0a00"))
    pong = delimited(bytes.fromhex("1200"))
    pex_req = delimited(packet_msg(0, True, bytes.fromhex("0a00")))
    split = delimited(packet_msg(0x20, False, b"hello ")) + delimited(packet_msg(0x20, True, b"world"))
    raw = ping + pex_req + split + pong
    write(t, "raw_packets", bytes([0x04 | 3, 0, len(raw)]) + raw + bytes([3, 5, 6, 0]))
    write(t, "raw_unknown_channel", bytes([0x04 | 3, 0, 16]) +
          delimited(packet_msg(0x55, True, b"x")) + b"\0" * 8)
    over = delimited(packet_msg(0, False, b"a" * 40)) + delimited(packet_msg(0, True, b"b" * 40))
    write(t, "raw_over_capacity", bytes([0x24 | 2, 0, len(over)]) + over)
    write(t, "raw_too_large", bytes([0x04, 0, 4]) + uvarint(2000) + b"\x1a\x00")
    write(t, "raw_garbage", bytes([0x04 | 3, 0, 6]) + bytes.fromhex("04ffffffff0f"))
    # Loop mode: both sides send on every channel, time passes, pings and flushes.
    write(t, "loop_send_receive", bytes([0x01 | 0x08, 4, 0, 4, 1, 4, 2, 5, 1, 5, 0, 3, 3,
                                         1, 20, 3, 1, 0, 9, 5, 200, 2, 0, 7, 0, 0, 0]))
    write(t, "loop_ping_pong", bytes([0x02, 1, 255, 1, 255, 1, 220, 2, 0, 3, 0, 0, 0, 1, 10,
                                      2, 0, 1, 240, 2, 0]))
    write(t, "loop_pong_timeout", bytes([0x03, 1, 255, 1, 210, 2, 0, 1, 215, 2, 0]))
    write(t, "loop_rate_limited", bytes([0x08 | 0x40 | 1, 4, 1, 80, 4, 1, 90, 3, 0, 1, 100, 3, 7,
                                         1, 100, 3, 7, 5, 1, 60, 0, 3, 1, 50, 0, 3]))

    # handshake_fuzz: byte 0 = setup (bit 0 NodeInfo mode, bit 1 adopt the peer's network,
    # bits 2-3 expected peer ID none/right/wrong, bit 4 send_info_now, bit 5 no network of
    # our own, bit 6 the peer has our key), then chunks [n][n bytes] of the peer's plaintext.
    t = "handshake_fuzz"
    def chunks(data, size=200):
        out = b""
        for i in range(0, len(data), size):
            part = data[i:i + size]
            out += bytes([len(part)]) + part
        return out
    def peer_info(**kw):
        args = dict(node_id=PEER_ID, network="fuzz-net", channels=bytes([0x00, 0x20]),
                    listen="tcp://0.0.0.0:26656")
        args.update(kw)
        return delimited(node_info(**args))
    write(t, "node_info_ok", bytes([0x01]) + chunks(peer_info()))
    write(t, "node_info_ok_expected_id", bytes([0x05]) + chunks(peer_info() + pex_req))
    write(t, "node_info_wrong_expected_id", bytes([0x09]) + chunks(peer_info()))
    write(t, "node_info_adopt", bytes([0x23]) + chunks(peer_info(network="cosmoshub-4"), 7))
    write(t, "node_info_adopt_send_now", bytes([0x13]) + chunks(peer_info(network="osmosis-1"), 3))
    write(t, "node_info_other_network", bytes([0x01]) + chunks(peer_info(network="other")))
    write(t, "node_info_id_mismatch", bytes([0x01]) + chunks(peer_info(node_id=ID1)))
    write(t, "node_info_self", bytes([0x41]) + chunks(peer_info(node_id=OUR_ID)))
    write(t, "node_info_no_common_channel", bytes([0x01]) + chunks(peer_info(channels=b"\x40")))
    write(t, "node_info_go_a", bytes([0x03]) + chunks(delimited(go_a)))
    write(t, "node_info_too_large", bytes([0x01]) + chunks(uvarint(20000) + b"x" * 10))
    write(t, "node_info_undecodable", bytes([0x01]) + chunks(delimited(b"\xff\xff\xff")))
    auth = bytes_field(1, bytes_field(1, b"\x11" * 32)) + bytes_field(2, b"\x22" * 64)
    write(t, "auth_sig_bad_signature", bytes([0x00]) + chunks(delimited(auth)))
    write(t, "auth_sig_secp256k1", bytes([0x00]) + chunks(delimited(
        bytes_field(1, bytes_field(2, b"\x02" * 33)) + bytes_field(2, b"\x22" * 64))))
    write(t, "auth_sig_short_key", bytes([0x00]) + chunks(delimited(
        bytes_field(1, bytes_field(1, b"\x11" * 31)))))
    write(t, "auth_sig_garbage", bytes([0x00, 5, 0xff, 0xff, 0xff, 0xff, 0xff]))

    # pex_reactor_fuzz: byte 0 = setup (bit 0 seed mode, bit 1 chains apart, bit 2 strict,
    # bit 3 seeds), then (op, arg) pairs: 0 inbound peer arg%5 connects (next byte: where),
    # 1 it leaves, 2 it sends PexRequest, 3 PexAddrs built from the next bytes, 4 raw bytes,
    # 5 time passes, 6 a dial completes, 7 request_addrs, 8 ensure_peers.
    t = "pex_reactor_fuzz"
    write(t, "normal_requests", bytes([0x00, 0, 0, 1, 2, 0, 1, 2, 1, 2, 1, 2, 1, 5, 14, 60,
                                       2, 1, 7, 0, 3, 0, 3, 0x81, 1, 2, 0x69, 0x87, 8, 0]))
    write(t, "seed_mode_inbound", bytes([0x09, 0, 1, 3, 2, 1, 5, 10, 200, 6, 0, 1, 6, 1, 0,
                                         2, 1, 3, 1, 2, 0, 0x82, 5, 0x69, 0x87, 5, 12, 200, 8, 0]))
    write(t, "chains_apart_strict", bytes([0x06, 0, 2, 0x10, 0, 3, 0x21, 2, 2, 2, 3, 3, 3, 1,
                                           1, 0x90, 1, 2, 3, 5, 15, 255, 8, 0, 6, 2]))
    write(t, "unsolicited_and_raw", bytes([0x00, 0, 4, 9, 3, 4, 1, 0, 1, 2, 3, 4, 4, 3,
                                           0xff, 0xff, 0xff, 4, 0x84, 2, 0x0a, 0x00]))

    # contact_fuzz: byte 0 = setup (bit 0 inbound, bit 1 outbound answers requests), then
    # (op, arg) pairs: 0 upgraded, 1 upgrade failed, 2 rejected, 3 PexRequest, 4 PexAddrs,
    # 5 raw message (arg bytes), 6 peer failed, 7 time (next byte: shift), 8 tick/abandon.
    t = "contact_fuzz"
    write(t, "outbound_ok", bytes([0x00, 0, 3, 7, 255, 0, 8, 0, 4, 2]))
    write(t, "outbound_no_answer", bytes([0x00, 0, 3, 7, 255, 0, 8, 0, 7, 255, 6, 8, 0]))
    write(t, "outbound_full", bytes([0x00, 0, 3, 7, 100, 0, 6, 0]))
    write(t, "outbound_unsolicited", bytes([0x00, 0, 3, 4, 1]))
    write(t, "outbound_answers_request", bytes([0x02, 0, 3, 3, 0, 7, 255, 0, 8, 0, 4, 0]))
    write(t, "inbound_served", bytes([0x01, 0, 3, 3, 0, 3, 0]))
    write(t, "inbound_idle", bytes([0x01, 0, 3, 7, 255, 7, 8, 0]))
    write(t, "upgrade_failed", bytes([0x00, 1, 0x96, 0, 3]))
    write(t, "abandoned", bytes([0x00, 0, 3, 8, 0x80, 3, 0]))
    write(t, "raw_bad_addrs", bytes([0x00, 0, 3, 7, 255, 0, 8, 0, 5, 9]) +
          pex_addrs([(ID1, "1.2.3", 1)])[:9])

    # addrbook_json_fuzz: addrbook.json files.
    t = "addrbook_json_fuzz"
    write(t, "go_format", ADDRBOOK.encode())
    write(t, "no_addrs", b'{"key": "0a1b2c3d4e5f60718293a4b5", "addrs": null}')
    write(t, "bad_bucket_type", ADDRBOOK.replace('"bucket_type": 2', '"bucket_type": 3').encode())
    write(t, "bad_time", ADDRBOOK.replace("2024-03-05T07:08:09+02:00", "2024-13-05T25:08:09Z").encode())
    write(t, "duplicate", ADDRBOOK.replace('"5.6.7.8"', '"1.2.3.4"').replace(ID1, ID2).encode())
    write(t, "not_json", b'{"key": ')
    write(t, "time_only", b"1999-12-31T23:59:60.5-08:30")

    # config_fuzz: config.toml files.
    t = "config_fuzz"
    write(t, "full", CONFIG.encode())
    write(t, "empty", b"")
    write(t, "typo", b"[p2p]\nseed_mod = true\n")
    write(t, "tendermint_keys", b'proxy_app = "tcp://127.0.0.1:26658"\n[rpc]\nladdr = "x"\n'
          b'[mempool]\nsize = 5000\n')
    write(t, "bad_values", b'[p2p]\nmax_num_inbound_peers = 100000\nsend_rate = -1\n'
          b'handshake_timeout = "0s"\nexternal_address = "host:99999"\n')
    write(t, "malformed", b"[p2p\nladdr = \n")
    write(t, "duration", b"1h2m3.5s")

    # scenario_fuzz: netsim scenarios.
    t = "scenario_fuzz"
    write(t, "two_networks", SCENARIO.encode())
    write(t, "minimal", b'[[network]]\nchain_id = "a"\nnodes = 1\n')
    write(t, "fractions_too_high", b'[[network]]\nchain_id = "a"\nnodes = 10\n'
          b"[network.fractions]\nrefused = 0.5\nsilent = 0.5\n")
    write(t, "unknown_class", b'[[network]]\nchain_id = "a"\nnodes = 10\n'
          b"[network.fractions]\nrefuse = 0.1\n")
    write(t, "bad_duration", b'[churn]\nperiod = "1h"\n[[network]]\nchain_id = "a"\nnodes = 2\n')

    # address_fuzz: address strings of every form.
    t = "address_fuzz"
    for name, value in (("peer_v4", ID1 + "@1.2.3.4:26656"),
                        ("peer_v6_scheme", "tcp://" + ID1 + "@[2001:db8::1]:26656"),
                        ("peer_host", ID1 + "@seed.example.com:26656"),
                        ("peer_mapped", ID1 + "@[::ffff:1.2.3.4]:1"),
                        ("peer_bad_port", ID1 + "@1.2.3.4:65536"),
                        ("listen_port_only", ":26660"),
                        ("listen_tcp_v6", "tcp://[::]:26656"),
                        ("listen_unbracketed", "::1:26656"),
                        ("ip_v6_zone", "fe80::1%eth0"),
                        ("ip_v4", "255.255.255.255")):
        write(t, name, value.encode())

    # api_query_fuzz: byte 0 = path (0 networks, 1 nodes, 2 peers, 3 the input up to '?').
    t = "api_query_fuzz"
    write(t, "networks", b"\x00")
    write(t, "nodes", b"\x01network=cosmoshub-4")
    write(t, "peers_all_filters", b"\x02network=cosmoshub%2D4&format=json&min_score=0.5&"
          b"seen_within=24h&reachable_only=true&limit=20&one_per_group=1&family=ipv4")
    write(t, "peers_bad_limit", b"\x02network=a&limit=0")
    write(t, "peers_twice", b"\x02network=a&network=b")
    write(t, "bad_percent", b"\x02network=%zz")
    write(t, "unknown_path", b"\x03/api/v2/peers?network=a")
    write(t, "seen_within_ms", b"\x02network=a&seen_within=500ms")
    write(t, "non_utf8_parameter", b"\x02network=a&%ff=1")

    # http_request_fuzz: byte 0 = head limit (bit 7: 8 KiB) and chunk size; then the stream.
    t = "http_request_fuzz"
    write(t, "get", b"\x80GET /api/v1/peers?network=a HTTP/1.1\r\nHost: x\r\n\r\n")
    write(t, "pipelined", b"\x85GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
          b"HEAD / HTTP/1.0\n\nGET http://x/y?z HTTP/1.1\r\nhost: x\r\n"
          b"Content-Length: 3\r\n\r\nabc")
    write(t, "too_large", b"\x01GET /" + b"a" * 100 + b" HTTP/1.1\r\n")
    write(t, "http2", b"\x80PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    write(t, "both_lengths", b"\x80POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
          b"\r\nContent-Length: 5\r\n\r\n")
    write(t, "folding", b"\x80GET / HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n")

    write_found_inputs()


def write_found_inputs():
    """Inputs the fuzzers found that failed once (a decoder bug, fixed, or a harness bug): kept
    as they were found, so each CTest replay is a regression test."""
    b64 = base64.b64decode
    # A number too large for a double: nlohmann's out_of_range escaped from_addrbook_json.
    write("addrbook_json_fuzz", "found_huge_number",
          b64("Wy0zLjRlNzA2MTgyOTM3Nzc3Nzc3NDQ0NDQ0Nzc3Nzc3Nzc3Mzg4Qjg4ODg="))
    # toml++ quotes the bad spot raw: a newline in a config error.
    write("config_fuzz", "found_newline_in_error", b64("W3AyMnBdCnNkMj0gdHJ1Cg=="))
    # Brackets inside brackets, and a NUL byte, in a listen address.
    write("address_fuzz", "found_nested_brackets", b64("W1syLjI1LjI1LjJdXTo2Ng=="))
    write("address_fuzz", "found_nul_in_host", bytes.fromhex(
        "7463703a2f2f5b3a3a000000000000000000000000000000000000363a00000000000000000000000000"
        "3a2f2f00000000000000000000000000000000000000005d3a3236"))
    # Any byte in an IPv6 zone (libuv takes it), here "://" too.
    write("address_fuzz", "found_zone_junk", b64(
        "dGNwOi8vWzo6NTIlUFBQUDExMTERMTExMTF0Y3A6Ly8xMTExMTExMTExMTExMTExUFBQUFBQUFBQUFBQUFBQ"
        "XTo2NTU="))
    # A float where an integer goes: toml++ casts it to int64 (undefined out of range).
    write("scenario_fuzz", "found_float_port", b64(
        "c2VlZCA9IDcKcG9ydCA9IDI2RTU2CmFkZHJlc3Nfb2Zmc2V0ID0gMAoKW2NodXJuXQpvZmZsaW5lX2ZyYWN0"
        "aW9uID0gMC4wMwpwZXJpb2QgPSAiMjBzIgoKW1tuZXR3b3JrXV0KY2hhaW5faWQgPSAic2ktLS0tLS0tLS0t"
        "LS0tLS0tLS0tLS0tLS0tLWItMSIKbm9kZXMgPSAxMjAwMQoKW1tuZXR3b3JrXV0KY2hhaW9saWNpdGVkX2Fk"
        "ZHJzID0gMC4wMQo="))
    # Harness bugs (the peer's capacity; a seed dialed while connected is Go's way).
    write("mconnection_fuzz", "found_peer_capacity", b64(
        "L//l////Af8AAAAAAAAAEv////8CAAH/////lv//////enp6enp6enp6enp6enp6enp6ekYAAAAAAAAAelRUVFRU"
        "VFRUVFRUVFRUVFRUenp6enp6enr/"))
    write("pex_reactor_fuzz", "found_seed_dialed_twice", b64("/gAAAAcAAAYAAiECAgIDD/8mKgYCAwUP/wgCAAYC"))


if __name__ == "__main__":
    main()
