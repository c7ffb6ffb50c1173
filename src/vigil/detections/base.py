"""What a detection is: metadata beside one set-based SQL query.

A detection module in :mod:`vigil.detections.rules` defines ``DETECTION`` (a
:class:`Detection`) and keeps its test cases in ``<module>.yml`` next to it. Its
query returns *findings*, always with the columns in :data:`FINDING_COLUMNS`; the
engine turns findings into Graph-shaped ``riskDetections`` rows (ids, location,
request ids, session keys) so each query stays small and only says what it sees.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from vigil.errors import ConfigError
from vigil.store import in_list

LEVELS = ("low", "medium", "high")
Timing = Literal["realtime", "offline"]
Activity = Literal["signin", "user"]

#: columns every detection query returns, in this order
FINDING_COLUMNS = (
    "event_id",        # the sign-in or activity the finding is about (NULL for user-level findings)
    "user_id",
    "user_principal_name",
    "activity_time",   # TIMESTAMP of the activity the finding is about
    "risk_level",      # low | medium | high
    "reason",          # one human-readable sentence: why this was raised
    "evidence",        # JSON object: the facts behind the reason (ids, counts, thresholds)
)


class Params(Mapping[str, Any]):
    """A detection's parameters (defaults overlaid with config), rendered safely into SQL."""

    def __init__(self, detection_id: str, values: dict[str, Any]) -> None:
        self.detection_id = detection_id
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def num(self, key: str) -> str:
        """A numeric parameter as a SQL literal (validated, so config can't inject SQL)."""
        value = self._values[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"detections.params.{self.detection_id}.{key} must be a number, not {value!r}")
        return repr(value)

    def strs(self, key: str) -> str:
        """A list-of-strings parameter as a SQL ``(...)`` list literal."""
        value = self._values[key]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value) or not value:
            raise ConfigError(
                f"detections.params.{self.detection_id}.{key} must be a non-empty list of strings, not {value!r}"
            )
        return in_list(value)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


@dataclass(frozen=True)
class Detection:
    id: str
    title: str
    description: str
    #: Entra ID Protection riskEventType this corresponds to, when one exists
    entra_risk_event_type: str | None
    mitre: tuple[str, ...]
    levels: tuple[str, ...]
    timing: Timing
    activity: Activity
    #: tables / views the query reads (normalised tables only, never vendor formats)
    requires: tuple[str, ...]
    sql: Callable[[Params], str]
    params: dict[str, Any] = field(default_factory=dict)
    #: how each level is reached, for the catalogue and docs
    level_rules: str = ""
    module: str = ""
    #: its findings about a user depend only on that user's (person's) own events and sessions, at any time:
    #: the stream's incremental analysis runs it over the affected users' events alone (vigil.stream.incremental)
    per_user: bool = False

    @property
    def risk_event_type(self) -> str:
        """The ``riskEventType`` written: Entra's name when there is one, else vigil's id."""
        return self.entra_risk_event_type or self.id

    def with_params(self, overrides: dict[str, Any] | None) -> Params:
        values = dict(self.params)
        for key, value in (overrides or {}).items():
            if key not in values:
                raise ConfigError(
                    f"detections.params.{self.id}.{key}: unknown parameter (have: {', '.join(sorted(values))})"
                )
            values[key] = value
        return Params(self.id, values)

    def catalogue(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "riskEventType": self.risk_event_type,
            "entra_riskEventType": self.entra_risk_event_type,
            "mitre": list(self.mitre),
            "levels": list(self.levels),
            "level_rules": self.level_rules,
            "timing": self.timing,
            "activity": self.activity,
            "requires": list(self.requires),
            "per_user": self.per_user,
            "params": dict(self.params),
            "description": self.description,
            "module": self.module,
        }
