"""Mass download: far more files downloaded in an hour than the user ever does."""
from __future__ import annotations

from vigil.detections.base import Detection, Params


def _sql(p: Params) -> str:
    return f"""
with d as (
  select event_id, user_id, user_principal_name, person_id, event_time, ip, object_id,
    date_trunc('hour', event_time) as h
  from activities_enriched where operation in {p.strs('operations')}
),
hourly as (
  select person_id, h, count(*) as files, count(distinct ip) as ips, min(event_time) as first_t
  from d group by person_id, h
),
base as (  -- the user's busiest earlier hour (hours are unique per user, so no tie-breaker is needed)
  select hourly.*,
    coalesce(max(files) over (partition by person_id order by h
                              rows between unbounded preceding and 1 preceding), 0) as previous_max
  from hourly
),
burst as (
  select * from base
  where files >= {p.num('min_files')} and files >= {p.num('baseline_factor')} * previous_max
),
first_event as (
  select d.*, b.files, b.ips, b.previous_max,
    row_number() over (partition by d.person_id, d.h order by d.event_time, d.event_id) as rn
  from d join burst b on b.person_id = d.person_id and b.h = d.h
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when files >= {p.num('high_files')} then 'high' else 'medium' end as risk_level,
  files || ' files downloaded in one hour; this user''s busiest earlier hour had ' || previous_max as reason,
  json_object('files', files, 'hour', h, 'ips', ips, 'previous_max_per_hour', previous_max,
              'first_object', object_id) as evidence
from first_event where rn = 1
"""


DETECTION = Detection(
    id="massDownload",
    title="Mass download",
    description=(
        "A user downloads or syncs at least 50 files in one clock hour and at least 3 times their busiest "
        "earlier hour (Defender for Cloud Apps' MassDownload behaviour): data staged for exfiltration after a "
        "takeover. Reads FileDownloaded / FileSyncDownloadedFull audit activity."
    ),
    entra_risk_event_type=None,
    mitre=("T1530",),
    levels=("medium", "high"),
    level_rules="medium; high from 200 files in the hour",
    timing="offline",
    activity="user",
    per_user=True,
    requires=("activities_enriched",),
    params={"operations": ["FileDownloaded", "FileSyncDownloadedFull"], "min_files": 50, "baseline_factor": 3,
            "high_files": 200},
    sql=_sql,
)
