"""Through the gateway, a number or boolean of the wrong JSON type is a 422 naming the field, not carried out.

test_request_types.py proves the rule for every field in-process; these are the client's view of it on the
real stack: the service's 422 reaches the client unchanged, and a query number written as text still works.
"""

from __future__ import annotations

from typing import Any

import pytest
from contract_support import SignedInUser
from stack import GigstackStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

API = "/api/v1/gateway"


def _refused_field(answer: Any) -> list[str]:
    assert answer.status_code == 422, answer.text
    return [detail["field"] for detail in answer.json()["error"]["details"]]


async def test_wrong_json_types_are_refused_naming_the_field(
    contract_stack: GigstackStack, signed_in_user: SignedInUser, trading_partner: dict[str, Any]
) -> None:
    auth = {"Authorization": f"Bearer {signed_in_user.access_token}", "X-Device-Id": signed_in_user.device_id}
    gig, offer = trading_partner["gig"], trading_partner["offer"]
    async with contract_stack.gateway_client() as gateway:
        upload = {"area": "gigs", "content_type": "image/png", "size": "100"}
        assert _refused_field(await gateway.post(f"{API}/media/uploads", json=upload, headers=auth)) == [
            "body.size"
        ]
        counter_offer = {
            "conversation_id": offer["conversation_id"],
            "kind": "offer",
            "offer": {
                "gig_id": gig["id"],
                "description": "A counter offer",
                "price": True,
                "delivery_days": 3,
                "expires_at": offer["expires_at"],
            },
        }
        sent = await gateway.post(f"{API}/chat/messages", json=counter_offer, headers=auth)
        assert _refused_field(sent) == ["body.offer.price"]
        extension = {"days": True, "reason": "more time", "version": 1}
        asked = await gateway.post(f"{API}/orders/no-such-order/extension", json=extension, headers=auth)
        assert _refused_field(asked) == ["body.days"]
        # Nothing was carried out: the conversation still ends with the partner's offer.
        conversation = f"{API}/chat/conversations/{offer['conversation_id']}"
        messages = await gateway.get(f"{conversation}/messages", headers=auth)
        assert messages.status_code == 200, messages.text
        assert messages.json()["items"][0]["offer"]["id"] == offer["id"]


async def test_a_query_number_is_text_but_not_a_boolean(contract_stack: GigstackStack) -> None:
    async with contract_stack.gateway_client() as gateway:
        assert (await gateway.get(f"{API}/gigs/search", params={"size": "10"})).status_code == 200
        refused = await gateway.get(f"{API}/gigs/search", params={"size": "true"})
        assert _refused_field(refused) == ["query.size"]
        assert _refused_field(await gateway.get(f"{API}/sellers/random", params={"count": "true"})) == [
            "query.count"
        ]
