"""The pieces behind whole-call deadlines and size caps: the bounded decoder and the deadline arithmetic."""

from __future__ import annotations

import gzip
import time
import zlib

import httpx
import pytest

from seedream import SeedreamAPI
from seedream._answers import ContentDecoder, _Body
from seedream._deadline import Deadline, ThroughputDeadline

DATA = b'{"id": "task-unified-1-x", "status": "processing"}' * 5_000

ENCODED = {
    "gzip": gzip.compress(DATA),
    "x-gzip": gzip.compress(DATA),
    "deflate": zlib.compress(DATA),  # the RFC's zlib wrapping
    "Deflate": zlib.compress(DATA)[2:-4],  # raw deflate, as some servers send it (and any case)
    "gzip, gzip": gzip.compress(gzip.compress(DATA)),
    "identity": DATA,
    "br": DATA,  # not accepted, so not undone: passed through as httpx does
    "": DATA,
}


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_every_accepted_coding_decodes_in_pieces_no_larger_than_asked(encoding: str) -> None:
    decoder = ContentDecoder(encoding, piece=1000)
    raw = ENCODED[encoding]
    pieces = [p for start in range(0, len(raw), 777) for p in decoder.feed(raw[start : start + 777])]
    assert b"".join(pieces) == DATA
    if encoding.lower() not in ("identity", "br", ""):
        assert max(map(len, pieces)) <= 1000


def test_a_body_over_the_cap_stops_there_and_keeps_only_its_start() -> None:
    body = _Body("gzip", 10_000)
    bomb = gzip.compress(bytes(50 << 20))  # 50 MiB of zeros in about 50 kB
    stopped_at = next(i for i in range(0, len(bomb), 4096) if body.feed(bomb[i : i + 4096]))
    assert body.over and stopped_at < len(bomb) // 2 and body.content() == bytes(1024)


def test_a_stream_that_does_not_decode_is_a_decoding_error() -> None:
    with pytest.raises(httpx.DecodingError):
        list(ContentDecoder("gzip").feed(b"not gzip at all"))


def test_a_deadline_cuts_each_phase_to_the_whole_call_and_expires() -> None:
    deadline = Deadline(0.05, "timeout=")
    assert deadline.timeouts({"connect": 10.0, "read": None, "write": 0.01}) == {
        "connect": 0.05,
        "read": 0.05,
        "write": 0.01,
    }
    assert 0 < deadline.clamp(None) <= 0.05 and not deadline.expired()
    time.sleep(0.06)
    assert deadline.expired() and deadline.clamp(5.0) == 0.001  # never 0: that would make a socket non-blocking
    with pytest.raises(httpx.ReadTimeout, match=r"deadline of 0\.05 s \(timeout=\)"):
        deadline.check()


def test_the_throughput_floor_moves_with_each_byte_and_never_past_the_total() -> None:
    deadline = ThroughputDeadline(10.0, "DownloadLimits", min_bytes_per_second=1000, grace=0.0)
    assert deadline.remaining() <= 0.0  # no grace, nothing received: already too slow
    deadline.received(2000)  # two seconds' worth
    assert 1.5 < deadline.remaining() <= 2.0 and "floor of 1,000 bytes/s" in deadline.describe()
    deadline.received(10**9)
    assert 9.0 < deadline.remaining() <= 10.0  # the total deadline still holds


def test_a_timeout_without_any_phase_is_still_finite() -> None:
    api = SeedreamAPI("sk-test", timeout=httpx.Timeout(None))
    try:
        deadline, extensions = api._deadline(None)
    finally:
        api.close()
    assert deadline.seconds == 120.0 and set(extensions["timeout"].values()) == {120.0}
