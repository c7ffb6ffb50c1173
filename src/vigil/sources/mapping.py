"""Any other CSV / JSON log through a YAML column-mapping file (``vigil ingest --format mapping --mapping F``).

The YAML names the target table, the time field, the record id and, per canonical column, where its
value comes from::

    name: acme_vpn                  # becomes source_format; letters, digits, _
    title: ACME VPN gateway logins  # optional
    target: signins                 # signins | activities | directory_events
    source_table: AcmeVpn           # optional constant vendor table name
    time:
      field: $.ts                   # JSON path, or a CSV header name
      formats: ["%d.%m.%Y %H:%M:%S"]  # optional strptime formats, tried before ISO 8601 (naive = UTC)
      # epoch: milliseconds         # or: seconds | milliseconds | microseconds since 1970 UTC
    record_id: $.event_id           # optional (a list is joined with |); content hash when absent
    require: [$.user]               # optional: records missing any of these are quarantined
    columns:
      user_principal_name: $.user          # a path: the value, cleaned for the column's type
      ip: client ip                        # a bare name is a top-level field (CSV header)
      result:                              # an SQL expression over {$.path} placeholders
        expr: "CASE WHEN {$.status} = 'OK' THEN 'success' ELSE 'failure' END"
      app_name: {value: ACME VPN}          # a constant

Paths are JSON paths without wildcards (``$.a.b``, ``$.a[0]``, ``$."odd key"``). Values from paths are
cleaned by column type: empty -> NULL, booleans via true/false/yes/no/1/0, JSON columns parsed,
timestamps parsed like event times, ``*_upn`` / ``user_principal_name`` lower-cased, IPs stripped of
ports, ``country`` names turned into ISO alpha-2. Expressions may use only a fixed list of SQL keywords
and scalar functions (no queries, no table functions, no ``;``), and are compiled against DuckDB when
the file is loaded, so a typo is a :class:`~vigil.errors.ConfigError` naming the file and column, not
a failure halfway through a log.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import yaml

from vigil.errors import ConfigError
from vigil.settings import Settings
from vigil.sources._base import SourceSpec, compile_spec, nz
from vigil.sources._sql import install_macros
from vigil.store import Store, array, connect, literal
from vigil.store.schema import EVENT_TABLES

_KEYS = {"name", "title", "target", "source_table", "time", "record_id", "require", "columns", "notes"}
_RESERVED = {"event_id", "event_time", "source_format", "source_file", "source_record_id", "source_table"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_PATH = re.compile(r'^\$(?:\.[A-Za-z_@][\w@-]*|\."[^"{}\\]+"|\[\d+\])*$')
_PLACEHOLDER = re.compile(r"\{(\$[^{}]*)\}")
_STRING = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EPOCH = {"seconds": 1, "milliseconds": 1_000, "microseconds": 1_000_000}
_LOWER = {"user_principal_name", "actor_upn", "target_upn"}
_IP = {"ip", "resource_ip"}

# What an expression may say: SQL keywords, types and scalar functions; nothing that reads or writes.
_ALLOWED = {
    "case", "when", "then", "else", "end", "and", "or", "not", "is", "null", "in", "like", "ilike", "between",
    "true", "false", "cast", "try_cast", "as", "varchar", "integer", "bigint", "double", "boolean", "timestamp",
    "json", "coalesce", "nullif", "lower", "upper", "trim", "ltrim", "rtrim", "concat", "concat_ws", "substr",
    "substring", "left", "right", "length", "replace", "split_part", "starts_with", "ends_with", "contains",
    "regexp_extract", "regexp_replace", "regexp_matches", "json_extract_string", "json_extract", "json_valid",
    "json_type", "json_array_length", "to_json", "list_value", "strptime", "try_strptime", "strftime",
    "to_timestamp", "epoch_ms", "abs", "round", "greatest", "least", "md5", "string_split", "array_length",
    "len", "list_filter", "list_transform", "lambda", "x", "vigil_ts", "vigil_bool", "vigil_json", "vigil_jtext",
    "vigil_ip", "vigil_lat", "vigil_lon", "vigil_country", "vigil_json_find",
}


def _err(path: Path, where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}", path=str(path))


def _json_path(path: Path, where: str, value: Any) -> str:
    """A JSON path (``$.a.b``) or a bare top-level field name (a CSV header) -> validated JSON path."""
    if not isinstance(value, str) or not value.strip():
        raise _err(path, where, f"expected a JSON path or field name, got {value!r}")
    text = value.strip()
    if not text.startswith("$"):
        if '"' in text or "{" in text or "}" in text:
            raise _err(path, where, f"field name {text!r} may not contain quotes or braces")
        text = f'$."{text}"'
    if not _PATH.match(text):
        raise _err(path, where, f"{value!r} is not a supported JSON path (use $.a.b, $.a[0] or $.\"odd key\"; "
                                "wildcards are not supported)")
    return text


def _check_expr(path: Path, where: str, expr: str) -> str:
    if ";" in expr or "--" in expr or "/*" in expr:
        raise _err(path, where, "expressions may not contain ';' or SQL comments")
    for m in _PLACEHOLDER.finditer(expr):
        _json_path(path, where, m.group(1))
    bare = _PLACEHOLDER.sub(" ", _STRING.sub(" ", expr))
    if "'" in bare or '"' in bare:
        raise _err(path, where, "unbalanced quote in expression (quoted identifiers are not allowed)")
    for word in _WORD.findall(bare):
        if word.lower() not in _ALLOWED:
            raise _err(path, where, f"{word!r} is not allowed in a mapping expression (allowed: SQL CASE/CAST "
                                    f"logic and scalar functions such as coalesce, lower, regexp_extract, "
                                    f"strptime, vigil_ts)")
    return expr


def _clean(column: str, ctype: str, ref: str) -> str:
    """SQL cleaning a raw extracted value for a canonical column of type ``ctype``."""
    base = ctype.replace(" NOT NULL", "")
    if base == "BOOLEAN":
        return f"vigil_bool({ref})"
    if base == "JSON":
        return f"vigil_json({ref})"
    if base == "TIMESTAMP":
        return f"TRY_CAST(vigil_ts({ref}) AS TIMESTAMP)"
    if column in _LOWER:
        return f"lower({nz(ref)})"
    if column in _IP:
        return f"vigil_ip({ref})"
    if column == "country":
        return f"vigil_country({ref})"
    return nz(ref)


def _column(path: Path, target: str, column: str, spec: Any) -> str:
    where = f"columns.{column}"
    if column in _RESERVED:
        raise _err(path, where, "is set by the engine (use the top-level time / record_id / source_table keys)")
    types = {c.name: c.type for c in EVENT_TABLES[target].columns}
    if column not in types:
        known = ", ".join(sorted(set(types) - _RESERVED))
        raise _err(path, where, f"{target} has no column {column!r}; known columns: {known}")
    if isinstance(spec, str):
        return _clean(column, types[column], "{" + _json_path(path, where, spec) + "}")
    if isinstance(spec, Mapping) and len(spec) == 1:
        kind, value = next(iter(spec.items()))
        if kind in ("path", "field"):
            return _clean(column, types[column], "{" + _json_path(path, f"{where}.{kind}", value) + "}")
        if kind == "value":
            return literal(value)
        if kind == "expr":
            if not isinstance(value, str) or not value.strip():
                raise _err(path, f"{where}.expr", "expected an SQL expression")
            return _check_expr(path, f"{where}.expr", value)
    raise _err(path, where, f"expected a path string or one of {{path: ...}}, {{value: ...}}, {{expr: ...}}, "
                            f"got {spec!r}")


def _time(path: Path, spec: Any) -> str:
    if isinstance(spec, str):
        return "{" + _json_path(path, "time", spec) + "}"
    if not isinstance(spec, Mapping) or "field" not in spec:
        raise _err(path, "time", "expected a path, or {field: PATH, formats: [...]} / {field: PATH, epoch: UNIT}")
    unknown = set(spec) - {"field", "formats", "epoch"}
    if unknown:
        raise _err(path, "time", f"unknown keys {sorted(unknown)} (known: field, formats, epoch)")
    ref = "{" + _json_path(path, "time.field", spec["field"]) + "}"
    if "epoch" in spec:
        unit = spec["epoch"]
        if unit not in _EPOCH:
            raise _err(path, "time.epoch", f"{unit!r} is not one of {', '.join(_EPOCH)}")
        # to_timestamp raises (for the whole batch) outside years 0001-9999: out-of-range values become NULL
        secs = f"(TRY_CAST({ref} AS DOUBLE) / {_EPOCH[unit]})"
        return (f"CASE WHEN abs({secs}) < 253402300799 THEN "
                f"CAST(timezone('UTC', to_timestamp({secs})) AS VARCHAR) END")
    formats = spec.get("formats")
    if formats is None:
        return ref
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and f for f in formats):
        raise _err(path, "time.formats", "expected a list of strptime formats, e.g. ['%d.%m.%Y %H:%M:%S']")
    con = connect()
    try:
        for i, fmt in enumerate(formats):
            try:
                con.execute(f"SELECT try_strptime('2000-01-01', {literal(fmt)})").fetchall()
            except duckdb.Error as exc:
                raise _err(path, f"time.formats[{i}]", f"invalid strptime format {fmt!r}: "
                                                       f"{str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    lst = "[" + ", ".join(literal(f) for f in formats) + "]"
    # a parsed value is re-rendered as ISO text: the engine's parser then reads it as UTC
    return f"coalesce(strftime(try_strptime(trim({ref}), {lst}), '%Y-%m-%dT%H:%M:%S.%fZ'), {ref})"


def _record_id(path: Path, spec: Any) -> str:
    if spec is None:
        return "NULL"
    items = spec if isinstance(spec, list) else [spec]
    if not items:
        raise _err(path, "record_id", "empty list")
    refs = [nz("{" + _json_path(path, f"record_id[{i}]" if isinstance(spec, list) else "record_id", v) + "}")
            for i, v in enumerate(items)]
    return refs[0] if len(refs) == 1 else f"concat_ws('|', {', '.join(refs)})"


def _never(_: Mapping[str, Any]) -> bool:
    return False


def load_mapping(path: str | Path) -> SourceSpec:
    """Read and validate a YAML mapping file into a :class:`SourceSpec` (raises ConfigError naming the file)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("mapping file not found", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read mapping file ({exc})", path=str(p)) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"invalid YAML{at}: {getattr(exc, 'problem', None) or exc}", path=str(p)) from None
    if not isinstance(doc, Mapping):
        raise ConfigError("a mapping file is a YAML mapping with name, target, time and columns", path=str(p))
    unknown = set(doc) - _KEYS
    if unknown:
        raise _err(p, "top level", f"unknown keys {sorted(unknown)} (known: {', '.join(sorted(_KEYS))})")
    for key in ("name", "target", "time", "columns"):
        if key not in doc:
            raise _err(p, key, "is required")
    name = doc["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise _err(p, "name", f"{name!r}: use lower-case letters, digits and _ (it becomes source_format)")
    from vigil.sources import registry

    if name in registry.names():
        raise _err(p, "name", f"{name!r} is a built-in format; choose another name")
    target = doc["target"]
    if target not in EVENT_TABLES:
        raise _err(p, "target", f"{target!r} is not one of {', '.join(EVENT_TABLES)}")
    columns = doc["columns"]
    if not isinstance(columns, Mapping) or not columns:
        raise _err(p, "columns", "expected a mapping of canonical column -> path / {value} / {expr}")
    mapped = {str(col): _column(p, target, str(col), spec) for col, spec in columns.items()}
    require = doc.get("require") or []
    if not isinstance(require, list):
        raise _err(p, "require", "expected a list of paths")
    checks = [f"{nz('{' + _json_path(p, f'require[{i}]', r) + '}')} IS NOT NULL" for i, r in enumerate(require)]
    table = doc.get("source_table")
    spec = SourceSpec(
        name=name,
        title=str(doc.get("title") or f"mapped by {p.name}"),
        target=target,
        detect=_never,
        columns=mapped,
        record_id=_record_id(p, doc.get("record_id")),
        time=_time(p, doc["time"]),
        source_table=literal(str(table)) if table is not None else literal(name),
        accept_when=" AND ".join(checks) if checks else None,
        accept_reason=f"missing a required field ({', '.join(map(str, require))}) of mapping {p.name}",
        notes=str(doc.get("notes") or ""),
    )
    _compile_check(p, spec)
    return spec


def _compile_check(path: Path, spec: SourceSpec) -> None:
    """Run the mapping once over an empty record, so SQL mistakes surface now with the column named."""
    con = connect()
    try:
        install_macros(con)
        for column, expr in spec.columns.items():
            single = compile_spec(SourceSpec(spec.name, spec.title, spec.target, _never, {column: expr},
                                             "NULL", "NULL"))
            _try(con, path, f"columns.{column}", single.paths, single.select)
        whole = compile_spec(spec)
        _try(con, path, "time / record_id / require", whole.paths, whole.select)
    finally:
        con.close()


def _try(con: duckdb.DuckDBPyConnection, path: Path, where: str, paths: list[str], select: str) -> None:
    lst = array(paths) if paths else "['$.x']"
    sql = (f"WITH ext AS (SELECT raw, json_extract_string(raw, {lst}) AS l FROM (SELECT '{{}}' AS raw)) "
           f"SELECT {select} FROM ext")
    try:
        con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise _err(path, where, f"does not compile: {str(exc).splitlines()[0]}") from None


def ingest_mapped(store: Store, paths: list[str | Path], settings: Settings,
                  mapping: str | Path | SourceSpec) -> list[Any]:
    """Ingest files through a mapping (a YAML path or a loaded spec); one IngestResult per file."""
    from vigil.errors import InputError
    from vigil.sources.ingest import Ingestor, IngestResult, expand_paths

    spec = mapping if isinstance(mapping, SourceSpec) else load_mapping(mapping)
    ingestor = Ingestor(store, settings)
    results: list[IngestResult] = []
    for file in expand_paths(paths):
        try:
            results.append(ingestor.ingest_file(file, spec=spec))
        except InputError as exc:
            results.append(IngestResult(str(file), spec.name, error=str(exc)))
    return results
