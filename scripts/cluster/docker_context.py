"""Write a service image's build context as a tar stream, with the repository's .dockerignore applied.

Debian's docker 20.10 client (the one that drives BuildKit without the buildx plugin) mis-applies a
re-include under a wildcard directory (`!services/*/pyproject.toml` after `**`) and sends an empty services/
folder. This applies .dockerignore as current Docker does (last matching pattern wins; a pattern matching a
parent directory matches its files) and adds the Dockerfile without its `# syntax=` line, which would make
BuildKit pull a frontend image from Docker Hub.
Usage: python -m scripts.cluster.docker_context services/gateway/Dockerfile > context.tar
"""

from __future__ import annotations

import io
import os
import re
import sys
import tarfile
from pathlib import Path
from typing import BinaryIO

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTEXT_DOCKERFILE = "Dockerfile"  # the context root has none of its own


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax: `**` spans directories, `*` and `?` stay within one path element."""
    pattern = pattern.strip("/")
    out = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            out += ".*"
            index += 2
        elif pattern[index] == "*":
            out += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            out += "[^/]"
            index += 1
        else:
            out += re.escape(pattern[index])
            index += 1
    return re.compile(out)


def read_patterns(dockerignore: Path) -> list[tuple[bool, re.Pattern[str]]]:
    """(re-include?, regex) for each pattern line, in file order."""
    patterns = []
    for raw in dockerignore.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        patterns.append((negated, _pattern_regex(line.lstrip("!").strip())))
    return patterns


def is_excluded(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    excluded = False
    for negated, regex in patterns:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def context_files(root: Path) -> list[str]:
    patterns = read_patterns(root / ".dockerignore") if (root / ".dockerignore").is_file() else []
    files = []
    for directory, subdirectories, names in os.walk(root):
        # Never part of an image context, and large: skip walking them.
        subdirectories[:] = [name for name in subdirectories if name not in {".git", ".venv", ".local"}]
        for name in names:
            relative = str((Path(directory) / name).relative_to(root))
            if not is_excluded(relative, patterns):
                files.append(relative)
    return sorted(files)


def write_context(dockerfile: Path, output: BinaryIO, root: Path = REPO_ROOT) -> None:
    text = "".join(
        line for line in dockerfile.read_text().splitlines(keepends=True) if not line.startswith("# syntax=")
    )
    # GNU format: a leading PAX header makes the docker client take the stream for a Dockerfile, not a tar.
    with tarfile.open(fileobj=output, mode="w|", format=tarfile.GNU_FORMAT) as archive:
        for relative in context_files(root):
            archive.add(root / relative, arcname=relative, recursive=False)
        data = text.encode()
        info = tarfile.TarInfo(CONTEXT_DOCKERFILE)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    write_context(Path(sys.argv[1]).resolve(), sys.stdout.buffer)
