"""Media keys and upload rules without a store: what is refused before anything is signed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from servicekit.media import (
    AREA_RULES,
    InvalidMediaKey,
    MediaArea,
    MediaKey,
    MediaMissing,
    MediaNotYours,
    MediaRejected,
    ObjectStoreSettings,
    PresignedPost,
    StoredObject,
    UploadRefused,
    plan_upload,
    verify_upload,
)
from servicekit.settings import ServiceSettings


@dataclass
class FakeObjectStore:
    """The port's fake: objects by key; records what was presigned."""

    objects: dict[str, StoredObject] = field(default_factory=dict)
    presigned: list[tuple[str, str, int]] = field(default_factory=list)

    async def presign_post(
        self, key: str, *, content_type: str, max_bytes: int, expires_in_seconds: int
    ) -> PresignedPost:
        self.presigned.append((key, content_type, max_bytes))
        return PresignedPost("http://store/bucket", {"key": key}, datetime.now(UTC))

    async def stat(self, key: str) -> StoredObject | None:
        return self.objects.get(key)

    async def close(self) -> None:
        return None


def test_a_key_is_area_owner_and_name() -> None:
    key = MediaKey.parse("gigs/u-1/cover.png")
    assert (key.area, key.owner, key.name) == (MediaArea.GIGS, "u-1", "cover.png")
    assert str(key) == "gigs/u-1/cover.png"


@pytest.mark.parametrize(
    "text",
    [
        "avatars/u1/a.png",
        "gigs/u1",
        "gigs//a.png",
        "gigs/u1/../a.png/x",
        "gigs/u1/a b.png",
        "gigs/u/" + "a" * 201,
    ],
)
def test_anything_else_is_not_a_key(text: str) -> None:
    with pytest.raises(InvalidMediaKey):
        MediaKey.parse(text)


def test_new_keys_are_unique_and_named_after_the_type() -> None:
    first = MediaKey.new(MediaArea.CHAT, "u1", "application/pdf")
    second = MediaKey.new(MediaArea.CHAT, "u1", "application/pdf")
    assert first != second
    assert first.name.endswith(".pdf")
    assert str(first).startswith("chat/u1/")
    assert MediaKey.parse(str(first)) == first


async def test_a_content_type_the_area_does_not_take_is_refused_before_signing() -> None:
    store = FakeObjectStore()
    with pytest.raises(UploadRefused, match="image/png"):
        await plan_upload(
            store, owner="u1", area=MediaArea.GIGS, content_type="text/html", size=10, expires_in_seconds=60
        )
    assert store.presigned == []


@pytest.mark.parametrize("size", [0, AREA_RULES[MediaArea.GIGS].max_bytes + 1])
async def test_a_size_out_of_range_is_refused(size: int) -> None:
    with pytest.raises(UploadRefused, match="bytes"):
        await plan_upload(
            FakeObjectStore(),
            owner="u1",
            area=MediaArea.GIGS,
            content_type="image/png",
            size=size,
            expires_in_seconds=60,
        )


async def test_a_planned_upload_is_signed_for_the_areas_limit_not_the_announced_size() -> None:
    store = FakeObjectStore()
    planned = await plan_upload(
        store, owner="u1", area=MediaArea.GIGS, content_type="image/png", size=10, expires_in_seconds=60
    )
    assert store.presigned == [(str(planned.key), "image/png", AREA_RULES[MediaArea.GIGS].max_bytes)]
    assert planned.key.owner == "u1"
    assert "image/png" in planned.content_types


async def test_verify_refuses_someone_elses_key_missing_objects_and_rule_breakers() -> None:
    rule = AREA_RULES[MediaArea.GIGS]
    store = FakeObjectStore(
        {
            "gigs/u1/ok.png": StoredObject("gigs/u1/ok.png", 10, "image/png"),
            "gigs/u1/big.png": StoredObject("gigs/u1/big.png", rule.max_bytes + 1, "image/png"),
            "gigs/u1/page.html": StoredObject("gigs/u1/page.html", 10, "text/html"),
        }
    )
    ok = await verify_upload(store, "gigs/u1/ok.png", owner="u1", area=MediaArea.GIGS)
    assert ok.size == 10
    with pytest.raises(MediaNotYours):
        await verify_upload(store, "gigs/u1/ok.png", owner="u2", area=MediaArea.GIGS)
    with pytest.raises(MediaMissing):
        await verify_upload(store, "gigs/u1/none.png", owner="u1", area=MediaArea.GIGS)
    with pytest.raises(MediaRejected, match="bytes"):
        await verify_upload(store, "gigs/u1/big.png", owner="u1", area=MediaArea.GIGS)
    with pytest.raises(MediaRejected, match="text/html"):
        await verify_upload(store, "gigs/u1/page.html", owner="u1", area=MediaArea.GIGS)
    with pytest.raises(MediaRejected, match="chat"):
        await verify_upload(store, "chat/u1/ok.png", owner="u1", area=MediaArea.GIGS)


class _Settings(ServiceSettings, ObjectStoreSettings):
    service_name: str = "media-test"


def _settings(environment: str, **values: str) -> _Settings:
    return _Settings(
        environment=environment,
        internal_token_public_key="-----BEGIN PUBLIC KEY-----",
        object_store_bucket="gigstack-media",
        **values,  # type: ignore[arg-type]
    )


def test_placeholder_store_credentials_are_refused_outside_development() -> None:
    keys = {"object_store_access_key_id": "AKIAEXAMPLE", "object_store_secret_access_key": "changeme-s3"}
    assert _settings("development", **keys).object_store_secret_access_key is not None
    with pytest.raises(ValidationError, match="OBJECT_STORE_SECRET_ACCESS_KEY looks like a placeholder"):
        _settings("production", **keys)


def test_store_keys_come_in_pairs_and_may_both_be_absent() -> None:
    assert _settings("production").object_store_access_key_id is None  # IRSA: the default chain
    with pytest.raises(ValidationError, match="set together"):
        _settings("development", object_store_access_key_id="AKIAEXAMPLE")
