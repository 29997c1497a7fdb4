"""Media keys named in chat messages (docs/contracts.md, "Media keys"): `chat/<owner user id>/<object name>`.

The key's format and owner are checked here, in the domain: a sender may only attach an object uploaded under
their own id. Whether the object exists is a question for the media store, asked by the service layer when
a media checker is configured.
"""

from __future__ import annotations

import re

from chat_service.domain.errors import FileNotYours, InvalidMessage

CHAT_MEDIA_AREA = "chat"
_KEY = re.compile(r"^(?P<area>[a-z]+)/(?P<owner>[A-Za-z0-9-]{1,64})/(?P<name>[A-Za-z0-9._-]{1,200})$")


def check_chat_file_key(key: str, sender_id: str) -> str:
    """The key unchanged if it is a chat key owned by `sender_id`; else `InvalidMessage`/`FileNotYours`."""
    match = _KEY.match(key)
    if match is None or match["area"] != CHAT_MEDIA_AREA or match["name"] in {".", ".."}:
        raise InvalidMessage("file_key must look like chat/<your user id>/<object name>")
    if match["owner"] != sender_id:
        raise FileNotYours()
    return key
