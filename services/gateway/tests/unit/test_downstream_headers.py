"""DownstreamClient's per-request shortcuts change no answer: remembered URLs, the header check."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from gateway_service.adapters import downstream
from gateway_service.adapters.downstream import _is_visible_ascii, request_url
from yarl import URL


@pytest.mark.parametrize(
    "path",
    ["/api/v1/auth/me", "/api/v1/gig/gigs/s%20one", "/api/v1/gig/gigs/a b", "/api/v1/gig/é", "/x/"],
)
def test_a_remembered_url_is_the_one_built_for_the_path(path: str) -> None:
    built = URL("http://auth:8000" + quote(path, safe="/%!$&'()*+,;=:@-._~"), encoded=True)
    assert request_url("http://auth:8000/", path, None) == built
    assert request_url("http://auth:8000/", path, None) == built  # the remembered one
    with_query = request_url("http://auth:8000/", path, [("q", "a b"), ("n", 2), ("f", True)])
    assert str(with_query) == str(built) + "?q=a%20b&n=2&f=true"


def test_the_remembered_urls_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downstream, "_URLS_KEPT", 3)
    monkeypatch.setattr(downstream, "_urls", {})
    for number in range(10):
        assert str(request_url("http://gig:8000", f"/g/{number}", None)) == f"http://gig:8000/g/{number}"
        assert len(downstream._urls) <= 3


def test_header_values_must_be_visible_ascii_as_before() -> None:
    for good in ("device-1.a_b:c", " ~", ""):
        assert _is_visible_ascii(good)
    for bad in ("tab\there", "nul\x00", "del\x7f", "é", "line\nbreak", "\x1f"):
        assert not _is_visible_ascii(bad)
    for code in range(0x180):  # the old definition, character by character
        assert _is_visible_ascii(chr(code)) == (" " <= chr(code) <= "~")
