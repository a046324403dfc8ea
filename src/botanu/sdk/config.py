"""botanu's settings as one table, resolved with the precedence
code > environment (`OTEL_*`, `BOTANU_*`) > YAML file > defaults.

Bad settings raise `BotanuConfigError` naming the setting, its source and what to fix.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botanu.exceptions import BotanuConfigError

logger = logging.getLogger("botanu")

__all__ = ["BotanuConfig"]

PROPAGATION_MODES = ("lean", "full")
EXPORTERS = ("otlp", "console", "local", "none")
DEFAULT_CONFIG_FILE = "botanu.yaml"
# seconds disable() (and the provider's shutdown) waits for the exporter to flush
DEFAULT_SHUTDOWN_TIMEOUT = 5.0
MAX_SHUTDOWN_TIMEOUT = 300.0
OTLP_TRACES_PATH = "/v1/traces"

# env variable -> setting; earlier rows win when several are set
_ENV: tuple[tuple[str, str], ...] = (
    ("OTEL_SERVICE_NAME", "service_name"),
    ("BOTANU_SERVICE_VERSION", "service_version"),
    ("BOTANU_ENVIRONMENT", "environment"),
    ("BOTANU_EXPORTER", "exporter"),
    ("OTEL_TRACES_EXPORTER", "exporter"),
    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otlp_endpoint"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
    ("BOTANU_PROPAGATION_MODE", "propagation_mode"),
    ("BOTANU_AUTO_INSTRUMENT", "auto_instrument"),  # comma-separated: openai,httpx
    ("BOTANU_SHUTDOWN_TIMEOUT", "shutdown_timeout"),  # seconds
)

# YAML path -> setting
_YAML: dict[tuple[str, ...], str] = {
    ("service", "name"): "service_name",
    ("service", "version"): "service_version",
    ("service", "environment"): "environment",
    ("exporter",): "exporter",
    ("otlp", "endpoint"): "otlp_endpoint",
    ("otlp", "headers"): "otlp_headers",
    ("propagation", "mode"): "propagation_mode",
    ("auto_instrument",): "auto_instrument",  # a list of names, or one comma-separated string
    ("shutdown_timeout",): "shutdown_timeout",
}

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class BotanuConfig:
    """Settings; None means "not set here", so layers can be merged.

    `resolved()` fills the defaults and validates.
    """

    service_name: str | None = None
    service_version: str | None = None
    environment: str | None = None
    exporter: str | None = None
    otlp_endpoint: str | None = None
    otlp_headers: Mapping[str, str] | None = None
    propagation_mode: str | None = None
    # short names of OpenTelemetry instrumentors to turn on (botanu.sdk._auto_instrument)
    auto_instrument: tuple[str, ...] | None = None
    # seconds (default DEFAULT_SHUTDOWN_TIMEOUT): an endpoint that accepts and never
    # answers must not hold disable() or the process exit longer
    shutdown_timeout: float | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def lean(self) -> bool:
        return (self.propagation_mode or "lean") == "lean"

    @property
    def exporter_chosen(self) -> bool:
        """Whether botanu was told which exporter to use (code, BOTANU_EXPORTER or file).

        `OTEL_TRACES_EXPORTER` does not count: a host with its own OpenTelemetry set-up
        already exports according to it.
        """
        source = self.sources.get("exporter")
        return source is not None and source != "env OTEL_TRACES_EXPORTER"

    @property
    def traces_endpoint(self) -> str | None:
        """The full OTLP/HTTP traces URL, or None for the exporter's own default."""
        if self.otlp_endpoint is None:
            return None
        url = self.otlp_endpoint.rstrip("/")
        source = self.sources.get("otlp_endpoint", "")
        if source == "env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" or url.endswith(OTLP_TRACES_PATH):
            return url
        return url + OTLP_TRACES_PATH

    # --- loading ---------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> BotanuConfig:
        """The settings in one YAML file (`${VAR}` and `${VAR:-default}` expanded)."""
        return cls._from_values(_read_yaml(Path(path)), f"file {path}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BotanuConfig:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for var, name in _ENV:
            raw = environ.get(var, "").strip()
            if var == "OTEL_TRACES_EXPORTER":
                raw = _otel_exporter_hint(raw)
            if raw and name not in values:
                values[name] = raw
                sources[name] = f"env {var}"
        config = cls._from_values(values, "environment")
        return replace(config, sources=sources)

    @classmethod
    def _from_values(cls, values: Mapping[str, Any], source: str) -> BotanuConfig:
        cleaned: dict[str, Any] = {}
        for name, raw in values.items():
            if raw is None or raw == "":
                continue
            value: Any
            if name == "otlp_headers":
                if not isinstance(raw, Mapping):
                    raise BotanuConfigError(f"otlp.headers in {source} must be a mapping")
                value = {str(k): str(v) for k, v in raw.items()}
            elif name == "auto_instrument":
                value = auto_instrument_names(raw, source)
            elif name == "shutdown_timeout":
                value = _seconds(raw, name, source)
            else:
                value = str(raw)
            cleaned[name] = value
        return cls(**cleaned, sources=dict.fromkeys(cleaned, source))

    # --- merging and checking -------------------------------------------------------------
    def merged_over(self, lower: BotanuConfig) -> BotanuConfig:
        """This config's set values, falling back to `lower`'s."""
        values: dict[str, Any] = {}
        sources = dict(lower.sources)
        for f in fields(self):
            if f.name == "sources":
                continue
            mine = getattr(self, f.name)
            if mine is not None:
                values[f.name] = mine
                sources[f.name] = self.sources.get(f.name, "code")
            else:
                values[f.name] = getattr(lower, f.name)
        return BotanuConfig(**values, sources=sources)

    def resolved(self) -> BotanuConfig:
        """Defaults filled in and every value checked; raises BotanuConfigError."""
        config = replace(
            self,
            exporter=(self.exporter or "otlp").lower(),
            propagation_mode=(self.propagation_mode or "lean").lower(),
        )
        config._check()
        return config

    def _where(self, name: str) -> str:
        return self.sources.get(name, "code")

    def _check(self) -> None:
        if self.propagation_mode not in PROPAGATION_MODES:
            raise BotanuConfigError(
                f"propagation_mode {self.propagation_mode!r} "
                f"(from {self._where('propagation_mode')}) "
                f"is not one of {', '.join(PROPAGATION_MODES)}"
            )
        if self.exporter not in EXPORTERS:
            raise BotanuConfigError(
                f"exporter {self.exporter!r} (from {self._where('exporter')}) is not one of "
                f"{', '.join(EXPORTERS)}"
            )
        if self.otlp_endpoint is not None:
            parts = urlsplit(self.otlp_endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise BotanuConfigError(
                    f"otlp_endpoint {self.otlp_endpoint!r} (from {self._where('otlp_endpoint')}) "
                    "must be an http:// or https:// URL such as http://localhost:4318"
                )
            try:
                _ = parts.port
            except ValueError as exc:
                raise BotanuConfigError(
                    f"otlp_endpoint {self.otlp_endpoint!r} "
                    f"(from {self._where('otlp_endpoint')}) has a bad port: {exc}"
                ) from None
        timeout = self.shutdown_timeout
        if timeout is not None and not (
            isinstance(timeout, (int, float)) and 0 < timeout <= MAX_SHUTDOWN_TIMEOUT
        ):
            raise BotanuConfigError(
                f"shutdown_timeout {timeout!r} (from {self._where('shutdown_timeout')}) "
                f"must be a number of seconds above 0 and at most {MAX_SHUTDOWN_TIMEOUT:g}"
            )
        if self.service_name is not None and not self.service_name.strip():
            raise BotanuConfigError("service_name must not be blank")
        if self.auto_instrument:
            from botanu.sdk._auto_instrument import known_names, unknown_names

            unknown = unknown_names(self.auto_instrument)
            if unknown:
                raise BotanuConfigError(
                    f"auto_instrument names {', '.join(map(repr, unknown))} "
                    f"(from {self._where('auto_instrument')}) are not instrumentations "
                    f"botanu knows; use names from: {', '.join(known_names())}"
                )


def auto_instrument_names(raw: object, source: str) -> tuple[str, ...]:
    """A list of names or one comma-separated string, as lower-cased unique names."""
    from botanu.sdk._auto_instrument import normalise_names

    try:
        return normalise_names(raw)
    except TypeError:
        raise BotanuConfigError(
            f"auto_instrument in {source} must be a list of names or a comma-separated "
            f"string such as 'openai,httpx', got {raw!r}"
        ) from None


def _seconds(raw: object, name: str, source: str) -> float:
    try:
        return float(str(raw).strip())
    except ValueError:
        raise BotanuConfigError(
            f"{name} in {source} must be a number of seconds such as 5, got {raw!r}"
        ) from None


def _otel_exporter_hint(value: str) -> str:
    """OpenTelemetry's own exporter list (`otlp,console`, `otlp_proto_http`, `zipkin`...)
    is a hint: the first entry botanu knows wins, anything else is ignored."""
    for entry in value.split(","):
        name = entry.strip().lower()
        if name.startswith("otlp"):
            return "otlp"
        if name in EXPORTERS:
            return name
    if value:
        logger.debug("botanu: OTEL_TRACES_EXPORTER=%r names no exporter botanu has", value)
    return ""


def _expand(value: str) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = os.environ.get(name)
        if found:
            return found
        return default if default is not None else ""

    return _VAR.sub(substitute, value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise BotanuConfigError(
            f"{path} is a YAML config file, but PyYAML is not installed: pip install 'botanu[yaml]'"
        ) from None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BotanuConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise BotanuConfigError(f"{where}: invalid YAML: {problem}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise BotanuConfigError(f"{path}: the top level must be a mapping of settings")
    values: dict[str, Any] = {}
    _walk(document, (), values, path)
    return values


def _walk(node: dict[Any, Any], prefix: tuple[str, ...], out: dict[str, Any], path: Path) -> None:
    for key, value in node.items():
        key_path = (*prefix, str(key))
        name = _YAML.get(key_path)
        is_section = any(p[: len(key_path)] == key_path for p in _YAML)
        if name is not None:
            out[name] = _expand_all(value)
        elif is_section and isinstance(value, dict):
            _walk(value, key_path, out, path)
        elif is_section and value is None:
            continue  # an empty section, e.g. `otlp:` with its keys commented out
        elif is_section:
            raise BotanuConfigError(
                f"{path}: {'.'.join(key_path)!r} must be a section (a mapping), got {value!r}"
            )
        else:
            known = sorted(".".join(p) for p in _YAML)
            raise BotanuConfigError(
                f"{path}: unknown setting {'.'.join(key_path)!r}; "
                f"known settings: {', '.join(known)}"
            )


def _expand_all(value: Any) -> Any:
    if isinstance(value, str):
        return _expand(value)
    if isinstance(value, list):
        return [_expand_all(v) for v in value]
    if isinstance(value, dict):
        return {k: _expand_all(v) for k, v in value.items()}
    return value
