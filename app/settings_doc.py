"""The README's settings table, made from the one settings definition.

`python -m app.settings_doc` prints it; tests/test_settings.py fails when README.md's table
(between the `settings:start` and `settings:end` markers) differs, so the docs cannot drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.settings import SETTING_FIELDS, Settings, env_name


def _default(value: Any) -> str:
    if isinstance(value, Path):
        return f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"`{value}`" if value else "(empty)"
    if isinstance(value, dict | list):
        return f"`{json.dumps(value, ensure_ascii=False)}`" if value else "(empty)"
    return f"`{value}`"


def markdown_table() -> str:
    defaults = Settings()
    lines = [
        "| setting (TOML key) | environment variable | default | what it does |",
        "|---|---|---|---|",
    ]
    for f in SETTING_FIELDS:
        help_text = str(f.metadata["help"]).replace("|", "\\|")
        lines.append(
            f"| `{f.name}` | `{env_name(f.name)}` | {_default(getattr(defaults, f.name))} | {help_text} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
