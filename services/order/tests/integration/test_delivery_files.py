"""orders.deliver checks each file in the object store (real s3proxy, this test's bucket): the key must be
an object the seller uploaded to their delivery area; a missing one, another user's or another area's is
refused and the order stays in progress."""

from __future__ import annotations

import uuid

from conftest import OrderApi
from servicekit.media import MediaArea


def new_user() -> str:
    return str(uuid.uuid4())


async def test_a_delivery_takes_only_files_the_seller_uploaded_to_their_delivery_area(
    order_api: OrderApi,
) -> None:
    buyer, seller = new_user(), new_user()
    order = await order_api.paid_order(buyer, seller)
    path = f"/api/v1/orders/{order['id']}/delivery"

    never_uploaded = f"deliveries/{seller}/{uuid.uuid4()}.pdf"
    buyers_file = await order_api.uploaded_file(buyer)
    cover = await order_api.uploaded_file(seller, MediaArea.GIGS)
    refusals = {}
    for name, key in (("missing", never_uploaded), ("buyer's", buyers_file), ("cover", cover)):
        response = await order_api.call("POST", path, seller, {"message": "m", "file_keys": [key]})
        refusals[name] = (response.status_code, response.json()["error"]["code"])
    assert refusals == {
        "missing": (422, "media_missing"),
        "buyer's": (422, "invalid_request"),
        "cover": (422, "invalid_request"),
    }
    still = (await order_api.call("GET", f"/api/v1/orders/{order['id']}", buyer)).json()
    assert (still["status"], still["version"]) == ("in_progress", 2)

    # The wrong party is told so before any file is looked at.
    mine = await order_api.uploaded_file(seller)
    by_buyer = await order_api.call("POST", path, buyer, {"message": "m", "file_keys": [mine]})
    assert by_buyer.status_code == 403

    delivered = await order_api.call("POST", path, seller, {"message": "here", "file_keys": [mine]})
    assert delivered.status_code == 200, delivered.text
    assert (delivered.json()["status"], delivered.json()["delivery"]["file_keys"]) == ("delivered", [mine])
