"""A pySigma backend that turns a Sigma rule's detection into a SQL condition over vigil's tables.

The processing pipeline (:func:`pipeline`) maps each vendor field onto a SQL expression of the rule's
logsource :class:`~vigil.detections.sigma.logsources.Target` and fails, naming the field, where vigil
has no equivalent; the backend (:class:`VigilBackend`) writes the condition. Sigma matches strings
case-insensitively, so every string comparison is ``ILIKE`` on the value as text, with Sigma's
wildcards as ``%`` / ``_`` and the value's own ``%``, ``_`` and ``\\`` escaped; numbers and booleans are
compared as text too (vendors write ``ResultType`` as a string, Okta ``isProxy`` as "true").
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

from sigma.conditions import ConditionAND, ConditionFieldEqualsValueExpression, ConditionItem, ConditionNOT, ConditionOR
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaTransformationError
from sigma.processing.conditions import LogsourceCondition, RuleProcessingCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import FieldFunctionTransformation, RuleFailureTransformation
from sigma.types import SigmaBool, SigmaNumber, SigmaString, SpecialChars

from vigil.detections.sigma.logsources import TARGETS, UNSUPPORTED, Target
from vigil.store import literal


def _mapper(product: str, service: str, target: Target) -> Any:
    def resolve(name: str | None) -> str:
        if name is None:  # a keyword search: vigil keeps no free text to search
            raise SigmaTransformationError(f"keyword (field-less) search has no equivalent in {product}/{service}")
        expr = target.fields.get(name.lower())
        if expr is None:
            raise SigmaTransformationError(f"field {name!r} has no equivalent in vigil for {product}/{service}")
        return f"CAST({expr} AS VARCHAR)"
    return resolve


def pipeline() -> ProcessingPipeline:
    """Field mapping for every supported logsource; a failure naming the reason for every other one."""
    items: list[ProcessingItem] = []
    def on(product: str, service: str) -> list[RuleProcessingCondition]:
        return [LogsourceCondition(product=product, service=service)]

    for (product, service), target in TARGETS.items():
        items.append(ProcessingItem(
            identifier=f"vigil_{product}_{service}",
            transformation=FieldFunctionTransformation(mapping={}, transform_func=_mapper(product, service, target)),
            rule_conditions=on(product, service)))
    for (product, service), why in UNSUPPORTED.items():
        items.append(ProcessingItem(identifier=f"vigil_unsupported_{product}_{service}",
                                    transformation=RuleFailureTransformation(why),
                                    rule_conditions=on(product, service)))
    known = [c for p, s in [*TARGETS, *UNSUPPORTED] for c in on(p, s)]
    items.append(ProcessingItem(identifier="vigil_unknown_logsource",
                                transformation=RuleFailureTransformation("logsource not read by vigil"),
                                rule_conditions=known, rule_condition_linking=any, rule_condition_negation=True))
    return ProcessingPipeline(name="vigil", priority=20, items=items)


class VigilBackend(TextQueryBackend):
    """SQL WHERE conditions over the relation of the rule's logsource (fields arrive as SQL expressions)."""

    name: ClassVar[str] = "vigil"
    formats: ClassVar[dict[str, str]] = {"default": "SQL condition over vigil's canonical tables"}
    requires_pipeline: ClassVar[bool] = True

    precedence: ClassVar[tuple[type[ConditionItem], type[ConditionItem], type[ConditionItem]]] = (
        ConditionNOT, ConditionAND, ConditionOR)
    group_expression: ClassVar[str] = "({expr})"
    token_separator: str = " "
    or_token: ClassVar[str] = "OR"
    and_token: ClassVar[str] = "AND"
    not_token: ClassVar[str] = "NOT"
    eq_token: ClassVar[str] = " = "
    # NOT over a missing value is true in Sigma (the filter does not match), NULL in SQL: coalesce
    field_quote: ClassVar[str | None] = None
    str_quote: ClassVar[str] = "'"
    wildcard_multi: ClassVar[str | None] = "%"
    wildcard_single: ClassVar[str | None] = "_"
    eq_expression: ClassVar[str] = "coalesce({field} ILIKE {value} ESCAPE '\\', FALSE)"
    wildcard_match_expression: ClassVar[str | None] = "coalesce({field} ILIKE {value} ESCAPE '\\', FALSE)"
    case_sensitive_match_expression: ClassVar[str | None] = "coalesce({field} LIKE {value} ESCAPE '\\', FALSE)"
    re_expression: ClassVar[str | None] = "coalesce(regexp_matches({field}, '{regex}'), FALSE)"
    re_escape_char: ClassVar[str] = "'"
    re_escape: ClassVar[list[str]] = ["'"]
    field_null_expression: ClassVar[str | None] = "{field} IS NULL"
    field_exists_expression: ClassVar[str | None] = "{field} IS NOT NULL"
    field_not_exists_expression: ClassVar[str | None] = "{field} IS NULL"

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        """A LIKE pattern as a SQL literal: Sigma's wildcards become % and _, literal % _ \\ are escaped."""
        out: list[str] = []
        for part in s.s:
            if part == SpecialChars.WILDCARD_MULTI:
                out.append("%")
            elif part == SpecialChars.WILDCARD_SINGLE:
                out.append("_")
            elif isinstance(part, str):
                out.append(re.sub(r"([%_\\])", r"\\\1", part))
            else:  # placeholders are expanded by pipelines; vigil's has none
                raise SigmaTransformationError(f"unsupported special value {part!r}")
        return literal("".join(out))

    def convert_condition_field_eq_val_num(self, cond: ConditionFieldEqualsValueExpression,
                                           state: ConversionState) -> str:
        assert isinstance(cond.value, SigmaNumber)
        return f"coalesce({cond.field} = {literal(str(cond.value))}, FALSE)"

    def convert_condition_field_eq_val_bool(self, cond: ConditionFieldEqualsValueExpression,
                                            state: ConversionState) -> str:
        assert isinstance(cond.value, SigmaBool)
        return f"coalesce(lower({cond.field}) = {literal(str(cond.value.boolean).lower())}, FALSE)"
