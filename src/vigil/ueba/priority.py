"""InvestigationPriority (0-10) and its reason, as SQL expressions over the flag columns.

Formula (docs/ueba.md has the rationale):

    rarity(d)  = 1 if first time for the user, 0.5 if uncommon for the user, else 0
    context(d) = 0.5 + 0.25 [uncommon among peers]
                     + 0.25 [first time in tenant] (or 0.125 [uncommon in tenant])
    entity     = sum over dimensions d of weight(d) * rarity(d) * context(d)
    timeseries = 3 [failure burst] + 2 [uncommon high volume of actions] + 2 [threat intel on the IP]
    InvestigationPriority = min(10, floor(entity + timeseries + 0.5)); 0 in the learning period

Weights: country 4, device 2, ISP 2, app 1.5, action 1.5, browser 1, resource 1.
"""
from __future__ import annotations

from vigil.store import literal
from vigil.ueba.insights import DIMENSIONS, Dim

# how the reason names each dimension, e.g. "first time from country 'FR' for the user"
_PHRASE = {
    "country": "from country", "isp": "via ISP", "device": "from device", "browser": "via browser",
    "app": "using app", "resource": "accessing resource", "action": "performing action",
}
REASON_ORDER = ("country", "isp", "device", "browser", "app", "resource", "action")


def _b(expr: str) -> str:
    return f"coalesce({expr}, false)"


def contribution(d: Dim) -> str:
    n = d.name
    rarity = f"(CASE WHEN {_b('fu_' + n)} THEN 1.0 WHEN {_b('uu_' + n)} THEN 0.5 ELSE 0.0 END)"
    context = (f"(0.5 + CASE WHEN {_b('up_' + n)} THEN 0.25 ELSE 0 END"
               f" + CASE WHEN {_b('ft_' + n)} THEN 0.25 WHEN {_b('ut_' + n)} THEN 0.125 ELSE 0 END)")
    return f"({d.weight} * {rarity} * {context})"


def timeseries() -> str:
    return ("(CASE WHEN failure_burst THEN 3 ELSE 0 END + CASE WHEN high_volume THEN 2 ELSE 0 END"
            " + CASE WHEN threat_intel IS NOT NULL THEN 2 ELSE 0 END)")


def score_sql() -> str:
    entity = " + ".join(contribution(d) for d in DIMENSIONS)
    return (f"CASE WHEN in_learning THEN 0 ELSE CAST(least(10, floor({entity} + {timeseries()} + 0.5)) AS INTEGER) "
            "END")


def _dim_phrase(d: Dim) -> str:
    n = d.name
    value = f"'''' || v_{n} || ''''"
    lookback = f"lb_{n}"
    return f"""CASE WHEN {_b('fu_' + n)} OR {_b('uu_' + n)} THEN
        CASE WHEN {_b('fu_' + n)} THEN 'first time {_PHRASE[n]} ' || {value} || ' for the user'
             ELSE '{d.label} ' || {value} || ' uncommon for the user ('
                  || nuv_{n} || '/' || nut_{n} || ' events in ' || uw || ' d)' END
        || CASE WHEN {_b('up_' + n)} THEN ' and for ' || (peers_{n} - pu_{n}) || '/' || peers_{n} || ' peers'
                ELSE '' END
        || CASE WHEN {_b('ft_' + n)} THEN '; {d.label} never seen in tenant (' || {lookback} || ' d)'
                WHEN {_b('ut_' + n)} THEN '; {d.label} rare in tenant' ELSE '' END
    END"""


def reason_sql(inputs_note: str, score: str = "score") -> str:
    """The reason string; ``score`` names the already computed InvestigationPriority column."""
    by_name = {d.name: d for d in DIMENSIONS}
    parts = [_dim_phrase(by_name[n]) for n in REASON_ORDER]
    parts += [
        "CASE WHEN failure_burst THEN 'failure burst: ' || burst_n || ' failed logons this hour' END",
        "CASE WHEN high_volume THEN 'high volume: ' || vol_n || ' x ''' || v_action || ''' today vs '"
        " || round(vol_avg, 1) || '/day over ' || vw || ' d' END",
        "CASE WHEN threat_intel IS NOT NULL THEN 'threat intel on source IP: ' || threat_intel END",
    ]
    note = literal(f"[{inputs_note}]")
    return f"""CASE WHEN in_learning THEN
        '0: user in learning period (first seen '
        || strftime(make_timestamp(first_day::BIGINT * 86400000000), '%Y-%m-%d')
        || ', learning ' || learning || ' d) ' || {note}
    ELSE {score}::VARCHAR || ': ' || coalesce(nullif(concat_ws('; ', {', '.join(parts)}), ''),
        'nothing unusual') || ' ' || {note} END"""
