"""One rule for the client's address: the sign-in lockout per address and the access audit."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from accounts.client_ip import client_ip
from records.access_log import client_address


def _request(forwarded: str = "", remote: str = "10.0.0.9") -> object:
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_the_audit_and_the_lockout_share_one_rule() -> None:
    assert client_address is client_ip


@override_settings(ACCESS_AUDIT_TRUSTED_PROXIES=0)
def test_without_a_trusted_proxy_a_forged_header_is_ignored() -> None:
    assert client_ip(_request("203.0.113.7")) == "10.0.0.9"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left entry is the client's say-so
        (2, "198.51.100.1, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        (1, "not-an-address", "10.0.0.9"),  # nonsense falls back to the socket's address
        (2, "203.0.113.7", "10.0.0.9"),  # fewer entries than proxies: nothing trusted
    ],
)
def test_behind_trusted_proxies_the_outermost_proxys_view_counts(
    proxies: int, forwarded: str, expected: str
) -> None:
    with override_settings(ACCESS_AUDIT_TRUSTED_PROXIES=proxies):
        assert client_ip(_request(forwarded)) == expected
