"""Where the simulator may connect: loopback only when allowed, internal never, public only when outbound='public'."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from seedream.simulator import SimulatorConfig
from seedream.simulator._policy import judge, judge_resolved, loopback_http_url, pinned
from seedream.simulator._server import bind_socket

PUBLIC = SimulatorConfig(outbound="public")
PUBLIC_LOOPBACK = SimulatorConfig(outbound="public", allow_loopback=True)
LOOPBACK_ONLY = SimulatorConfig(outbound="loopback", allow_loopback=True)
NOTHING = SimulatorConfig(outbound="none", allow_loopback=True)


@pytest.mark.parametrize(
    ("url", "config", "allowed", "kind"),
    [
        ("https://127.0.0.1:8443/hook", PUBLIC, False, "loopback"),
        ("https://127.0.0.1:8443/hook", PUBLIC_LOOPBACK, True, "loopback"),
        ("http://localhost/x.png", LOOPBACK_ONLY, True, "loopback"),
        ("http://[::1]:9/x.png", LOOPBACK_ONLY, True, "loopback"),
        ("http://[::ffff:127.0.0.1]/x.png", LOOPBACK_ONLY, True, "loopback"),
        ("http://127.0.0.1/x.png", NOTHING, False, "loopback"),
        ("https://10.0.0.5/hook", PUBLIC_LOOPBACK, False, "internal"),
        ("https://192.168.1.1/hook", PUBLIC_LOOPBACK, False, "internal"),
        ("https://169.254.169.254/latest/meta-data", PUBLIC_LOOPBACK, False, "internal"),
        ("https://2130706433/hook", PUBLIC, False, "internal"),  # 127.0.0.1 as a number
        ("https://hooks.example.com/x", PUBLIC, True, "public"),
        ("https://8.8.8.8/x", PUBLIC, True, "public"),
        ("https://hooks.example.com/x", LOOPBACK_ONLY, False, "public"),
        ("https://hooks.example.com/x", NOTHING, False, "public"),
        ("ftp://hooks.example.com/x", PUBLIC, False, "invalid"),
        ("https:///nohost", PUBLIC, False, "invalid"),
        ("https://host:99999/", PUBLIC, False, "invalid"),
    ],
)
def test_judge(url: str, config: SimulatorConfig, allowed: bool, kind: str) -> None:
    verdict = judge(url, config)
    assert (verdict.allowed, verdict.kind) == (allowed, kind), verdict.reason


def _fake_resolver(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.anyio
@pytest.mark.parametrize(("address", "allowed"), [("93.184.216.34", True), ("10.9.8.7", False), ("127.0.0.1", False)])
async def test_a_public_name_is_judged_by_every_address_it_resolves_to(
    monkeypatch: pytest.MonkeyPatch, address: str, allowed: bool
) -> None:
    _fake_resolver(monkeypatch, address)  # no DNS leaves the machine
    verdict = await judge_resolved("https://hooks.example.com/x", PUBLIC_LOOPBACK)
    assert verdict.allowed is allowed, verdict.reason


@pytest.mark.anyio
async def test_a_name_that_does_not_resolve_is_refused() -> None:
    verdict = await judge_resolved("https://hooks.example.com/x", PUBLIC)  # the test guard refuses to resolve it
    assert not verdict.allowed and "resolve" in verdict.reason


def test_loopback_callbacks_are_downgraded_to_plain_http() -> None:
    assert loopback_http_url("https://127.0.0.1:8443/hook?x=1") == "http://127.0.0.1:8443/hook?x=1"
    assert loopback_http_url("http://127.0.0.1/hook") == "http://127.0.0.1/hook"


def test_listening_socket_is_tcp_so_accepted_sockets_get_nodelay() -> None:
    # With proto 0 asyncio skips TCP_NODELAY and each response stalls ~40 ms (Nagle + delayed ACK).
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_pinned_request_reaches_the_checked_address_and_keeps_the_name_for_host_and_sni() -> None:
    url, headers, extensions = pinned("https://bücher.example:8443/hook?x=1", "93.184.216.34")
    assert str(url) == "https://93.184.216.34:8443/hook?x=1"
    assert headers == {"host": "xn--bcher-kva.example:8443"}
    assert extensions == {"sni_hostname": "xn--bcher-kva.example"}
    assert str(pinned("http://h.example/x", "2001:db8::1")[0]) == "http://[2001:db8::1]/x"


@pytest.mark.anyio
async def test_judge_resolved_names_the_address_it_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_resolver(monkeypatch, "93.184.216.34")
    verdict = await judge_resolved("https://hooks.example.com/x", PUBLIC)
    assert verdict.allowed and verdict.address == "93.184.216.34"
    literal = await judge_resolved("http://127.0.0.1:9/x.png", LOOPBACK_ONLY)
    assert literal.allowed and literal.address == "127.0.0.1"
