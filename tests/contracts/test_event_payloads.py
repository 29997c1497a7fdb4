"""Producers' event payloads carry what their consumers read (docs/contracts.md, Events)."""

from __future__ import annotations

from gig_service.domain.events import GIG_CREATED, GigChanged
from users_service.domain.activity import deltas_for


def test_gig_events_name_the_gig_and_its_seller_at_the_top_for_the_users_service() -> None:
    gig = {"id": "g-1", "seller_id": "s-1", "title": "Logos"}
    payload = GigChanged(GIG_CREATED, gig, 1).payload()

    assert payload["gig"] == gig
    assert payload["version"] == 1
    assert (payload["gig_id"], payload["seller_id"]) == ("g-1", "s-1")
    # The consumer's own reading of it: one more gig for that seller, not an invalid event.
    [(user_id, delta)] = deltas_for(GIG_CREATED, payload)
    assert user_id == "s-1"
    assert delta.gig_count == 1
