from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.policy.conftest import HQ_IP, LOCATIONS, POLICIES
from vigil import policy
from vigil.errors import ConfigError, InputError
from vigil.policy.decision import DecisionPoint, load_policy_set
from vigil.settings import load_settings


@pytest.fixture
def point() -> Iterator[DecisionPoint]:
    yield DecisionPoint(load_policy_set(str(POLICIES), str(LOCATIONS)))


def test_decide_in_process_with_mapping_or_context(point: DecisionPoint) -> None:
    d = policy.decide({"user_id": "u", "ip": "192.0.2.1", "country": "DE", "platform": "windows"}, point)
    assert d.decision == "challenge" and d.required_controls == ("mfa",)
    d = policy.decide({"user_id": "u", "ip": HQ_IP, "country": "DE", "platform": "windows"}, point)
    assert d.decision == "allow" and d.to_dict(policies=False)["reason"]
    with pytest.raises(InputError, match="unknown sign-in context field"):
        policy.decide({"userid": "u"}, point)


def test_from_settings() -> None:
    with pytest.raises(ConfigError, match="policy.policies"):
        DecisionPoint.from_settings(load_settings(environ={}))
    s = load_settings(overrides={"policy.policies": str(POLICIES), "enrich.named_locations": str(LOCATIONS)},
                      environ={})
    assert len(DecisionPoint.from_settings(s).policies) == 22  # named locations fall back to enrich's
    with pytest.raises(ConfigError, match="refers to named location"):
        DecisionPoint.from_settings(load_settings(overrides={"policy.policies": str(POLICIES)}, environ={}))
    s = load_settings(overrides={"policy.policies": str(POLICIES), "policy.allow_unresolved_locations": True},
                      environ={})
    assert DecisionPoint.from_settings(s).policies.unresolved
