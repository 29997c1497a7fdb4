"""Which media keys anyone may read: gig covers (``gigs/<owner>/<name>``, docs/contracts.md "Media keys").

Chat files and deliveries (``chat/``, ``deliveries/``) belong to the two people of a conversation or an order;
the storefront never serves them by key (the bucket is private, ADR 0017), so pages show their names only.
"""

from __future__ import annotations

import re

# The gig area's rule in servicekit.media (5 MiB of JPEG, PNG or WebP), repeated so the storefront needs no
# object-store model to answer a request it will refuse anyway.
PUBLIC_MEDIA_MAX_BYTES = 5 * 1024 * 1024
PUBLIC_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
_PUBLIC_KEY = re.compile(r"gigs/[A-Za-z0-9_-]{1,128}/[A-Za-z0-9._-]{1,200}")


def is_public_media_key(key: str) -> bool:
    return _PUBLIC_KEY.fullmatch(key) is not None and ".." not in key
