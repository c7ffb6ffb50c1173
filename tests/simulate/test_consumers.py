"""The directory, policy and label files parse with the other areas' readers (no quarantines)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def test_directory_files_read_by_ueba(demo: tuple[Path, Any]) -> None:
    from vigil.ueba.directory_read import read_directory_file

    out, summary = demo
    users = read_directory_file(out / "users.json")
    assert not users.quarantined, users.quarantined[:3]
    assert len(users.users) == summary.users
    assert sum(1 for u in users.users if u.get("manager_id") or u.get("manager")) > 0
    groups = read_directory_file(out / "groups.json")
    assert not groups.quarantined, groups.quarantined[:3]
    n_members = sum(len(g["members"]) for g in orjson.loads((out / "groups.json").read_bytes())["value"])
    assert len(groups.memberships) == n_members


def test_policies_and_named_locations_parse(demo: tuple[Path, Any]) -> None:
    from vigil.locations.named import load_named_locations
    from vigil.policy.parse import load_policies

    out, _ = demo
    policies = load_policies(out / "conditionalAccessPolicies.json")
    assert len(policies) == 5
    locations = load_named_locations(out / "namedLocations.json")
    assert locations is not None


def test_labels_load_for_policy_replay(demo: tuple[Path, Any]) -> None:
    from vigil.policy.replay import load_labels

    out, _ = demo
    table = load_labels(out / "labels.jsonl")
    events = [x for x in map(orjson.loads, (out / "labels.jsonl").read_bytes().splitlines()) if x["kind"] == "event"]
    assert table.num_rows == len(events)
