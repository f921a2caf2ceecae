"""The allow-list for rep restrictions, read from restrictions/policy.toml."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ecgateway.config import PROJECT_ROOT
from ecgateway.errors import GatewayError
from ecgateway.jde.conventions import MCU_WIDTH, mcu, pad

COLUMN_TYPES = ("integer", "char", "business_unit")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")  # ASCII digits only: no look-alikes such as '４２'


class ValueRefused(GatewayError, ValueError):
    """A value cannot be bound to a column; the message says why, for a person."""

    status = 422


@dataclass(frozen=True)
class ColumnRule:
    """One column a filter may name: its type and width as JDE stores it."""

    name: str
    type: str
    width: int  # characters for text; digits for integers
    label: str

    @property
    def is_text(self) -> bool:
        return self.type != "integer"

    def bind_value(self, value: str | int, *, is_string: bool) -> str | int:
        """The value as stored in JDE, to be bound as a parameter for =, <, IN, BETWEEN."""
        if self.type == "integer":
            return self._integer(value, is_string=is_string)
        text = self.check_text(str(value))
        if self.type == "business_unit":
            return mcu(text)
        return pad(text, self.width)

    def check_text(self, text: str, *, pattern: bool = False) -> str:
        """Text as typed (values, LIKE patterns, UPPER(...) comparisons): refuses control
        characters, and values longer than the column (a pattern's wildcards may stand for less)."""
        if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text):
            raise ValueRefused(f"{self.name} values may not contain control characters")
        if pattern and "\\" in text:
            raise ValueRefused("a LIKE pattern may not contain a backslash: databases disagree on what it means")
        if self.type != "integer" and len(text.rstrip()) > self.width and not (pattern and ("%" in text or "_" in text)):
            typed = text.rstrip()
            raise ValueRefused(
                f"{repr(typed) if len(typed) <= 40 else _shown(typed)} is {len(typed):,} characters but {self.name} "
                f"holds {self.width}: no account can match"
            )
        return text

    def _integer(self, value: str | int, *, is_string: bool) -> int:
        text = str(value).strip(" ")  # Oracle's TO_NUMBER allows spaces around, nothing else
        if not _INTEGER.match(text):
            what = f"'{_shown(str(value))}'" if is_string else _shown(str(value))
            raise ValueRefused(f"{self.name} is a whole number; {what} is not")
        # Count the digits before converting: int() of a long enough text is itself an error
        # (Python refuses over 4,300 digits), and no more digits than the column holds can match.
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > self.width:
            raise ValueRefused(f"{self.name} has at most {self.width} digits; {_shown(text)} has {len(digits):,}")
        return int(text)


@dataclass(frozen=True, eq=False)  # hashed by identity: compiled filters are cached per policy
class Policy:
    columns: dict[str, ColumnRule]
    operators: frozenset[str]
    functions: frozenset[str]
    nodes: frozenset[str]
    max_length: int
    max_in_list: int
    max_values: int
    max_depth: int
    max_connectives: int
    source: str

    def column_names(self) -> str:
        """The allowed columns for messages, runs of numbered codes shortened: ABAC01..ABAC30."""
        names = list(self.columns)
        out: list[str] = []
        i = 0
        while i < len(names):
            j = i
            while j + 1 < len(names) and _next_code(names[j]) == names[j + 1]:
                j += 1
            out.append(f"{names[i]}..{names[j]}" if j - i >= 2 else ", ".join(names[i:j + 1]))
            i = j + 1
        return ", ".join(out)


DEFAULT_POLICY_PATH = PROJECT_ROOT / "restrictions" / "policy.toml"


def default_policy() -> Policy:
    return load_policy(DEFAULT_POLICY_PATH)


def load_policy(path: Path) -> Policy:
    """Read and check a policy file (again when it changed); a broken file stops start-up with the reason."""
    path = Path(path)
    return _load_policy(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_policy(path: Path, _mtime_ns: int) -> Policy:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    try:
        limits = data["limits"]
        columns: dict[str, ColumnRule] = {}
        for name, spec in data["columns"].items():
            kind = spec["type"]
            if kind not in COLUMN_TYPES:
                raise ValueError(f"column {name}: type {kind!r} is not one of {', '.join(COLUMN_TYPES)}")
            width = spec.get("digits") if kind == "integer" else spec.get("width")
            if kind == "business_unit":
                width = width or MCU_WIDTH
            if not isinstance(width, int) or width < 1:
                raise ValueError(f"column {name}: needs a positive {'digits' if kind == 'integer' else 'width'}")
            columns[name.upper()] = ColumnRule(name.upper(), kind, width, spec.get("label", ""))
        return Policy(
            columns=columns,
            operators=frozenset(op.upper() for op in data["operators"]["allowed"]),
            functions=frozenset(fn.upper() for fn in data.get("functions", {}).get("allowed", [])),
            nodes=frozenset(data["syntax"]["nodes"]),
            max_length=int(limits["max_length"]),
            max_in_list=int(limits["max_in_list"]),
            max_values=int(limits["max_values"]),
            max_depth=int(limits["max_depth"]),
            max_connectives=int(limits["max_connectives"]),
            source=str(path),
        )
    except KeyError as exc:
        raise ValueError(f"{path}: missing {exc.args[0]!r}") from None


def _shown(text: str, most: int = 24) -> str:
    """A value as a message shows it: a long one cut in the middle, with its length."""
    if len(text) <= most:
        return text
    return f"{text[:10]}...{text[-6:]} ({len(text):,} characters)"


def _next_code(name: str) -> str | None:
    """ABAC01 -> ABAC02: the next name of a numbered run, or None."""
    match = re.match(r"^(.*?)(\d+)$", name)
    if not match:
        return None
    digits = match.group(2)
    return f"{match.group(1)}{int(digits) + 1:0{len(digits)}d}"
