"""The terminal client's settings: the user settings file, `--set key=value`, `--mcp-config FILE`, the flags.

The file is the one `ryan-server --acp` reads (`settings_path` mirrors `ryan_server/acp/userconfig.py`
line for line: the client may not import it): a JSON object of the camelCase settings. `--set` entries
go over it, the flags (`--provider`, `--base-url`, `--model`, `--mcp-config`) over both. The API key
comes only from `$RYAN_API_KEY` (the server reads it) or the file, never from a flag: a command line
is visible to every user of the machine. A file that cannot be used is a usage error naming it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

CONFIG_ENV = "RYAN_CONFIG"
FILE_NAME = "settings.json"
_SECRET_KEYS = ("apiKey",)


class ConfigError(Exception):
    """A settings file, `--set` or `--mcp-config` that cannot be used; the message names it."""


def settings_path() -> Path:
    """`$RYAN_CONFIG` if set (and not blank), else `<user config dir>/ryan/settings.json`."""
    explicit = os.environ.get(CONFIG_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("ryan", appauthor=False)) / FILE_NAME


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _parse(text: str, path: Path, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def read_settings_file(path: Path) -> dict[str, Any]:
    """The file's settings object; {} when there is no file (or it is blank)."""
    if not path.exists():
        return {}
    text = _read_text(path, "the settings file")
    if not text.strip():
        return {}
    raw = _parse(text, path, "the settings file")
    if not isinstance(raw, dict):
        raise ConfigError(
            f"the settings file {path} must hold a JSON object of settings "
            f'(like {{"model": "llama3.2"}}), not {type(raw).__name__}'
        )
    return raw


def mcp_config(value: str) -> dict[str, Any]:
    """`--mcp-config FILE`: the file's `mcpServers` object (argparse type: errors are usage errors)."""
    path = Path(value).expanduser()
    try:
        raw = _parse(_read_text(path, "the --mcp-config file"), path, "the --mcp-config file")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    servers = raw.get("mcpServers") if isinstance(raw, dict) else None
    if not isinstance(servers, dict):
        raise argparse.ArgumentTypeError(
            f'{path} has no "mcpServers" object: the file should look like '
            '{"mcpServers": {"name": {"command": "...", "args": []}}}'
        )
    return servers


_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")


def set_entry(value: str) -> tuple[list[str], Any]:
    """`--set key=value` (argparse type): a dotted key, the value as JSON, else as the string given."""
    key, equals, text = value.partition("=")
    key = key.strip()
    if not equals or not _KEY.fullmatch(key):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not key=value: give a setting like tools.maxSteps=5 or model=llama3.2"
        )
    if key.split(".")[0] in _SECRET_KEYS:
        raise argparse.ArgumentTypeError(
            f"{key} cannot be given on the command line (other users can see it): set RYAN_API_KEY "
            f"in the environment, or apiKey in {settings_path()}"
        )
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return key.split("."), parsed


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        inner = target.get(part)
        if not isinstance(inner, dict):
            inner = target[part] = {}
        target = inner
    target[path[-1]] = value


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`; objects merge key by key (except `mcpServers`, replaced whole)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "mcpServers":
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """The `initializationOptions`: the file, then `--set`, then the flags. Raises ConfigError."""
    settings = read_settings_file(settings_path())
    overrides: dict[str, Any] = {}
    for path, value in args.set or []:
        _put(overrides, path, value)
    settings = deep_merge(settings, overrides)
    if args.provider:
        settings["provider"] = args.provider
    if args.base_url:
        settings["baseUrl"] = args.base_url
    if args.model:
        settings["model"] = args.model
    if args.mcp_config is not None:
        settings["mcpServers"] = args.mcp_config
    return settings


# A message that names a setting: "Check the apiKey setting", "raise requestTimeout", "tools.maxSteps".
_NAMED = re.compile(
    r"\b(?P<key>(?:tools|streaming)\.[a-z][A-Za-z]+|apiKey|baseUrl|requestTimeout|contextLength"
    r"|systemPrompt|modelPath|historyPath|logLevel|mcpServers)\b"
    r"|\bthe (?P<other>[a-z][A-Za-z.]*) setting\b"
)


def setting_hint(message: str) -> str | None:
    """One line telling a terminal user where the setting a message names lives, or None."""
    found = _NAMED.search(message)
    if not found:
        return None
    key = found["key"] or found["other"]
    where = settings_path()
    if key in _SECRET_KEYS:
        return f"hint: the API key comes from $RYAN_API_KEY, or apiKey in {where}"
    flag = "--mcp-config FILE" if key == "mcpServers" else f"--set {key}=…"
    return f"hint: the terminal client's settings live in {where} (a JSON object), or give {flag}"
