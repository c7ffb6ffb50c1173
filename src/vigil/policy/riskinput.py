"""The risk levels a decision uses, and where each came from.

* **Sign-in risk**: the request's when it gives one (reported as given); otherwise vigil scores
  the presented sign-in in real time (:mod:`vigil.risk.realtime`). A request may also ask for
  scoring beside the risk it gives (``score``): the given level still decides.
* **User risk**: the request's when given; otherwise the user's current ``riskyUsers`` rows —
  vigil's own and any imported from Entra ID Protection — the highest level still at risk
  (``confirmedCompromised`` counts as high), named with its source.

What-if uses the same assessment without recording; the decision point records the real-time
detections through a :class:`~vigil.risk.recorder.DetectionRecorder`.
"""
from __future__ import annotations

import time
import uuid
from functools import partial
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil.policy.context import SignInContext
from vigil.risk.profiles import Knowledge, UserProfile
from vigil.risk.realtime import RANK, Observation, Rules, Score, score
from vigil.risk.recorder import DetectionRecorder, detection_rows
from vigil.settings import Settings
from vigil.store import Store

AT_RISK = ("atRisk", "confirmedCompromised")
SOURCE_NAMES = {"vigil": "riskyUsers (vigil)", "IdentityProtection": "riskyUsers (Entra ID Protection, imported)"}


@dataclass
class Assessment:
    """The levels used and their provenance, for the answer and for the evaluator."""

    sign_in_level: str
    sign_in_source: str
    user_level: str
    user_source: str
    user_detail: dict[str, Any]
    score: Score | None
    correlation_id: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "correlationId": self.correlation_id,
            "signInRisk": {"level": self.sign_in_level, "source": self.sign_in_source},
            "userRisk": {"level": self.user_level, "source": self.user_source, **self.user_detail},
            "signals": [s.to_dict() for s in self.score.signals] if self.score else [],
        }
        if self.score is not None:
            out["signInRisk"]["scored"] = self.score.level
            sc = self.score.to_dict()
            out["network"] = sc["network"]
            self.notes.extend(sc["notes"])
        if self.notes:
            out["notes"] = list(dict.fromkeys(self.notes))
        return out

    def summary(self) -> str:
        """One line for the decision's reason."""
        sig = ", ".join(f"{s.risk_event_type} {s.level}" for s in self.score.signals) if self.score else ""
        sign_in = f"sign-in risk {self.sign_in_level} ({self.sign_in_source}{': ' + sig if sig else ''})"
        return f"{sign_in}; user risk {self.user_level} ({self.user_source})"


def user_risk(profile: UserProfile | None) -> tuple[str, str, dict[str, Any]]:
    """(level, source, detail) from the user's riskyUsers rows; the highest row still at risk wins."""
    if profile is None or not profile.risk:
        return "none", "riskyUsers (no row for this user)", {}
    live = [r for r in profile.risk if r.state in AT_RISK]
    if not live:
        r = max(profile.risk, key=lambda x: x.updated or 0.0)
        return "none", SOURCE_NAMES.get(r.source, f"riskyUsers ({r.source})"), {
            "state": r.state, "detail": r.detail, "updatedDateTime": _iso(r.updated), "reason": r.reason}

    def rank(x: Any) -> int:
        return 3 if x.state == "confirmedCompromised" else RANK.get(x.level, 0)

    top = max(live, key=lambda x: (rank(x), x.source == "vigil"))
    level = "high" if top.state == "confirmedCompromised" else top.level
    detail: dict[str, Any] = {"state": top.state, "detail": top.detail, "updatedDateTime": _iso(top.updated),
                              "reason": top.reason}
    others = [f"{o.source}: {o.level} ({o.state})" for o in profile.risk if o is not top]
    if others:
        detail["otherSources"] = others
    return level, SOURCE_NAMES.get(top.source, f"riskyUsers ({top.source})"), detail


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RiskInputs:
    """Profiles, the scorer's rules and the recorder: what a decision point needs to supply risk."""

    knowledge: Knowledge
    rules: Rules = field(default_factory=Rules)
    recorder: DetectionRecorder | None = None
    clock: Callable[[], float] = time.time

    @classmethod
    def from_store(cls, store: Store, settings: Settings, recorder: DetectionRecorder | None = None) -> RiskInputs:
        return cls(Knowledge.build(store, settings), Rules.from_settings(settings), recorder)

    def refresh(self, store: Store, settings: Settings, users: Collection[str] | None = None) -> dict[str, int]:
        """Fold in what a micro-batch changed for ``users`` (None: users with events since the last build)."""
        return self.knowledge.refresh(store, settings, users)

    def rebuild(self, store: Store, settings: Settings) -> dict[str, int]:
        """After a full analysis: build the profiles again and swap them in whole."""
        self.knowledge = Knowledge.build(store, settings)
        self.rules = Rules.from_settings(settings)
        return {"profiles": len(self.knowledge.users)}

    def observation(self, ctx: SignInContext, now: float) -> Observation:
        device_id = str(ctx.device.get("deviceId") or "") or None
        return Observation(now, ctx.user_principal_name, ctx.user_id, ctx.ip, ctx.country, ctx.user_agent, device_id,
                           ctx.session_id, ctx.interactive, ctx.mfa_satisfied)

    def assess(self, ctx: SignInContext, supplied: Collection[str] | None = None, *, score_sign_in: bool | None = None,
               now: float | None = None, record: bool = True) -> tuple[SignInContext, Assessment]:
        """The context with the risk levels to use filled in, and how they were reached.

        ``supplied``: the context fields the caller gave (None: a risk field counts as given
        when it is not ``none``)."""
        def given(name: str) -> bool:
            return name in supplied if supplied is not None else getattr(ctx, name) != "none"

        t = self.clock() if now is None else now
        k = self.knowledge
        corr = str(uuid.uuid4())
        sign_in_given = given("sign_in_risk")
        scored = None
        if score_sign_in if score_sign_in is not None else not sign_in_given:
            scored = score(k, self.observation(ctx, t), self.rules)
        if sign_in_given:
            s_level, s_source = ctx.sign_in_risk, "request"
        elif scored is not None:
            s_level, s_source = scored.level, "vigil real-time scoring"
        else:
            s_level, s_source = "none", "not supplied and not scored"
        profile = k.user(ctx.user_principal_name, ctx.user_id)
        u_detail: dict[str, Any]
        if given("user_risk"):
            u_level, u_source, u_detail = ctx.user_risk, "request", {}
        else:
            u_level, u_source, u_detail = user_risk(profile)
        a = Assessment(s_level, s_source, u_level, u_source, u_detail, scored, corr)
        if profile is None and (ctx.user_principal_name or ctx.user_id):
            a.notes.append("user not in vigil's profiles (no sign-ins analysed for them)")
        if record and scored is not None and scored.signals and self.recorder is not None:
            # the rows are built on the recorder's thread: the decision pays for a queue put only
            self.recorder.record(partial(
                detection_rows, [s.to_dict() for s in scored.signals], correlation_id=corr, when=t,
                user_id=ctx.user_id or (profile.user_id if profile else None),
                user_principal_name=ctx.user_principal_name or (profile.name if profile else None), ip=ctx.ip,
                country=scored.facts.country, session_id=ctx.session_id))
        return ctx.with_(sign_in_risk=s_level, user_risk=u_level), a
