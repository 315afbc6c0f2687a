"""The rule package's building blocks: whole-value patterns, the URI check, the host classification.

The boundary cases of every rule through the clients are in
test_request_validation.py and conformance/; these pin the functions every
entry point shares, at their edges.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seedream_rules
from seedream._ledger import redact_params
from seedream_rules import address_class, host_class, is_uri, pattern

SIZE = "^(auto|1:1|[1-9][0-9]{0,5}x[1-9][0-9]{0,5})$"


@pytest.mark.parametrize(
    ("source", "value", "found"),
    [
        (SIZE, "auto", True),
        (SIZE, "2048x2048", True),
        (SIZE, "auto\n", False),
        (SIZE, "2048x2048\n", False),
        (SIZE, "\nauto", False),
        ("^[Hh][Tt][Tt][Pp][Ss]://", "https://x\n", True),  # a prefix pattern stays a prefix pattern
        (r"^a\$$", "a$", True),  # an escaped "$" is a literal
        ("^[$]x$", "$x", True),  # so is one inside a class
        ("^[]$]$", "$", True),  # "]" first in a class is a literal
        ("^[]$]$", "$\n", False),
    ],
)
def test_a_pattern_dollar_matches_only_at_the_very_end(source: str, value: str, found: bool) -> None:
    assert bool(pattern(source).search(value)) is found


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://cdn.example.com/a.png", True),
        ("https://cdn.example.com:65535/a.png", True),
        ("https://cdn.example.com:/a.png", True),  # an empty port is RFC 3986
        ("https://[2001:db8::1]/a", True),
        ("https://[v1.fe]/a", True),
        ("urn:isbn:0451450523", True),
        ("https://cdn.example.com/a.png\n", False),
        ("https://cdn.example.com/a.png\r\n", False),
        ("https://cdn.example.com:65536/a.png", False),
        ("https://example.com:99999/x.png", False),
        ("https://cdn.example.com:" + "9" * 5000 + "/a", False),  # no int() of 5,000 digits
        ("https://[::1/x", False),
        ("https://[fe80::1%25eth0]/a", False),
        ("https://[not-v6]/a", False),
        ("https://exa mple.com/a", False),
        ("https://cdn.example.com/\ud800", False),
        ("//cdn.example.com/a", False),
        ("", False),
    ],
)
def test_the_uri_check_takes_the_whole_value_and_a_real_port(value: str, ok: bool) -> None:
    assert is_uri(value) is ok


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),  # mapped: that IPv4 host itself
        ("localhost", "loopback"),
        ("2130706433", "internal"),  # loopback only in plain notation; disguised forms are refused outright
        ("%31%32%37.0.0.1", "internal"),
        ("[::127.0.0.1]", "internal"),
        ("[::ffff:0:7f00:1]", "internal"),
        ("[64:ff9b::a00:1]", "internal"),
        ("[64:ff9b:1::808:808]", "internal"),
        ("[2002:7f00:1::1]", "internal"),
        ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "internal"),
        ("[fec0::1]", "internal"),
        ("[fd00::1]", "internal"),
        ("[ff0e::1]", "internal"),
        ("[::]", "internal"),
        ("[3fff::1]", "internal"),
        ("100.64.0.1", "internal"),
        ("224.0.0.251", "internal"),
        ("255.255.255.255", "internal"),
        ("%5b::1%5d", "internal"),  # decodes to no host at all
        ("", "internal"),
        ("8.8.8.8", "public"),
        ("[2001:4860:4860::8888]", "public"),
        ("[64:ff9b::808:808]", "public"),  # NAT64 of a public address
        ("[2002:808:808::1]", "public"),  # 6to4 of a public address
        ("[::ffff:8.8.8.8]", "public"),
        ("cdn.example.com", "name"),
        ("10.0.0.1.nip.example.com", "name"),
    ],
)
def test_one_classification_judges_every_host_form(host: str, kind: str) -> None:
    assert host_class(host) == kind


def test_every_embedded_ipv4_prefix_is_judged_by_the_address_it_carries() -> None:
    for prefix in ("::", "::ffff:0:", "64:ff9b::", "::ffff:"):
        for inner, expected in (("10.1.2.3", "internal"), ("8.8.4.4", "public")):
            address = ipaddress.IPv6Address(prefix + inner)
            assert seedream_rules.embedded_ipv4(address) == ipaddress.IPv4Address(inner)
            assert address_class(address) == expected, address


@pytest.mark.parametrize(
    "url",
    ["https://example.com:99999/x.png", "https://[::1/x", "https://a:b:c/", "https://[zz]/", "https://h:-1/", "x"],
)
def test_the_ledger_redacts_any_url_without_raising(url: str) -> None:
    stored = redact_params({"callback_url": url, "image_urls": [url]})
    assert isinstance(stored["callback_url"], str) and "99999" not in stored["callback_url"]


_URLISH = st.builds(
    "{}{}".format,
    st.sampled_from(["https://", "http://", "https://[", "https://u:p@", "", "a:"]),
    st.text(alphabet=st.sampled_from("[]:@%/?#.0123456789abcdef-\n\ud800 x"), max_size=40),
)


@settings(max_examples=1500, deadline=None, database=None)
@given(url=_URLISH)
def test_no_url_makes_the_uri_check_the_host_rule_or_the_ledger_raise(url: str) -> None:
    seedream_rules.is_uri(url)
    seedream_rules.collect(seedream_rules.resolve(["callback-host-not-internal"]), {"callback_url": url})
    redact_params({"callback_url": url, "image_urls": [url]})


def test_the_ledger_keeps_ipv6_hosts_bracketed() -> None:
    assert redact_params({"callback_url": "https://u:p@[2001:db8::1]:8443/x?s=1"})["callback_url"] == (
        "https://[2001:db8::1]:8443/x?<redacted>"
    )


def test_a_surrogate_in_a_key_is_named_printably() -> None:
    with pytest.raises(seedream_rules.ConstraintViolation) as caught:
        seedream_rules.apply(seedream_rules.resolve(["json-text"]), {"a\ud800": 1})
    assert caught.value.field == "a\\ud800" and caught.value.rule_id == "json-text"
    str(caught.value).encode("utf-8")  # printable: no surrogate reaches a message


def test_an_unknown_rule_id_cannot_be_resolved() -> None:
    with pytest.raises(LookupError, match="no-such-rule"):
        seedream_rules.resolve(["no-such-rule"])
    assert seedream_rules.unimplemented(["size-pixel-range", "n-range", "no-such-rule"]) == ["n-range", "no-such-rule"]
