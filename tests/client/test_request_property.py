"""Property: a body is sent (exactly once) iff it is valid; an invalid one is refused with zero HTTP calls.

Bodies come from schemathesis generating the bundled spec's request schema,
positive and negative (security parameters off, and negatives kept only when
the *body* was the mutated part). The oracle is independent of the client's
own validators: a body is valid iff jsonschema (Draft 2020-12, formats
checked) accepts it AND the rule module finds no prose-rule violation.

A second property aims at the prose rules, which schema-driven generation
rarely reaches (pixel sizes near the edges, internal callback hosts,
references + n): there the oracle is plain arithmetic and ``ipaddress``,
written here, not the rule module.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from seedream import RequestValidationError, SeedreamAPI
from seedream._rules import RATIOS, check_request
from seedream._spec import load_spec, request_body_validator

from .helpers import SENTINEL_KEY, Recorder

SCHEMA = schemathesis.openapi.from_dict(dict(load_spec()))
SCHEMA.config.generation.update(with_security_parameters=False)
CREATE = SCHEMA["/v1/images/generations"]["POST"]
VALIDATOR = request_body_validator()

# 500 cases each way (and 1,500 aimed at the prose rules) keep this file near 15 s on two shared cores.
SETTINGS = settings(
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def oracle_valid(body: Any) -> bool:
    return bool(VALIDATOR.is_valid(body)) and isinstance(body, dict) and not check_request(body)


@pytest.fixture(scope="module")
def harness() -> Iterator[tuple[SeedreamAPI, Recorder]]:
    recorder = Recorder()
    with SeedreamAPI(SENTINEL_KEY, transport=recorder.transport) as api:
        yield api, recorder


def _check(api: SeedreamAPI, recorder: Recorder, body: Any) -> bool:
    recorder.requests.clear()
    valid = oracle_valid(body)
    if valid:
        api.create_generation_from_body(body)
        assert recorder.count == 1
        assert json.loads(recorder.requests[0].content) == body
    else:
        with pytest.raises(RequestValidationError):
            api.create_generation_from_body(body)
        assert recorder.count == 0
    return valid


def _body_is_negative(case: Any) -> bool:
    return any(
        str(getattr(location, "value", location)) == "body" and info.mode is GenerationMode.NEGATIVE
        for location, info in case.meta.components.items()
    )


def test_schemathesis_positive_bodies_are_sent_once_iff_valid(harness: tuple[SeedreamAPI, Recorder]) -> None:
    api, recorder = harness
    outcomes: list[bool] = []

    @SETTINGS
    @given(case=CREATE.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def run(case: Any) -> None:
        outcomes.append(_check(api, recorder, case.body))

    run()
    # positive generation knows the schema, not the prose rules: most, not all, are valid
    assert outcomes.count(True) > len(outcomes) // 2


def test_schemathesis_negative_bodies_are_refused_without_a_request(harness: tuple[SeedreamAPI, Recorder]) -> None:
    api, recorder = harness
    outcomes: list[bool] = []

    @SETTINGS
    @given(case=CREATE.as_strategy(generation_mode=GenerationMode.NEGATIVE).filter(_body_is_negative))
    def run(case: Any) -> None:
        outcomes.append(_check(api, recorder, case.body))

    run()
    assert outcomes and not any(outcomes)


# -- the prose rules, aimed at ----------------------------------------------------------------------

MIN_PIXELS, MAX_PIXELS = 2560 * 1440, 3072 * 3072
URL = "https://cdn.example.com/ref.png"


def _side() -> st.SearchStrategy[int]:
    edges = [1, 14, 15, 640, 760, 767, 768, 769, 1440, 1920, 2048, 2559, 2560, 3072, 3073, 12288, 12289, 99999]
    return st.one_of(st.sampled_from(edges), st.integers(1, 20000), st.integers(1, 999999))


@st.composite
def _aspect_edge(draw: st.DrawFn) -> str:
    """Sizes whose pixel count is in range and whose aspect is within a few pixels of 1/16 or 16."""
    long_side = draw(st.integers(7600, 12300))
    short_side = long_side // 16 + draw(st.integers(-3, 3))
    w, h = (short_side, long_side) if draw(st.booleans()) else (long_side, short_side)
    return f"{w}x{h}"


sizes = st.one_of(
    st.sampled_from([*RATIOS, "16:10", "1:2", "auto ", "", "0x100"]),
    st.builds(lambda w, h: f"{w}x{h}", _side(), _side()),
    _aspect_edge(),
)

ipv4 = st.one_of(
    st.ip_addresses(v=4),
    st.sampled_from(["127.0.0.1", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254"]),
)
hosts = st.one_of(
    ipv4.map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.sampled_from(["localhost", "api.localhost", "hooks.example.com", "10.0.0.1.nip.example.com"]),
)
callbacks = st.builds(
    lambda scheme, host: f"{scheme}://{host}/cb", st.sampled_from(["https", "HTTPS", "http", "ftp"]), hosts
)


@st.composite
def prose_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "doubao-seedream-5.0-lite", "prompt": "a lake"}
    if draw(st.booleans()):
        body["size"] = draw(sizes)
    if draw(st.booleans()):
        body["n"] = draw(st.integers(-2, 18))
    if draw(st.booleans()):
        body["image_urls"] = [URL] * draw(st.integers(0, 16))
    if draw(st.booleans()):
        body["callback_url"] = draw(callbacks)
    return body


def _size_ok(size: str) -> bool:
    match = re.fullmatch(r"([1-9][0-9]{0,5})x([1-9][0-9]{0,5})", size)
    if match is None:
        return size in RATIOS
    w, h = int(match.group(1)), int(match.group(2))
    return MIN_PIXELS <= w * h <= MAX_PIXELS and 16 * w >= h and 16 * h >= w


def _callback_verdict(url: str) -> bool | None:
    """True: must be accepted; False: must be refused; None: the rule leaves it open (non-global, non-private)."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() != "https":
        return False
    host = rest.split("/", 1)[0].strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: not resolved at validation time
    mapped = getattr(address, "ipv4_mapped", None) or address
    if any(mapped in net for net in _OPEN):  # before is_private: Python 3.13 calls all of 2002::/16 private
        return None
    if mapped.is_loopback or mapped.is_private or mapped.is_link_local or mapped.is_unspecified:
        return False
    if mapped.is_global and not mapped.is_multicast:
        return True
    return None


