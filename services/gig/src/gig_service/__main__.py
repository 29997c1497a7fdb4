"""``python -m gig_service``: serve the app and run its event workers; ``reindex`` rebuilds search."""

import asyncio
import sys

from servicekit.http import run_service

from gig_service.settings import GigSettings


async def _reindex(settings: GigSettings) -> None:
    from gig_service.entrypoints.bootstrap import bootstrap
    from gig_service.entrypoints.reindex import reindex

    deps = bootstrap(settings)
    try:
        print(f"search alias {settings.search_index_alias} now on {await reindex(deps)}")
    finally:
        await deps.search.close()
        await deps.mongo.close()


def main() -> None:
    settings = GigSettings()
    if sys.argv[1:] == ["reindex"]:
        asyncio.run(_reindex(settings))
    elif sys.argv[1:]:
        sys.exit("usage: python -m gig_service [reindex]")
    else:
        run_service("gig_service.entrypoints.app:create_app", settings)


if __name__ == "__main__":
    main()
