"""The version of the page's static files, for cache busting and self-updating TVs.

A NOC TV keeps one page open for months. After an upgrade its old JavaScript would go on talking
to the new server, so every snapshot carries the version (a hash of static/ and templates/), and
a page whose version differs reloads itself once. Static URLs carry the same version (`?v=`), so
the reload fetches the new files rather than cached old ones.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def asset_version(*folders: Path) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
