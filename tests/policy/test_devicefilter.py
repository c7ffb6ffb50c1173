from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.policy.devicefilter import (
    ATTRIBUTES, MAX_RULE_LENGTH, BoolOp, Compare, DeviceFilter, FilterSyntaxError, Not, device_attributes,
    normalize_trust_type, parse_rule,
)

SAW = {"deviceId": "d1", "extensionAttribute1": "SAW", "trustType": "AzureAD", "isCompliant": "True",
       "operatingSystem": "Windows", "operatingSystemVersion": "10.0.22631", "model": "Surface Laptop 5",
       "physicalIds": ["[ZTDId]:abc", "[OrderId]:42"], "systemLabels": ["M365Managed"], "displayName": "SAW-0042"}


@pytest.mark.parametrize("rule, expected", [
    ('device.extensionAttribute1 -eq "SAW"', True),
    ('device.extensionAttribute1 -eq "saw"', True),  # string comparisons are case-insensitive
    ('device.extensionAttribute1 -ne "SAW"', False),
    ('device.displayName -startsWith "SAW-"', True),
    ('device.displayName -notStartsWith "SAW-"', False),
    ('device.displayName -endsWith "0042"', True),
    ('device.displayName -notEndsWith "0042"', False),
    ('device.model -contains "Surface"', True),
    ('device.model -notContains "Surface"', False),
    ('device.operatingSystemVersion -in ["10.0.19045", "10.0.22631"]', True),
    ('device.operatingSystemVersion -notIn ["10.0.19045", "10.0.22631"]', False),
    ('device.physicalIds -contains "[ZTDId]:abc"', True),
    ('device.physicalIds -contains "[ZTDId]"', False),  # collections: whole-element match
    ('device.systemLabels -notContains "M365Managed"', False),
    ('device.isCompliant -eq "True"', True),
    ('device.isCompliant -eq True', True),
    ('device.trustType -eq "ServerAD"', False),
    ('device.deviceOwnership -eq "Company"', False),  # not present -> null -> positive operator false
    ('device.deviceOwnership -ne "Company"', True),  # negative operator on null is true
    ('device.manufacturer -eq null', True),
    ('device.model -ne null', True),
    ('device.trustType -eq "AzureAD" -and device.extensionAttribute1 -eq "SAW"', True),
    ('device.trustType -eq "ServerAD" -or device.extensionAttribute1 -eq "SAW"', True),
    ('device.trustType -eq "ServerAD" -or device.model -contains "Surface" -and device.isCompliant -eq "False"', False),
    ('(device.trustType -eq "ServerAD" -or device.model -contains "Surface") -and device.isCompliant -eq "True"', True),
    ('-not (device.extensionAttribute1 -eq "SAW")', False),
    ('device.extensionAttribute1 eq "SAW" and device.trustType ne "Workplace"', True),  # hyphen is optional
    ("device.displayName -eq 'SAW-0042'", True),
    ('device.deviceid -eq "d1"', True),  # property names matched case-insensitively (docs' own example)
])
def test_rules_evaluate_as_documented(rule: str, expected: bool) -> None:
    assert parse_rule(rule).evaluate(SAW) is expected


def test_unregistered_device_positive_false_negative_true() -> None:
    assert parse_rule('device.trustType -eq "AzureAD"').evaluate({}) is False
    assert parse_rule('device.extensionAttribute1 -ne "SAW"').evaluate({}) is True
    assert parse_rule('device.systemLabels -notContains "x"').evaluate({}) is True
    assert parse_rule('device.deviceId -in ["a"]').evaluate({}) is False


def test_escapes_in_values() -> None:
    assert parse_rule('device.displayName -eq "a`"b"').evaluate({"displayName": 'a"b'})
    assert parse_rule("device.displayName -eq 'it''s'").evaluate({"displayName": "it's"})


