"""The one settings definition, and the one place the environment is read.

Settings come from, in increasing precedence: defaults below, a YAML config file
(``--config``, else ``$VIGIL_CONFIG``, else ``./vigil.yaml`` if present), then the
environment variables listed in ``ENV``. Components receive the parsed object (or
their section of it) as an argument; nothing reads the environment elsewhere.

Each area owns one section class here; add fields to your own section only.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.errors import ConfigError

DEFAULT_DB = "vigil.duckdb"

#: environment variable -> dotted settings path
ENV = {
    "VIGIL_DB": "store.path",
    "VIGIL_GEO_DB": "enrich.mmdb_path",
    "VIGIL_FEEDS_DIR": "enrich.feeds_dir",
    "VIGIL_SERVICE_HOST": "service.host",
    "VIGIL_SERVICE_PORT": "service.port",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Section):
    path: str = Field(DEFAULT_DB, description="DuckDB file holding every table")
    threads: int = Field(0, description="DuckDB threads (0 = all cores)")
    memory_limit: str = Field("4GB", description="DuckDB memory_limit for batch work")


class IngestSettings(_Section):
    batch_bytes: int = Field(64 * 1024 * 1024, description="raw bytes parsed per set-based batch")
    max_record_bytes: int = Field(
        16 * 1024 * 1024, description="records longer than this are quarantined, not parsed"
    )


class EnrichSettings(_Section):
    mmdb_path: str | None = Field(None, description="MaxMind-format City database (.mmdb)")
    feeds_dir: str | None = Field(None, description="folder with tor/vpn/hosting/threat-intel feeds")
    corporate_asns: list[int] = Field(default_factory=list, description="ASNs that are corporate egress")
    named_locations: str | None = Field(None, description="Graph namedLocation JSON of the tenant")


class Settings(BaseModel):
    model_config = ConfigDict(extra="allow")

    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    enrich: EnrichSettings = Field(default_factory=EnrichSettings)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


def load_settings(
    config_path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Build the settings object. ``overrides`` are dotted paths (e.g. ``{"store.path": "x"}``)."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = config_path or env.get("VIGIL_CONFIG")
    if path is None and Path("vigil.yaml").is_file():
        path = "vigil.yaml"
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError("config file not found", path=str(p))
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"not valid YAML ({str(exc).splitlines()[0]})", path=str(p)) from None
        if not isinstance(loaded, dict):
            raise ConfigError("top level must be a mapping", path=str(p))
        data = loaded
    for var, dotted in ENV.items():
        if env.get(var):
            _set_dotted(data, dotted, env[var])
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(data, dotted, value)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {loc}: {first['msg']}", path=str(path) if path else None) from None
