"""The device-filter rule language of conditional access (``device.x -eq "y"``).

Grammar (Entra "rules for dynamic membership groups", restricted to what the CA filter
documents), precedence from highest to lowest: comparisons, ``-not``, ``-and``, ``-or``;
parentheses group::

    rule    := or
    or      := and ("-or" and)*
    and     := unary ("-and" unary)*
    unary   := "-not" unary | "(" or ")" | compare
    compare := "device." ATTR OP value
    value   := "..." | '...' | true | false | null | "[" value ("," value)* "]"

Semantics as documented: string comparisons are case-insensitive; an attribute the device
does not have (an unregistered device has none) is null, so positive operators are false
and negative operators true; for the collections ``physicalIds`` and ``systemLabels``
``-contains`` means "one whole element equals". Operators may be written with or without
the leading hyphen. A rule is at most 3072 characters. Each attribute accepts only the
operators the CA documentation lists for it; anything else is a :class:`FilterSyntaxError`.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

MAX_RULE_LENGTH = 3072

_STRING_OPS = ("eq", "ne", "startswith", "notstartswith", "endswith", "notendswith", "contains",
               "notcontains", "in", "notin")
_NEGATIVE = {"ne", "notstartswith", "notendswith", "notcontains", "notin"}
_CANONICAL_OP = {o.lower(): o for o in ("eq", "ne", "startsWith", "notStartsWith", "endsWith", "notEndsWith",
                                        "contains", "notContains", "in", "notIn")}

#: attribute (canonical spelling) -> (allowed operators, allowed values or None for any)
ATTRIBUTES: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "deviceId": (("eq", "ne", "in", "notin"), None),
    "displayName": (_STRING_OPS, None),
    "deviceOwnership": (("eq", "ne"), ("Personal", "Company")),
    "enrollmentProfileName": (_STRING_OPS, None),
    "isCompliant": (("eq", "ne"), ("True", "False")),
    "manufacturer": (_STRING_OPS, None),
    "mdmAppId": (("eq", "ne", "in", "notin"), None),
    "model": (_STRING_OPS, None),
    "operatingSystem": (_STRING_OPS, None),
    "operatingSystemVersion": (_STRING_OPS, None),
    "physicalIds": (("contains", "notcontains"), None),
    "profileType": (("eq", "ne"), ("RegisteredDevice", "SecureVM", "Printer", "Shared", "IoT")),
    "systemLabels": (("contains", "notcontains"), None),
    "trustType": (("eq", "ne"), ("AzureAD", "ServerAD", "Workplace")),
    **{f"extensionAttribute{i}": (_STRING_OPS, None) for i in range(1, 16)},
}
COLLECTION_ATTRIBUTES = frozenset({"physicalIds", "systemLabels"})
_BY_LOWER = {name.lower(): name for name in ATTRIBUTES}


class FilterSyntaxError(ValueError):
    """A rule that is not valid device-filter syntax; ``position`` is a 0-based offset."""

    def __init__(self, message: str, position: int) -> None:
        self.position = position
        super().__init__(f"{message} (at character {position + 1})")


# -- AST ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Compare:
    attribute: str
    op: str  # lower-case operator name without hyphen
    value: str | None | tuple[str, ...]  # None is the `null` literal

    def evaluate(self, device: Mapping[str, Any]) -> bool:
        actual = device.get(self.attribute)
        negative = self.op in _NEGATIVE
        if self.value is None:  # `-eq null` / `-ne null`
            is_null = actual is None or actual == [] or actual == ()
            return is_null != (self.op == "ne")
        if actual is None or (self.attribute in COLLECTION_ATTRIBUTES and not actual):
            return negative
        positive = self._positive(actual)
        return not positive if negative else positive

    def _positive(self, actual: Any) -> bool:
        op = self.op[3:] if self.op.startswith("not") else "eq" if self.op == "ne" else self.op
        if self.attribute in COLLECTION_ATTRIBUTES:
            items = {_text(v) for v in (actual if isinstance(actual, (list, tuple, set, frozenset)) else [actual])}
            return _text(self.value) in items
        text = _text(actual)
        if op == "in":
            assert isinstance(self.value, tuple)
            return text in {_text(v) for v in self.value}
        want = _text(self.value)
        if op == "eq":
            return text == want
        if op == "startswith":
            return text.startswith(want)
        if op == "endswith":
            return text.endswith(want)
        return want in text  # contains

    def __str__(self) -> str:
        val = "null" if self.value is None else (
            "[" + ", ".join(_quote(v) for v in self.value) + "]" if isinstance(self.value, tuple)
            else _quote(self.value))
        return f"device.{self.attribute} -{_CANONICAL_OP[self.op]} {val}"


@dataclass(frozen=True)
class Not:
    operand: Node

    def evaluate(self, device: Mapping[str, Any]) -> bool:
        return not self.operand.evaluate(device)

    def __str__(self) -> str:
        return f"-not ({self.operand})"


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    operands: tuple[Node, ...]

    def evaluate(self, device: Mapping[str, Any]) -> bool:
        if self.op == "and":
            return all(o.evaluate(device) for o in self.operands)
        return any(o.evaluate(device) for o in self.operands)

    def __str__(self) -> str:
        return "(" + f" -{self.op} ".join(str(o) for o in self.operands) + ")"


Node = Union[Compare, Not, BoolOp]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).casefold()


def _quote(value: str) -> str:
    return '"' + value.replace('"', '`"') + '"'


# -- tokenizer ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) | (?P<lbrack>\[) | (?P<rbrack>\]) | (?P<comma>,)
      | (?P<dq>"(?:`.|[^"`])*")
      | (?P<sq>'(?:''|[^'])*')
      | (?P<op>[-\u2013][A-Za-z]+)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(rule: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(rule):
        if rule[pos:].strip() == "":
            break
        m = _TOKEN.match(rule, pos)
        if m is None or m.lastgroup is None:
            start = pos + len(rule[pos:]) - len(rule[pos:].lstrip())
            raise FilterSyntaxError(f"unexpected character {rule[start]!r}", start)
        kind = m.lastgroup
        start = m.start(kind)
        text = m.group(kind)
        if kind == "dq":
            kind, text = "string", re.sub(r"`(.)", r"\1", text[1:-1])
        elif kind == "sq":
            kind, text = "string", text[1:-1].replace("''", "'")
        elif kind == "op":
            text = text[1:].lower()
        out.append(_Tok(kind, text, start))
        pos = m.end()
    return out


# -- parser ------------------------------------------------------------------------------

class _Parser:
    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.toks = _tokens(rule)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise FilterSyntaxError("rule ends too early", len(self.rule))
        self.i += 1
        return tok

    def _logical(self, name: str) -> bool:
        tok = self.peek()
        # logical operators may also be written without the hyphen (`and`, `or`, `not`)
        return tok is not None and tok.kind in ("op", "word") and tok.text.lower() == name

    def parse(self) -> Node:
        node = self.or_()
        tok = self.peek()
        if tok is not None:
            raise FilterSyntaxError(f"unexpected {tok.text!r}; expected -and, -or or the end", tok.pos)
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while self._logical("or"):
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def and_(self) -> Node:
        parts = [self.unary()]
        while self._logical("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def unary(self) -> Node:
        if self._logical("not"):
            self.take()
            return Not(self.unary())
        tok = self.peek()
        if tok is not None and tok.kind == "lparen":
            self.take()
            node = self.or_()
            close = self.take()
            if close.kind != "rparen":
                raise FilterSyntaxError(f"expected ')' but found {close.text!r}", close.pos)
            return node
        return self.compare()

    def compare(self) -> Node:
        tok = self.take()
        if tok.kind != "word" or not tok.text.lower().startswith("device."):
            raise FilterSyntaxError(f"expected a device property such as device.trustType, found {tok.text!r}",
                                    tok.pos)
        raw_attr = tok.text[len("device."):]
        attribute = _BY_LOWER.get(raw_attr.lower())
        if attribute is None:
            raise FilterSyntaxError(
                f"device.{raw_attr} is not a property supported by the filter for devices "
                f"(supported: {', '.join(ATTRIBUTES)})", tok.pos)
        op_tok = self.take()
        op = op_tok.text.lower() if op_tok.kind in ("op", "word") else ""
        if op in ("match", "notmatch"):
            raise FilterSyntaxError(f"-{op_tok.text} (regular expressions) is not supported by the filter for devices",
                                    op_tok.pos)
        if op not in _CANONICAL_OP:
            raise FilterSyntaxError(f"expected an operator such as -eq, found {op_tok.text!r}", op_tok.pos)
        allowed_ops, allowed_values = ATTRIBUTES[attribute]
        if op not in allowed_ops:
            raise FilterSyntaxError(
                f"-{_CANONICAL_OP[op]} is not supported for device.{attribute} (supported: "
                + ", ".join("-" + _CANONICAL_OP[o] for o in allowed_ops) + ")", op_tok.pos)
        nxt = self.peek()
        value_pos = nxt.pos if nxt is not None else len(self.rule)
        value = self.value(list_allowed=op in ("in", "notin"))
        if op in ("in", "notin") and not isinstance(value, tuple):
            raise FilterSyntaxError(f"-{_CANONICAL_OP[op]} needs a list such as [\"a\", \"b\"]", value_pos)
        if value is None and op not in ("eq", "ne"):
            raise FilterSyntaxError("null can only be compared with -eq or -ne", value_pos)
        if allowed_values is not None and value is not None:
            canon = {v.lower(): v for v in allowed_values}
            vals = value if isinstance(value, tuple) else (value,)
            for v in vals:
                if v.lower() not in canon:
                    raise FilterSyntaxError(
                        f"{v!r} is not a value of device.{attribute} (supported: {', '.join(allowed_values)})",
                        value_pos)
        return Compare(attribute, op, value)

    def value(self, *, list_allowed: bool) -> str | None | tuple[str, ...]:
        tok = self.take()
        if tok.kind == "string":
            return tok.text
        if tok.kind == "word" and tok.text.lower() in ("true", "false"):
            return tok.text.capitalize()
        if tok.kind == "word" and tok.text.lower() == "null":
            return None
        if tok.kind == "lbrack" and list_allowed:
            items: list[str] = []
            while True:
                item = self.value(list_allowed=False)
                if not isinstance(item, str):
                    raise FilterSyntaxError("list items must be strings", tok.pos)
                items.append(item)
                sep = self.take()
                if sep.kind == "rbrack":
                    return tuple(items)
                if sep.kind != "comma":
                    raise FilterSyntaxError(f"expected ',' or ']' in list, found {sep.text!r}", sep.pos)
        raise FilterSyntaxError(f"expected a quoted value, true, false or null, found {tok.text!r}", tok.pos)


@dataclass(frozen=True)
class DeviceFilter:
    """A parsed ``deviceFilter``: ``mode`` include/exclude and the rule."""

    mode: str
    rule: str
    tree: Node

    def matches(self, device: Mapping[str, Any]) -> bool:
        """Whether the device satisfies the rule (before applying include/exclude)."""
        return self.tree.evaluate(device)

    def in_scope(self, device: Mapping[str, Any]) -> bool:
        """Whether the policy applies to this device: include mode needs a match, exclude mode
        needs no match."""
        matched = self.matches(device)
        return matched if self.mode == "include" else not matched

    @property
    def attributes(self) -> frozenset[str]:
        return frozenset(_attributes(self.tree))


def _attributes(node: Node) -> list[str]:
    if isinstance(node, Compare):
        return [node.attribute]
    if isinstance(node, Not):
        return _attributes(node.operand)
    return [a for o in node.operands for a in _attributes(o)]


def parse_rule(rule: str) -> Node:
    """Parse a filter rule; raises :class:`FilterSyntaxError` with the offending position."""
    if len(rule) > MAX_RULE_LENGTH:
        raise FilterSyntaxError(f"rule is {len(rule)} characters; the maximum is {MAX_RULE_LENGTH}",
                                MAX_RULE_LENGTH)
    if not rule.strip():
        raise FilterSyntaxError("rule is empty", 0)
    return _Parser(rule).parse()


def device_attributes(*, device_id: str | None = None, display_name: str | None = None,
                      is_compliant: bool | None = None, is_managed: bool | None = None,
                      trust_type: str | None = None, operating_system: str | None = None,
                      **extra: Any) -> dict[str, Any]:
    """The attribute map a filter sees, from sign-in-log style device fields.

    An unregistered device (no ``device_id``) has every property null. ``trust_type`` accepts
    the sign-in-log spellings ("Azure AD joined", "Hybrid Azure AD joined", "Azure AD
    registered") as well as AzureAD/ServerAD/Workplace. extensionAttribute1-15 are only
    available when the device is Intune managed, compliant or hybrid joined (documented)."""
    names = {}
    for key in extra:
        name = _BY_LOWER.get(key.lower())
        if name is None:
            raise ValueError(f"unknown device attribute {key!r} (supported: {', '.join(ATTRIBUTES)})")
        names[key] = name
    if not device_id:
        return {}
    trust = normalize_trust_type(trust_type)
    attrs: dict[str, Any] = {"deviceId": device_id, "displayName": display_name,
                             "isCompliant": None if is_compliant is None else ("True" if is_compliant else "False"),
                             "trustType": trust, "operatingSystem": operating_system}
    for key, value in extra.items():
        attrs[names[key]] = value
    if not (is_managed or is_compliant or trust == "ServerAD"):
        for i in range(1, 16):
            attrs.pop(f"extensionAttribute{i}", None)
    return attrs


_TRUST = {"azuread": "AzureAD", "azure ad joined": "AzureAD", "microsoft entra joined": "AzureAD",
          "serverad": "ServerAD", "hybrid azure ad joined": "ServerAD", "microsoft entra hybrid joined": "ServerAD",
          "workplace": "Workplace", "azure ad registered": "Workplace", "microsoft entra registered": "Workplace"}


def normalize_trust_type(value: str | None) -> str | None:
    """AzureAD / ServerAD / Workplace from any of the spellings logs use; None when unknown."""
    if not value:
        return None
    return _TRUST.get(value.strip().lower())