@pytest.mark.parametrize("rule, fragment", [
    ('device.color -eq "red"', "not a property supported"),
    ('device.trustType -contains "Azure"', "-contains is not supported for device.trustType"),
    ('device.physicalIds -eq "x"', "-eq is not supported for device.physicalIds"),
    ('device.trustType -eq "Cloud"', "is not a value of device.trustType"),
    ('device.model -match "^S"', "regular expressions"),
    ('device.model -eq', "ends too early"),
    ('(device.model -eq "x"', "ends too early"),
    ('device.model -eq "x")', "unexpected"),
    ('device.model -in "x"', "needs a list"),
    ('device.model -startsWith null', "null can only be compared"),
    ('device.model -eq "x" -xor device.model -eq "y"', "unexpected"),
    ('user.department -eq "x"', "expected a device property"),
    ('device.model -eq "unterminated', "unexpected character"),
    ("", "empty"),
])
def test_syntax_errors_name_the_problem(rule: str, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_rule(rule)
    assert fragment in str(info.value)


def test_max_length() -> None:
    rule = 'device.model -eq "' + "x" * (MAX_RULE_LENGTH - 19) + '"'
    assert len(rule) == MAX_RULE_LENGTH
    parse_rule(rule)
    with pytest.raises(FilterSyntaxError, match="maximum is 3072"):
        parse_rule(rule[:-1] + 'x"')


def test_include_and_exclude_modes() -> None:
    tree = parse_rule('device.extensionAttribute1 -eq "SAW"')
    assert DeviceFilter("include", "", tree).in_scope(SAW) is True
    assert DeviceFilter("exclude", "", tree).in_scope(SAW) is False
    assert DeviceFilter("exclude", "", tree).in_scope({}) is True


def test_device_attributes_from_log_fields() -> None:
    attrs = device_attributes(device_id="d", is_compliant=False, is_managed=False, trust_type="Azure AD registered",
                              extensionAttribute1="SAW", model="X")
    assert attrs["trustType"] == "Workplace" and attrs["isCompliant"] == "False" and attrs["model"] == "X"
    assert "extensionAttribute1" not in attrs  # only Intune-managed, compliant or hybrid joined devices have them
    assert device_attributes(device_id="d", is_managed=True, extensionAttribute1="SAW")["extensionAttribute1"] == "SAW"
    assert device_attributes(device_id=None, is_compliant=True) == {}
    assert normalize_trust_type("Hybrid Azure AD joined") == "ServerAD" and normalize_trust_type("odd") is None
    with pytest.raises(ValueError, match="unknown device attribute"):
        device_attributes(device_id="d", colour="red")


# -- hypothesis: random rules, printed and reparsed, evaluate like a reference interpretation ---------

_STR_ATTRS = [a for a, (ops, vals) in ATTRIBUTES.items() if vals is None and "startswith" in ops]
_values = st.text(alphabet="abcXYZ-_ 09", min_size=0, max_size=6)


@st.composite
def compares(draw: st.DrawFn) -> Compare:
    attr = draw(st.sampled_from(_STR_ATTRS))
    op = draw(st.sampled_from(["eq", "ne", "startswith", "notstartswith", "endswith", "notendswith", "contains",
                               "notcontains", "in", "notin"]))
    value: str | tuple[str, ...] = tuple(draw(st.lists(_values, min_size=1, max_size=3))) if op in ("in", "notin") \
        else draw(_values)
    return Compare(attr, op, value)


rules = st.recursive(compares(), lambda inner: st.one_of(
    st.builds(Not, inner),
    st.builds(BoolOp, st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3).map(tuple))),
    max_leaves=8)
devices = st.dictionaries(st.sampled_from(_STR_ATTRS), st.one_of(st.none(), _values), max_size=6)


def reference(node: object, device: dict) -> bool:
    if isinstance(node, Not):
        return not reference(node.operand, device)
    if isinstance(node, BoolOp):
        results = [reference(o, device) for o in node.operands]
        return all(results) if node.op == "and" else any(results)
    assert isinstance(node, Compare)
    actual = device.get(node.attribute)
    negative = node.op in ("ne", "notstartswith", "notendswith", "notcontains", "notin")
    if actual is None:
        return negative
    a = actual.lower()
    base = node.op.removeprefix("not") if node.op != "ne" else "eq"
    if base == "in":
        hit = a in [v.lower() for v in node.value]  # type: ignore[union-attr]
    else:
        v = str(node.value).lower()
        hit = {"eq": a == v, "startswith": a.startswith(v), "endswith": a.endswith(v), "contains": v in a}[base]
    return hit != negative


@settings(max_examples=60, deadline=None)
@given(rules, devices)
def test_round_trip_and_semantics(rule: object, device: dict) -> None:
    text = str(rule)
    reparsed = parse_rule(text)
    assert str(reparsed) == text  # printing and parsing are inverse
    assert reparsed.evaluate(device) == reference(rule, device)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_parser_never_crashes(text: str) -> None:
    try:
        parse_rule(text)
    except FilterSyntaxError:
        pass
