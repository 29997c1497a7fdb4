"""DownstreamClient's per-request shortcuts change no answer: remembered URLs, the header check."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from gateway_service.adapters import downstream
from gateway_service.adapters.downstream import _is_visible_ascii, request_target


@pytest.mark.parametrize(
    "path",
    ["/api/v1/auth/me", "/api/v1/gig/gigs/s%20one", "/api/v1/gig/gigs/a b", "/api/v1/gig/é", "/x/"],
)
def test_a_remembered_target_is_the_one_built_for_the_path(path: str) -> None:
    built = quote(path, safe="/%!$&'()*+,;=:@-._~")
    assert request_target("", path, None) == built
    assert request_target("", path, None) == built  # the remembered one
    assert request_target("/base", path, None) == "/base" + built  # a service URL with a path
    with_query = request_target("", path, [("q", "a b"), ("n", 2), ("f", True)])
    assert with_query == built + "?q=a%20b&n=2&f=true"


def test_the_remembered_targets_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downstream, "_URLS_KEPT", 3)
    monkeypatch.setattr(downstream, "_urls", {})
    for number in range(10):
        assert request_target("", f"/g/{number}", None) == f"/g/{number}"
        assert len(downstream._urls) <= 3


def test_header_values_must_be_visible_ascii_as_before() -> None:
    for good in ("device-1.a_b:c", " ~", ""):
        assert _is_visible_ascii(good)
    for bad in ("tab\there", "nul\x00", "del\x7f", "é", "line\nbreak", "\x1f"):
        assert not _is_visible_ascii(bad)
    for code in range(0x180):  # the old definition, character by character
        assert _is_visible_ascii(chr(code)) == (" " <= chr(code) <= "~")
