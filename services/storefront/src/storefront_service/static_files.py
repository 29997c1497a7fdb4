"""Versioned static files: ``/static/<content-hash>/<path>``, cacheable for a year.

The hash of each file's content is computed once at start-up; templates ask ``static_url("app.css")`` and
get the current URL, so a changed file gets a new URL and browsers never run a stale copy next to a new
page. A request for an old hash (a page rendered by the previous release during a rolling update) still gets
the file, but with a short cache lifetime, so it is neither broken nor pinned.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
STALE = "public, max-age=60"
_HASH_LENGTH = 16


@dataclass(frozen=True)
class StaticManifest:
    root: Path
    versions: dict[str, str]  # relative path -> content hash

    @classmethod
    def scan(cls, root: Path = STATIC_DIR) -> StaticManifest:
        versions = {
            path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:_HASH_LENGTH]
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.name.startswith(".") and path.suffix not in (".md", ".LICENSE")
        }
        return cls(root, versions)

    def url(self, relative: str) -> str:
        version = self.versions.get(relative)
        if version is None:
            # A template naming a file that does not exist is a bug to see at once, not a silent 404.
            raise KeyError(f"static file {relative!r} does not exist")
        return f"/static/{version}/{relative}"


def static_router(manifest: StaticManifest) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/static/{version}/{relative:path}")
    async def static_file(version: str, relative: str) -> Response:
        # Only files found at start-up are served: no path built from the request reaches the filesystem.
        current = manifest.versions.get(relative)
        if current is None:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        media_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
        if media_type in ("text/css", "text/javascript", "application/javascript"):
            media_type += "; charset=utf-8"
        return FileResponse(
            manifest.root / relative,
            media_type=media_type,
            headers={"Cache-Control": IMMUTABLE if version == current else STALE},
        )

    return router
