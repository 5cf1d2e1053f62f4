"""Ryan's settings: one pydantic model, camelCase on the wire, merged key by key.

Editors send settings at `initialize`, on `workspace/didChangeConfiguration` and in answer to
`workspace/configuration`. A bad key must not cost the user the good keys beside it, so `merge`
validates each key on its own: a key that fails keeps its last valid value and is reported.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
OPENAI_DEFAULT_URL = "http://127.0.0.1:8080/v1"


class _Section(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", validate_assignment=True
    )


class StreamingSettings(_Section):
    enabled: bool = True
    update_interval_ms: int = Field(50, ge=0, le=10_000)
    fallback_on_error: bool = True
    retry_attempts: int = Field(3, ge=0, le=10)
    retry_delay_ms: int = Field(1000, ge=0, le=60_000)
    resume_attempts: int = Field(2, ge=0, le=10)
    # null: Ryan decides per backend (vLLM needs `continue_final_message`); true/false: always/never
    continue_final_message: bool | None = None


class ToolSettings(_Section):
    enabled: bool = True
    # auto: native tool calls, calls written as text read too, and tools in the prompt for a model that
    # has no tool support; native: native calls only; prompt: tools in the prompt; off: no tools
    mode: Literal["auto", "native", "prompt", "off"] = "auto"
    auto_approve: list[str] = Field(default_factory=lambda: ["list_files", "read_file", "search_files"])
    max_steps: int = Field(20, ge=1, le=200)
    max_read_bytes: int = Field(1_000_000, ge=1, le=100_000_000)
    max_tools: int = Field(128, ge=1, le=1000)  # tools offered to the model, built-in and MCP together
    # run_command: commands that run without asking (exact words or a prefix of words, never with
    # shell operators), its time limit, and how much of its output the model gets (head and tail)
    allow_commands: list[str] = Field(default_factory=list)
    command_timeout: float = Field(120.0, gt=0, le=86_400)
    max_output_bytes: int = Field(50_000, ge=1000, le=10_000_000)


class McpServerSettings(_Section):
    """One MCP server, in the shape Claude Desktop, Cursor, Cline and Continue use: `command` (with
    `args`, `env`, `cwd`) for a server Ryan starts over stdio, or `url` (with `headers`) for one it
    reaches over streamable HTTP (`"type": "sse"` for the older SSE transport)."""

    # `type`/`transport` appear in configs pasted from other editors; they only choose SSE over HTTP
    type: Literal["stdio", "http", "streamable-http", "streamableHttp", "sse"] | None = None
    transport: Literal["stdio", "http", "streamable-http", "streamableHttp", "sse"] | None = None
    transport_type: Literal["stdio", "http", "streamable-http", "streamableHttp", "sse"] | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)  # tokens live here: never logged
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    disabled: bool = False
    timeout: float = Field(60.0, gt=0, le=86_400)  # seconds per call
    auto_approve: list[str] = Field(default_factory=list)
    always_allow: list[str] = Field(default_factory=list)  # Cline's name for autoApprove

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if bool(self.command) == bool(self.url):
            raise ValueError('needs either "command" (a server Ryan starts) or "url" (one it connects to)')
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError('"url" must start with http:// or https://')
        return self

    @property
    def sse(self) -> bool:
        return "sse" in (self.type, self.transport, self.transport_type)

    @property
    def approved_tools(self) -> set[str]:
        return {*self.auto_approve, *self.always_allow}


class Settings(_Section):
    provider: Literal["ollama", "openai", "embedded"] = "ollama"
    base_url: str | None = None
    api_key: SecretStr | None = Field(default_factory=lambda: _env_secret("RYAN_API_KEY"))
    model: str | None = None
    system_prompt: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    think: bool | Literal["low", "medium", "high"] | None = None
    request_timeout: float = Field(60.0, gt=0, le=3600)
    context_length: int | None = Field(None, ge=256)  # caps the model's context window (tokens)
    model_path: str | None = None  # the GGUF the embedded provider serves (default: the built-in model)
    streaming: StreamingSettings = Field(default_factory=lambda: StreamingSettings())
    tools: ToolSettings = Field(default_factory=lambda: ToolSettings())
    mcp_servers: dict[str, McpServerSettings] = Field(default_factory=dict)
    history_path: str | None = Field(default_factory=lambda: os.environ.get("RYAN_HISTORY") or None)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("model", "system_prompt", "history_path", "model_path")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @property
    def effective_base_url(self) -> str:
        """The backend address: the setting, else `$OLLAMA_HOST` for Ollama, else the default."""
        if self.base_url:
            return self.base_url
        if self.provider == "ollama":
            host = os.environ.get("OLLAMA_HOST", "").strip()
            return _normalise_ollama_host(host) if host else OLLAMA_DEFAULT_URL
        return OPENAI_DEFAULT_URL

    @property
    def backend_unconfigured(self) -> bool:
        """Nobody chose a backend: Ollama at its default address, which the built-in model may stand
        in for when nothing answers there."""
        return (
            self.provider == "ollama" and not self.base_url and not os.environ.get("OLLAMA_HOST", "").strip()
        )

    @property
    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None


def _env_secret(name: str) -> SecretStr | None:
    value = os.environ.get(name)
    return SecretStr(value) if value else None


def _normalise_ollama_host(host: str) -> str:
    """`OLLAMA_HOST` may be `0.0.0.0`, `host`, `host:port` or a URL, as the ollama CLI accepts."""
    if "://" in host:
        return host.rstrip("/")
    host = host.rstrip("/")
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    if name in ("", "0.0.0.0"):
        name = "127.0.0.1"
    return f"http://{name}:{port or 11434}"


_SECTIONS: dict[str, type[_Section]] = {"streaming": StreamingSettings, "tools": ToolSettings}


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    return str(first.get("msg", "invalid value")).removeprefix("Value error, ")


def merge(current: Settings, incoming: Any) -> tuple[Settings, list[str]]:
    """Apply the keys of `incoming` (wire form) to `current`; return the result and one error per bad key.

    Keys not mentioned keep their values; `null` resets a key to its default. Unknown keys are
    reported too, so a typo does not silently do nothing.
    """
    if incoming is None:
        return current, []
    if not isinstance(incoming, dict):
        return current, [f"ryan: settings must be an object, got {type(incoming).__name__}"]
    result = current.model_copy(deep=True)
    errors: list[str] = []
    fields_by_alias = {info.alias or name: name for name, info in Settings.model_fields.items()}
    for key, value in incoming.items():
        name = fields_by_alias.get(key) or (key if key in Settings.model_fields else None)
        if name is None:
            errors.append(f"ryan.{key}: unknown setting")
            continue
        if value is None:  # null resets a key to its default (a setting cleared in the editor)
            setattr(result, name, Settings.model_fields[name].get_default(call_default_factory=True))
            continue
        if name == "mcp_servers":
            result.mcp_servers = _merge_mcp_servers(current.mcp_servers, value, errors)
            continue
        if name in _SECTIONS:
            section = getattr(result, name)
            if not isinstance(value, dict):
                errors.append(f"ryan.{key}: must be an object")
                continue
            section_fields = {
                info.alias or field: field for field, info in _SECTIONS[name].model_fields.items()
            }
            for sub_key, sub_value in value.items():
                field = section_fields.get(sub_key) or (
                    sub_key if sub_key in _SECTIONS[name].model_fields else None
                )
                if field is None:
                    errors.append(f"ryan.{key}.{sub_key}: unknown setting")
                    continue
                if sub_value is None:
                    sub_value = _SECTIONS[name].model_fields[field].get_default(call_default_factory=True)
                try:
                    setattr(section, field, sub_value)
                except ValidationError as error:
                    errors.append(f"ryan.{key}.{sub_key}: {_describe(error)} (got {sub_value!r})")
            continue
        try:
            setattr(result, name, value)
        except ValidationError as error:
            shown = "***" if name == "api_key" else repr(value)
            errors.append(f"ryan.{key}: {_describe(error)} (got {shown})")
    return result, errors


def _merge_mcp_servers(
    current: dict[str, McpServerSettings], incoming: Any, errors: list[str]
) -> dict[str, McpServerSettings]:
    """The block replaces the servers as a whole (a server left out is stopped), but a server whose
    entry is invalid keeps its previous entry, so one typo does not stop the others."""
    if not isinstance(incoming, dict):
        errors.append("ryan.mcpServers: must be an object of servers by name")
        return current
    servers: dict[str, McpServerSettings] = {}
    for name, entry in incoming.items():
        try:
            if not name.strip():
                raise ValueError("a server needs a name")
            if not isinstance(entry, dict):
                raise ValueError("must be an object")
            known = {info.alias or field for field, info in McpServerSettings.model_fields.items()}
            for key in entry.keys() - known:  # a pasted entry may carry another editor's keys
                errors.append(f"ryan.mcpServers.{name}.{key}: unknown key, ignored")
            servers[name] = McpServerSettings.model_validate({k: v for k, v in entry.items() if k in known})
        except (ValidationError, ValueError) as error:
            message = _describe_entry(error) if isinstance(error, ValidationError) else str(error)
            errors.append(f"ryan.mcpServers.{name}: {message}")
            if name in current:
                servers[name] = current[name]
    return servers


def _describe_entry(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    message = _describe(error)
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}" if where else message
