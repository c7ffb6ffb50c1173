"""Read a folder of Sigma rules, translate each with the vigil backend, and say why any is left out."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from vigil.detections.base import FINDING_COLUMNS
from vigil.detections.imported import Imported
from vigil.detections.sigma.backend import VigilBackend, pipeline
from vigil.detections.sigma.logsources import TARGETS
from vigil.store import Store, literal

#: Sigma level -> vigil level (vigil has three)
LEVELS = {"informational": "low", "low": "low", "medium": "medium", "high": "high", "critical": "high"}
_TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")
#: refuse rule files larger than this (a rule is a few KB)
MAX_RULE_BYTES = 1_000_000


@dataclass
class Outcome:
    path: str
    title: str = ""
    rule_id: str = ""
    level: str = ""
    loaded: bool = False
    reason: str = ""  # why not loaded (or, when loaded, a note)


@dataclass
class SigmaImport:
    outcomes: list[Outcome] = field(default_factory=list)
    rules: list[Imported] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return sum(1 for o in self.outcomes if o.loaded)


def _reason(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return re.sub(r"\s*\(.*?\.ya?ml.*?\)$", "", text)  # the file is named beside the reason already


def _finding_sql(rule: SigmaRule, where: str) -> tuple[str, str, tuple[str, ...]]:
    ls = rule.logsource
    target = TARGETS[(str(ls.product), str(ls.service))]
    level = str(rule.level.name).lower() if rule.level else "medium"
    rid = str(rule.id or rule.title)
    reason = literal(f"Sigma rule '{rule.title}' matched")
    evidence = (f"json_merge_patch({target.evidence}, json_object('sigma_id', {literal(rid)}, "
                f"'sigma_title', {literal(rule.title)}, 'sigma_level', {literal(level)}, "
                f"'logsource', {literal(f'{ls.product}/{ls.service}')}))")
    cols = dict(zip(FINDING_COLUMNS, (
        target.event_id, target.user_id, target.upn, target.time, literal(LEVELS.get(level, "medium")), reason,
        evidence), strict=True))
    select = ", ".join(f"{expr} as {name}" for name, expr in cols.items())
    return f"select {select}\nfrom {target.relation} e\nwhere {where}", target.activity, target.requires


def import_dir(folder: Path) -> SigmaImport:
    """Translate every ``*.yml`` / ``*.yaml`` under ``folder``; each file's outcome says loaded or why not."""
    if not folder.is_dir():
        from vigil.errors import InputError

        raise InputError(f"{folder}: not a folder of Sigma rules")
    backend = VigilBackend(pipeline())
    out = SigmaImport()
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    for path in files:
        o = Outcome(str(path))
        out.outcomes.append(o)
        if path.stat().st_size > MAX_RULE_BYTES:
            o.reason = f"file larger than {MAX_RULE_BYTES} bytes"
            continue
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
        except (SigmaError, yaml.YAMLError, UnicodeDecodeError) as exc:
            o.reason = f"not a valid Sigma rule: {_reason(exc)}"
            continue
        if not collection.rules:
            o.reason = "no rule in the file"
            continue
        rule = collection.rules[0]
        o.title = str(rule.title)
        o.rule_id = str(rule.id or "")
        if isinstance(rule, SigmaCorrelationRule):
            o.reason = "correlation rule (vigil runs single-event rules only)"
            continue
        if len(collection.rules) > 1:
            o.reason = "several rules in one file (a correlation or rule collection)"
            continue
        o.level = str(rule.level.name).lower() if rule.level else ""
        try:
            queries = backend.convert_rule(rule)
        except SigmaError as exc:
            o.reason = _reason(exc)
            continue
        except NotImplementedError as exc:
            o.reason = f"unsupported by the vigil backend: {exc}"
            continue
        where = " OR ".join(f"({q})" for q in queries)
        sql, activity, requires = _finding_sql(rule, where)
        tags = tuple(f"{t.namespace}.{t.name}" for t in rule.tags)
        mitre = tuple(sorted({t.name.upper() for t in rule.tags
                              if t.namespace == "attack" and _TECHNIQUE.match(t.name)}))
        rid = o.rule_id or re.sub(r"\W+", "_", o.title.lower())
        out.rules.append(Imported(
            id=f"sigma:{rid}", origin="sigma", title=o.title, description=str(rule.description or ""),
            level=LEVELS.get(o.level, "medium"), source_level=o.level or "unset", mitre=mitre, tags=tags,
            logsource=f"{rule.logsource.product}/{rule.logsource.service}", activity=activity,
            requires=requires, sql=sql, path=str(path)))
        o.loaded = True
    return out


def check_runs(store: Store, result: SigmaImport) -> dict[str, int]:
    """Run each translated rule's query once over the store: rules whose query fails are dropped with the
    error as their reason; returns matches per loaded rule (relations the store lacks: not run, noted)."""
    have = store.relations()
    by_path = {o.path: o for o in result.outcomes}
    kept: list[Imported] = []
    matches: dict[str, int] = {}
    for rule in result.rules:
        o = by_path[rule.path]
        missing = [t for t in rule.requires if t not in have]
        if missing:
            o.reason = f"not run yet: the store has no {', '.join(missing)} (run vigil analyze)"
            kept.append(rule)
            continue
        try:
            matches[rule.id] = int(store.scalar(f"select count(*) from ({rule.sql}) q") or 0)
        except duckdb.Error as exc:
            o.loaded, o.reason = False, f"query failed: {str(exc).splitlines()[0]}"
            continue
        kept.append(rule)
    result.rules = kept
    return matches
