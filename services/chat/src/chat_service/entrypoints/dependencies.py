"""What routes read: the one dependencies object `bootstrap` built, kept as `app.state.deps`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from servicekit.http import app_deps

from chat_service.entrypoints.bootstrap import ChatDependencies

ChatDeps = Annotated[ChatDependencies, Depends(app_deps)]
