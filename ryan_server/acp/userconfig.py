"""Where the user settings file is, for the front ends that have no settings channel.

ACP has no way to send settings, so `ryan-server --acp` reads them from a file: a JSON object with the
same camelCase keys as the editors' settings (`provider`, `baseUrl`, `model`, `tools`, `mcpServers`…).
It is `$RYAN_CONFIG` when set, else `settings.json` in the user config folder (platformdirs:
`~/.config/ryan/` on Linux, `~/Library/Application Support/ryan/` on macOS, `%LOCALAPPDATA%\\ryan\\`
on Windows). The terminal client reads the same file without importing the server: keep this logic as
small as it is, so it can be mirrored line for line.
"""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "RYAN_CONFIG"
FILE_NAME = "settings.json"


def settings_path() -> Path:
    """`$RYAN_CONFIG` if set (and not blank), else `<user config dir>/ryan/settings.json`."""
    explicit = os.environ.get(CONFIG_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("ryan", appauthor=False)) / FILE_NAME
