"""A restriction in words for the rep it limits: "Category code 2 is R01, R02 or R03".

The filter text is checked by the compiler first (restrictions.validate_filter), then its
syntax tree is told node by node with the column labels of restrictions/policy.toml. Only
the node types the policy allows can reach here; the admin still reads and edits the text.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from ecgateway.accounts.policy import Policy
from ecgateway.accounts.restrictions import RestrictionError, validate_filter

MAX_VALUES_SHOWN = 8  # a long IN list is told as its first values and how many more
_COMPARED = {exp.EQ: "is", exp.NEQ: "is not", exp.LT: "is less than", exp.LTE: "is at most",
             exp.GT: "is more than", exp.GTE: "is at least"}


def describe_filter(text: str, *, policy: Policy) -> str:
    """The filter in the policy's words; RestrictionError when the policy refuses it."""
    validate_filter(text, policy=policy)
    tree = sqlglot.parse_one(text, read="oracle")
    return _Words(policy).condition(tree, top=True)


def describe_or_none(text: str, *, policy: Policy) -> str | None:
    """As describe_filter, None for a filter the policy no longer accepts."""
    try:
        return describe_filter(text, policy=policy)
    except RestrictionError:
        return None


class _Words:
    def __init__(self, policy: Policy):
        self.policy = policy

    def condition(self, node: exp.Expression, *, top: bool = False) -> str:
        if isinstance(node, exp.Paren):
            return self.condition(node.this, top=top)
        if isinstance(node, exp.And | exp.Or):
            word = " and " if isinstance(node, exp.And) else " or "
            parts = [self._part(p, type(node)) for p in _flatten(node, type(node))]
            said = word.join(parts)
            return said if top else f"({said})"
        if isinstance(node, exp.Not):
            return self._negated(node.this)
        if node.args.get("negate"):  # sqlglot's NOT LIKE / NOT IN as one node
            return self._negated(node)
        return self._predicate(node)

    def _part(self, node: exp.Expression, connective: type) -> str:
        inner = node.this if isinstance(node, exp.Paren) else node
        if isinstance(inner, exp.And | exp.Or) and not isinstance(inner, connective):
            return self.condition(inner)  # the other connective: kept in parentheses
        return self.condition(inner, top=True)

    def _negated(self, node: exp.Expression) -> str:
        inner = node.this if isinstance(node, exp.Paren) else node
        if isinstance(inner, exp.In):
            values = inner.expressions
            if len(values) == 1:
                return f"{self._column(inner.this)} is not {self._value(values[0])}"
            return f"{self._column(inner.this)} is none of {self._values(values, joiner=', ')}"
        if isinstance(inner, exp.Like):
            return f"{self._column(inner.this)} does not {self._pattern(inner.expression)}"
        if isinstance(inner, exp.Is):
            return f"{self._column(inner.this)} is not blank"
        if isinstance(inner, exp.Between):
            return (f"{self._column(inner.this)} is not from {self._value(inner.args['low'])}"
                    f" to {self._value(inner.args['high'])}")
        if isinstance(inner, exp.EQ):
            return f"{self._column(inner.this)} is not {self._value(inner.expression)}"
        return f"not {self.condition(inner)}"

    def _predicate(self, node: exp.Expression) -> str:
        if type(node) in _COMPARED:
            return f"{self._column(node.this)} {_COMPARED[type(node)]} {self._value(node.expression)}"
        if isinstance(node, exp.In):
            return f"{self._column(node.this)} is {self._values(node.expressions)}"
        if isinstance(node, exp.Between):
            return f"{self._column(node.this)} is from {self._value(node.args['low'])} to {self._value(node.args['high'])}"
        if isinstance(node, exp.Like):
            return f"{self._column(node.this)} {self._pattern(node.expression, positive=True)}"
        if isinstance(node, exp.Is):
            return f"{self._column(node.this)} is blank"
        return node.sql(dialect="oracle")  # not reached for a filter the policy accepts

    def _column(self, node: exp.Expression) -> str:
        if isinstance(node, exp.Upper):
            return f"{self._column(node.this)} (any case)"
        if isinstance(node, exp.Paren):
            return self._column(node.this)
        name = node.name.upper() if isinstance(node, exp.Column) else node.sql()
        rule = self.policy.columns.get(name)
        label = rule.label if rule and rule.label else name
        return re.sub(r"\s*\([^)]*\)$", "", label)  # "City (current address)" -> "City"

    def _value(self, node: exp.Expression) -> str:
        if isinstance(node, exp.Neg):
            return f"-{self._value(node.this)}"
        if isinstance(node, exp.Null):
            return "blank"
        if isinstance(node, exp.Literal):
            return node.this.strip() if node.is_string else node.this
        return node.sql(dialect="oracle")

    def _values(self, nodes: list[exp.Expression], joiner: str = " or ") -> str:
        values = [self._value(n) for n in nodes]
        if len(values) == 1:
            return values[0]
        if len(values) > MAX_VALUES_SHOWN:
            shown = ", ".join(values[:MAX_VALUES_SHOWN])
            return f"one of {len(values):,} values ({shown} and {len(values) - MAX_VALUES_SHOWN:,} more)"
        return ", ".join(values[:-1]) + joiner + values[-1]

    def _pattern(self, node: exp.Expression, *, positive: bool = False) -> str:
        pattern = self._value(node)
        core = pattern.strip("%")
        plain = "_" not in core and "%" not in core and core
        if plain and pattern == f"{core}%":
            words = f"start with {core}"
        elif plain and pattern == f"%{core}":
            words = f"end with {core}"
        elif plain and pattern == f"%{core}%":
            words = f"contain {core}"
        else:
            words = f"match {pattern} (_ is any one character, % any characters)"
        if not positive:
            return words
        verb, _, rest = words.partition(" ")
        return {"start": "starts", "end": "ends", "contain": "contains", "match": "matches"}[verb] + " " + rest


def _flatten(node: exp.Expression, kind: type) -> list[exp.Expression]:
    """a AND (b AND c) -> [a, b, c]: one level of words for one connective."""
    inner = node.this if isinstance(node, exp.Paren) else node
    if isinstance(inner, kind):
        return [*_flatten(inner.this, kind), *_flatten(inner.expression, kind)]
    return [node]
