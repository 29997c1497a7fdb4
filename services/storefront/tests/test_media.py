"""``GET /media/<key>`` (pages/media.py): gig covers on the storefront's own origin, read through a fake
object-store reader; and the pages point their ``<img>`` at it with the CSP's img-src left at 'self'."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from storefront_fakes import BASE_URL, FakeGateway, empty_page, gig
from storefront_service.adapters.media_reader import MediaObject, MediaUnavailable
from storefront_service.entrypoints.app import create_app
from storefront_service.settings import StorefrontSettings

COVER = "gigs/u1/0b5f3c3e-cover.png"
PNG = b"\x89PNG\r\n\x1a\n-cover-bytes"


class FakeMediaReader:
    def __init__(self, objects: dict[str, MediaObject]) -> None:
        self.objects = objects
        self.asked: list[str] = []
        self.down = False

    async def read(self, key: str, *, max_bytes: int) -> MediaObject | None:
        self.asked.append(key)
        if self.down:
            raise MediaUnavailable("object store did not answer: TimeoutError")
        found = self.objects.get(key)
        return found if found is not None and len(found.body) <= max_bytes else None

    async def close(self) -> None:
        return None


@pytest.fixture
def reader() -> FakeMediaReader:
    return FakeMediaReader(
        {
            COVER: MediaObject(PNG, "image/png", '"etag-1"'),
            "gigs/u1/page.html": MediaObject(b"<script>", "text/html", None),
            "deliveries/u1/final.png": MediaObject(PNG, "image/png", None),
        }
    )


@pytest.fixture
async def media_client(
    storefront_settings: StorefrontSettings, gateway: FakeGateway, reader: FakeMediaReader
) -> AsyncIterator[httpx.AsyncClient]:
    settings = storefront_settings.model_copy(update={"media_proxy_enabled": True})
    http = httpx.AsyncClient(base_url="http://gateway.test", transport=httpx.MockTransport(gateway))
    app = create_app(settings, http=http, media=reader)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as browser:
        yield browser
    await app.state.deps.redis.aclose()
    await http.aclose()


async def test_a_cover_is_served_from_the_sites_origin_with_long_cache_headers(
    media_client: httpx.AsyncClient,
) -> None:
    answer = await media_client.get(f"/media/{COVER}")
    assert answer.status_code == 200
    assert answer.content == PNG
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in answer.headers  # an image never creates a session
    again = await media_client.get(f"/media/{COVER}", headers={"If-None-Match": '"etag-1"'})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "key",
    [
        "gigs/u1/missing.png",  # not in the store
        "deliveries/u1/final.png",  # private area: exists, never served by key
        "chat/u1/file.pdf",
        "gigs/u1/page.html",  # under gigs/ but not an image
        "gigs/../deliveries/u1/final.png",
        "uploads",
    ],
)
async def test_anything_but_an_existing_cover_is_a_plain_404(
    media_client: httpx.AsyncClient, reader: FakeMediaReader, key: str
) -> None:
    answer = await media_client.get(f"/media/{key}")
    assert answer.status_code == 404
    assert answer.headers["cache-control"] == "public, max-age=60"
    assert answer.text == "Not found\n"
    assert not any(asked.startswith(("deliveries/", "chat/")) for asked in reader.asked)


async def test_an_unreachable_store_is_a_503_not_a_500(
    media_client: httpx.AsyncClient, reader: FakeMediaReader
) -> None:
    reader.down = True
    answer = await media_client.get(f"/media/{COVER}")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"


@pytest.mark.parametrize(
    ("environment", "refused"), [("production", True), ("staging", True), ("test", False)]
)
def test_a_placeholder_object_store_secret_is_refused_outside_development(
    storefront_settings: StorefrontSettings,
    monkeypatch: pytest.MonkeyPatch,
    environment: str,
    refused: bool,
) -> None:
    monkeypatch.setenv("OBJECT_STORE_BUCKET", "gigstack-media")
    monkeypatch.setenv("OBJECT_STORE_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("OBJECT_STORE_SECRET_ACCESS_KEY", "changeme-in-production")
    settings = storefront_settings.model_copy(
        update={"environment": environment, "media_proxy_enabled": True}
    )
    if not refused:
        assert settings.object_store().object_store_bucket == "gigstack-media"
        return
    with pytest.raises(ValueError, match="OBJECT_STORE_SECRET_ACCESS_KEY looks like a placeholder") as error:
        create_app(settings)
    assert "changeme" not in str(error.value), "the message names the variable, never its value"


async def test_without_the_setting_media_is_not_served(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/media/{COVER}")).status_code == 404


async def test_the_gig_page_shows_its_cover_from_its_own_origin(
    media_client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.on("gigs.byId", gig("g1", cover_image_key=COVER))
    gateway.on("gigs.similar", empty_page())
    gateway.on("reviews.byGig", {"items": [], "next_cursor": None})
    page = await media_client.get("/gigs/g1")
    assert page.status_code == 200
    assert f'src="/media/{COVER}"' in page.text
    policy = page.headers["content-security-policy"]
    assert "img-src 'self' data:;" in policy  # no media origin for images
    assert "connect-src 'self' http://media.test:9000" in policy  # uploads still go straight to the store