# Blocks this Python may call global that the IANA registries do not (or that embed another address):
# the rule may refuse them, so the arithmetic leaves them open.
_OPEN = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.0.0/24", "192.88.99.0/24", "::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48",
              "2001::/23", "2002::/16", "3fff::/20", "5f00::/16", "fec0::/10")
)  # fmt: skip


def prose_verdict(body: dict[str, Any]) -> bool | None:
    verdicts: list[bool | None] = []
    if "size" in body:
        verdicts.append(_size_ok(body["size"]))
    n = body.get("n", 1)
    urls = body.get("image_urls", [])
    verdicts.append(1 <= n <= 15 and len(urls) <= 14 and len(urls) + n <= 15)
    if "callback_url" in body:
        verdicts.append(_callback_verdict(body["callback_url"]))
    if False in verdicts:
        return False
    return None if None in verdicts else True


def test_prose_rule_bodies_are_sent_once_iff_the_arithmetic_says_valid(harness: tuple[SeedreamAPI, Recorder]) -> None:
    api, recorder = harness
    seen = {True: 0, False: 0, None: 0}

    @settings(SETTINGS, max_examples=1500)
    @given(body=prose_bodies())
    def run(body: dict[str, Any]) -> None:
        expected = prose_verdict(body)
        recorder.requests.clear()
        try:
            api.create_generation_from_body(body)
        except RequestValidationError:
            sent = False
            assert recorder.count == 0
        else:
            sent = True
            assert recorder.count == 1
        if expected is not None:
            assert sent is expected, body
        seen[expected] += 1

    run()
    assert seen[True] and seen[False]


def test_the_recorder_would_notice_a_request(harness: tuple[SeedreamAPI, Recorder]) -> None:
    # Guard for the properties above: "zero calls" is measured by a transport that does count.
    api, recorder = harness
    recorder.requests.clear()
    api.create_generation("a lake")
    assert recorder.count == 1
    assert isinstance(recorder.requests[0], httpx.Request)
