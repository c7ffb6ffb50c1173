"""``signinRisk``, ``riskyUsers`` and ``riskActions``."""
from __future__ import annotations

from vigil.store.schema import C, Table

SIGNIN_RISK = Table(
    "signinRisk",
    doc="Risk of each risky sign-in: real-time level, aggregated level, state (Entra's two evaluations).",
    primary_key=("event_id", "source"),
    columns=(
        C("event_id", "VARCHAR NOT NULL", "the sign-in (signins.event_id)"),
        C("riskLevelDuringSignIn", "VARCHAR", "highest level among real-time detections (none when none)"),
        C("riskLevelAggregated", "VARCHAR", "level from all detections (raised to high by several medium ones)"),
        C("riskState", "VARCHAR", "atRisk | remediated | dismissed | confirmedSafe | confirmedCompromised"),
        C("riskDetail", "VARCHAR", "why (Graph riskDetail names)"),
        C("source", "VARCHAR NOT NULL",
          "vigil | IdentityProtection | Okta | Google (the identity provider's own fields on the sign-in)"),
        C("userId", "VARCHAR", "user object id"),
        C("userPrincipalName", "VARCHAR", "UPN"),
        C("activityDateTime", "TIMESTAMP", "sign-in time"),
        C("riskEventTypes", "JSON", "riskEventType of each detection on the sign-in"),
        C("detection_ids", "JSON", "riskDetections.id on the sign-in"),
    ),
)

RISKY_USERS = Table(
    "riskyUsers",
    doc="User risk shaped like Graph riskyUser; one row per user and source.",
    primary_key=("id", "source"),
    columns=(
        C("id", "VARCHAR NOT NULL", "user object id (the UPN when the logs carry no id)"),
        C("userPrincipalName", "VARCHAR", "UPN"),
        C("userDisplayName", "VARCHAR", "display name"),
        C("riskLevel", "VARCHAR", "none | low | medium | high"),
        C("riskState", "VARCHAR", "atRisk | confirmedCompromised | remediated | dismissed | confirmedSafe"),
        C("riskDetail", "VARCHAR", "why (Graph riskDetail names; vigil adds lowRiskAgedOut)"),
        C("riskLastUpdatedDateTime", "TIMESTAMP", "last change of the user's risk"),
        C("source", "VARCHAR NOT NULL", "vigil | IdentityProtection"),
        C("isDeleted", "BOOLEAN", "vendor: the user is deleted"),
        C("isProcessing", "BOOLEAN", "vendor: risk is being processed"),
        C("activeDetections", "BIGINT", "vigil: detections still at risk"),
        C("reason", "VARCHAR", "vigil: how the level was reached"),
    ),
)

RISK_ACTIONS = Table(
    "riskActions",
    doc="Admin risk actions (confirm compromised / confirm safe / dismiss): who, when, why. Never replaced.",
    primary_key=("action_id",),
    columns=(
        C("action_id", "VARCHAR NOT NULL", "id"),
        C("action", "VARCHAR NOT NULL", "confirmCompromised | confirmSafe | dismiss"),
        C("userId", "VARCHAR", "user object id"),
        C("userPrincipalName", "VARCHAR", "UPN"),
        C("actor", "VARCHAR NOT NULL", "who did it"),
        C("created_at", "TIMESTAMP NOT NULL", "when (UTC)"),
        C("reason", "VARCHAR", "why, as given"),
    ),
)

TABLES = (SIGNIN_RISK, RISKY_USERS, RISK_ACTIONS)
