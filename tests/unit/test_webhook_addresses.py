"""Where a webhook may be sent: the address rule, and the connection going to the address it checked."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from crm_core.errors import ProblemError
from crm_core.services import webhooks
from crm_core.services.event_targets import address_allowed, check_url


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "100.127.255.254",
        "169.254.169.254",  # link-local: the instance metadata service
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "255.255.255.255",
        "192.0.2.10",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",  # multicast
        "ff0e::1",  # global-scope multicast
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_outside_local_mode_only_global_unicast_addresses_are_allowed(address: str) -> None:
    assert not address_allowed(address, local_mode=False)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_global_addresses_are_allowed(address: str) -> None:
    assert address_allowed(address, local_mode=False)


def test_local_mode_allows_loopback_but_never_multicast_or_unspecified() -> None:
    assert address_allowed("127.0.0.1", local_mode=True) and address_allowed("::1", local_mode=True)
    for address in ("224.0.0.1", "ff02::1", "0.0.0.0", "::"):
        assert not address_allowed(address, local_mode=True), address


def _resolver(*answers: str) -> Any:
    """getaddrinfo that answers each call with the next address (the last one from then on)."""
    calls: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        address = answers[min(len(calls), len(answers) - 1)]
        calls.append(address)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    getaddrinfo.calls = calls  # type: ignore[attr-defined]
    return getaddrinfo


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("100.64.3.4"))
    with pytest.raises(ProblemError) as refused:
        check_url("https://hooks.example.com/x", local_mode=False)
    assert refused.value.errors and refused.value.errors[0].field == "url"
    assert "100.64.3.4" in refused.value.errors[0].message


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name answers a public address when it is checked and loopback afterwards. The
    try connects to the address it checked, never to what the name answers later."""
    resolver = _resolver("93.184.216.34", "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    connected: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        connected.append(address)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    with pytest.raises(ConnectionRefusedError):
        webhooks.send("https://rebind.example.com:8443/hook", b"{}", {}, local_mode=False)
    assert connected == [("93.184.216.34", 8443)]

    # The next try resolves again: loopback now, so it is refused before any connection.
    with pytest.raises(ProblemError) as refused:
        webhooks.send("https://rebind.example.com:8443/hook", b"{}", {}, local_mode=False)
    assert "127.0.0.1" in refused.value.detail or "127.0.0.1" in refused.value.errors[0].message
    assert connected == [("93.184.216.34", 8443)]


def test_https_verifies_the_host_name_not_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """The TLS handshake names the URL's host (SNI and certificate check) although it connects to an IP."""
    monkeypatch.setattr(socket, "getaddrinfo", _resolver("93.184.216.34"))
    wrapped: list[str | None] = []

    class FakeSocket:
        def setsockopt(self, *args: Any) -> None:
            pass

    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: FakeSocket())

    def wrap_socket(self: Any, sock: Any, server_hostname: str | None = None, **kwargs: Any) -> Any:
        wrapped.append(server_hostname)
        raise ConnectionResetError("test: handshake stops here")

    import ssl

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
    with pytest.raises(ConnectionResetError):
        webhooks.send("https://hooks.example.com/x", b"{}", {}, local_mode=False)
    assert wrapped == ["hooks.example.com"]
