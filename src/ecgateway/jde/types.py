"""Column types that behave like JDE's fixed-width NCHAR columns on every database."""

from __future__ import annotations

from sqlalchemy import CHAR, String
from sqlalchemy.dialects.oracle import NCHAR
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from ecgateway.jde.conventions import BLANK, mcu

# Pattern operators take the literal as typed: a padded pattern would never match.
_PATTERN_OPS = {
    operators.like_op, operators.not_like_op, operators.ilike_op, operators.not_ilike_op,
    operators.startswith_op, operators.endswith_op, operators.contains_op,
}


class JdeChar(TypeDecorator):
    """Fixed-width text: padded with spaces on the way in, trimmed on the way out."""

    impl = CHAR
    cache_ok = True

    def __init__(self, length: int):
        super().__init__(length)
        self.width = length

    def load_dialect_impl(self, dialect):
        if dialect.name == "oracle":
            return dialect.type_descriptor(NCHAR(self.width))
        return dialect.type_descriptor(CHAR(self.width))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        text = str(value).rstrip()
        return (text or BLANK).ljust(self.width)

    def process_result_value(self, value, dialect):
        return None if value is None else value.strip()

    def coerce_compared_value(self, op, value):
        if op in _PATTERN_OPS:
            return String()
        return self


class JdeBusinessUnit(JdeChar):
    """A business unit (MCU): right-justified in 12 characters."""

    cache_ok = True

    def __init__(self, length: int = 12):
        super().__init__(length)

    def process_bind_param(self, value, dialect):
        return None if value is None else mcu(value)
