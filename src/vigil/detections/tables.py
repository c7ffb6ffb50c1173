"""``riskDetections``: Graph ``riskDetection`` rows from vigil and from Entra ID Protection."""
from __future__ import annotations

from vigil.store.schema import C, Table

RISK_DETECTIONS = Table(
    "riskDetections",
    doc="Risk detections shaped like Graph riskDetection; `source` tells vigil's from Entra ID Protection's.",
    primary_key=("id", "source"),
    columns=(
        C("id", "VARCHAR NOT NULL", "detection id (vigil: 16 hex, stable across re-runs)"),
        C("riskEventType", "VARCHAR NOT NULL", "Entra riskEventType name, or vigil's detection id when Entra has none"),
        C("riskLevel", "VARCHAR NOT NULL", "low | medium | high"),
        C("riskState", "VARCHAR NOT NULL", "atRisk | confirmedCompromised | remediated | dismissed | confirmedSafe"),
        C("riskDetail", "VARCHAR", "why the state is what it is (Graph riskDetail names)"),
        C("detectionTimingType", "VARCHAR", "realtime | offline"),
        C("activity", "VARCHAR", "signin | user"),
        C("activityDateTime", "TIMESTAMP", "when the risky activity happened"),
        C("detectedDateTime", "TIMESTAMP", "when it was detected (vigil: the analysis run)"),
        C("ipAddress", "VARCHAR", "IP of the activity"),
        C("location", "JSON", "{city, state, countryOrRegion, geoCoordinates {latitude, longitude}}"),
        C("userId", "VARCHAR", "user object id"),
        C("userPrincipalName", "VARCHAR", "UPN, lower-cased"),
        C("userDisplayName", "VARCHAR", "display name"),
        C("requestId", "VARCHAR", "request id of the sign-in"),
        C("correlationId", "VARCHAR", "correlation id of the sign-in"),
        C("source", "VARCHAR NOT NULL", "vigil | IdentityProtection"),
        C("additionalInfo", "JSON", "vigil: {detection, reason, evidence, mitre}; vendor: as given"),
        C("event_id", "VARCHAR", "the sign-in / activity event the detection is about"),
        C("session_key", "VARCHAR", "session (sessions.session_key) of that event, when known"),
        C("detection", "VARCHAR", "vigil detection id (module) that raised it; NULL for vendor rows"),
        C("mitre", "JSON", "MITRE ATT&CK technique ids"),
        C("reason", "VARCHAR", "why it was raised, one sentence"),
    ),
)

TABLES = (RISK_DETECTIONS,)
