"""The restriction compiler: an admin's filter text -> a checked condition with bound values.

The text is parsed with sqlglot as Oracle SQL (as JDE admins write it), every node is
checked against the policy (restrictions/policy.toml), every literal becomes a bound
parameter (padded as JDE stores it), and the result is one parenthesized condition over
the output columns of the Work-with-Accounts query. Anything not allowed is refused with
a RestrictionError naming what, where (line, column) and what is allowed instead.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.oracle import Oracle
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from ecgateway.accounts.policy import ColumnRule, Policy, ValueRefused, default_policy
from ecgateway.errors import GatewayError

NUMBER_COLUMN = "ABAN8"  # the account number: the list's default order and its keyset
BLANK_PARAM = "blank"  # the empty text blank values are compared with in NULLIF(RTRIM(col), :blank)
ORACLE_IN_LIMIT = 1000  # ORA-01795: at most 1,000 expressions in one IN list
EXAMPLE = "ABAN8 IN ('4242','1003')"

# How each operator is written, by the sqlglot node that carries it.
_COMPARISONS: dict[type[exp.Expression], str] = {
    exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">=",
}
_OPERATOR_NODES: dict[str, tuple[type[exp.Expression], ...]] = {
    **{label: (cls,) for cls, label in _COMPARISONS.items()},
    "!=": (exp.NEQ,), "IN": (exp.In,), "NOT IN": (exp.Not, exp.In), "BETWEEN": (exp.Between,),
    "LIKE": (exp.Like,), "NOT LIKE": (exp.Not, exp.Like), "IS NULL": (exp.Is,),
    "IS NOT NULL": (exp.Not, exp.Is), "AND": (exp.And,), "OR": (exp.Or,), "NOT": (exp.Not,),
}
# Names people know for nodes the policy refuses.
_REFUSED_NAMES: dict[type[exp.Expression], str] = {
    exp.Select: "a subquery", exp.Subquery: "a subquery", exp.Union: "UNION", exp.Exists: "EXISTS (a subquery)",
    exp.Placeholder: "a placeholder", exp.Parameter: "a placeholder", exp.Boolean: "TRUE/FALSE",
    exp.Dot: "a qualified name", exp.Star: "*", exp.Cast: "CAST", exp.Case: "CASE", exp.Escape: "ESCAPE",
    exp.DPipe: "|| (concatenation)", exp.Add: "arithmetic (+)", exp.Sub: "arithmetic (-)",
    exp.Mul: "arithmetic (*)", exp.Div: "arithmetic (/)", exp.Mod: "arithmetic (%)",
    exp.Interval: "INTERVAL", exp.National: "a national string (N'...')", exp.ILike: "ILIKE",
    exp.Tuple: "a list of values outside IN", exp.Anonymous: "an unknown function",
}
# The arguments each predicate may carry; any other (a flag a future sqlglot adds) is refused.
_PREDICATE_ARGS: dict[type[exp.Expression], tuple[str, ...]] = {
    **{cls: ("this", "expression") for cls in _COMPARISONS},
    exp.In: ("this", "expressions"), exp.Between: ("this", "low", "high"),
    exp.Like: ("this", "expression"), exp.Is: ("this", "expression"),
}
_PUNCTUATION = {TokenType.EQ, TokenType.NEQ, TokenType.LT, TokenType.LTE, TokenType.GT, TokenType.GTE,
                TokenType.L_PAREN, TokenType.R_PAREN, TokenType.COMMA}
_PLACEHOLDER_TOKENS = {TokenType.PLACEHOLDER, TokenType.PARAMETER, TokenType.COLON, TokenType.AMP}
_SQLGLOT_DIALECTS = {"postgresql": "postgres", "mssql": "tsql"}
# Outside quotes a filter is ASCII, and words are separated by the whitespace Oracle's SQL
# reads as such (Oracle Database SQL Language Reference, "Basic Elements": space, tab, line
# breaks); sqlglot would also read vertical tab, form feed, NEL or a no-break space as a space.
_WHITESPACE = frozenset(" \t\r\n")
# ASCII characters Oracle's SQL has no use for in a condition (sqlglot reads some as other dialects do).
_NOT_ORACLE = {"[": "[ ] (a list in brackets)", "]": "[ ] (a list in brackets)", "{": "{ }", "}": "{ }",
               "`": "` (a back-quoted name)", "\\": "a backslash", "~": "~ (a regular expression match)"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_log = logging.getLogger(__name__)


class RestrictionError(GatewayError, ValueError):
    """A filter was refused: what was wrong, where (line, col, 1-based) and what is allowed."""

    status = 422

    def __init__(self, problem: str, *, line: int, col: int, fragment: str, hint: str = ""):
        self.problem = problem
        self.line = line
        self.col = col
        self.fragment = fragment
        self.hint = hint
        self.message = f"{problem} (line {line}, col {col})" + (f"; {hint}" if hint else "")
        super().__init__(self.message)

    def pointer(self, text: str) -> str:
        """The offending line of text with a caret under the refused piece."""
        lines = text.splitlines() or [""]
        row = lines[min(self.line, len(lines)) - 1]
        width = max(1, min(len(self.fragment.splitlines()[0]) if self.fragment else 1, len(row) - self.col + 1))
        return f"{row}\n{' ' * (self.col - 1)}{'^' * width}"


@dataclass(frozen=True)
class CompiledFilter:
    """A checked filter for one dialect: a condition over the base query's columns."""

    text: str
    dialect: str  # sqlglot dialect name
    condition: exp.Expression  # parenthesized; columns bare (ABAN8), values as placeholders :f1..
    params: dict[str, object]  # placeholder name -> value as JDE stores it
    columns: frozenset[str]
    # the binds holding values of ABAN8 IN (...) lists, wherever they sit in the filter (see
    # accounts.service.list_accounts: deep pages by number skip the values before the page)
    number_in_params: frozenset[str] = frozenset()

    @property
    def sql(self) -> str:
        return render(self.condition, self.dialect)


def sqlglot_dialect(name: str) -> str:
    """A SQLAlchemy dialect name (postgresql, mssql, ...) as sqlglot names it."""
    return _SQLGLOT_DIALECTS.get(name, name)


def compile_filter(text: str, *, dialect: str = "oracle", policy: Policy | None = None) -> CompiledFilter:
    """Check text against the policy and compile it for dialect; cached by (text, dialect)."""
    return _compile(text, sqlglot_dialect(dialect), policy or default_policy())


def validate_filter(text: str, *, policy: Policy | None = None) -> None:
    """Raise RestrictionError when text is refused; the dialect does not change the verdict."""
    compile_filter(text, dialect="oracle", policy=policy)


class _PostgresNamedBinds(Postgres):
    """PostgreSQL, with :name binds as SQLAlchemy's text() takes them (psycopg's own is %(name)s)."""

    class Generator(Postgres.Generator):
        def placeholder_sql(self, expression: exp.Placeholder) -> str:
            return f":{expression.name}"


def render(expression: exp.Expression, dialect: str) -> str:
    """SQL for dialect with :name binds (Oracle, SQLite, SQL Server natively, PostgreSQL via override)."""
    target: str | type[Dialect] = _PostgresNamedBinds if dialect == "postgres" else dialect
    return expression.sql(dialect=target)


# --- compiling ---------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _compile(text: str, dialect: str, policy: Policy) -> CompiledFilter:
    checker = _Checker(text, policy, dialect)
    try:
        condition = checker.run()
    except RestrictionError:
        raise
    except Exception:  # a gap in the checks above: fail closed, with a refusal rather than a crash
        _log.exception("restriction compiler failed on a filter of %d characters", len(text))
        raise checker.error_at(0, text[:20], "the filter cannot be checked",
                               f"write it more simply, as conditions such as {EXAMPLE} joined with AND / OR") from None
    return CompiledFilter(text=text, dialect=dialect, condition=condition, params=checker.params,
                          columns=frozenset(checker.columns), number_in_params=frozenset(checker.number_in_params))


@dataclass(frozen=True)
class _ColumnRef:
    rule: ColumnRule
    function: str | None  # an allowed function applied to the column (UPPER), or None


class _Checker:
    def __init__(self, text: str, policy: Policy, dialect: str):
        self.text = text
        self.policy = policy
        self.dialect = dialect
        self.params: dict[str, object] = {}
        self.columns: set[str] = set()
        self.number_in_params: set[str] = set()
        self.values = 0
        self.tokens: list = []
        allowed_ops = [op for op in policy.operators if op in _OPERATOR_NODES]
        self.allowed_nodes = {name for name in policy.nodes} | {
            cls.__name__ for op in allowed_ops for cls in _OPERATOR_NODES[op]
        }

    def run(self) -> exp.Expression:
        text, policy = self.text, self.policy
        if len(text) > policy.max_length:
            raise self.error_at(policy.max_length, text[policy.max_length:policy.max_length + 20],
                                f"the filter is {len(text):,} characters long",
                                f"the most allowed is {policy.max_length:,}")
        if not text.strip():
            raise self.error_at(0, "", "the filter is empty", f"write one condition, for example {EXAMPLE}")
        self._check_characters()
        self._check_tokens()
        self._check_oracle_tokens()
        self._check_parentheses()
        self._check_connectives()
        try:
            tree = sqlglot.parse_one(text, read="oracle", into=exp.Condition)
            self._check_nodes(tree)
            return exp.Paren(this=self._condition(tree, depth=1))
        except ParseError as exc:
            raise self._parse_error(exc) from None
        except RecursionError:  # a safety net under the limits above
            raise self.error_at(0, text[:20], "the filter is too complex to check",
                                "write it with fewer conditions; use IN (...) for lists of values") from None

    # -- text-level checks: things the tree would hide or lose ------------------------

    def _check_tokens(self) -> None:
        try:
            self.tokens = Oracle().tokenize(self.text)
        except TokenError:
            start = _unterminated_quote(self.text)
            raise self.error_at(start, self.text[start:start + 20], "this quoted text is never closed",
                                "close it with a matching quote") from None
        comment = _find_comment(self.text)
        if comment is not None:
            raise self.error_at(comment, self.text[comment:comment + 20], "comments are not allowed in a filter",
                                "remove the -- or /* */ part")
        for tok in self.tokens:
            if tok.token_type == TokenType.SEMICOLON:
                raise self.error_at(tok.start, self.text[tok.start:], "only one condition is allowed",
                                    "remove the ';' and everything after it")
            if tok.token_type in _PLACEHOLDER_TOKENS:
                raise self.error_at(tok.start, self.text[tok.start:tok.end + 8].split()[0],
                                    "placeholders (?, :name, &name, @name) are not allowed",
                                    "write the value itself, in quotes: ABAN8 = '4242'")
            if tok.token_type == TokenType.IDENTIFIER:  # "double-quoted"
                raise self.error_at(tok.start, self.text[tok.start:tok.end + 1], "quoted names are not allowed",
                                    f"write the column name without quotes: {tok.text.upper()}")

    def _check_characters(self) -> None:
        """Strict Oracle text outside quotes: ASCII only, and only space, tab, CR and LF between words."""
        for i, ch in _scan_outside_quotes(self.text):
            if ch in _WHITESPACE or (" " < ch < "\x7f" and ch not in _NOT_ORACLE):
                continue
            if ch in _NOT_ORACLE:
                raise self.error_at(i, ch, f"{_NOT_ORACLE[ch]} is not Oracle syntax",
                                    "write a list as IN ('4242', '1003'), and column names without quotes")
            name = f"U+{ord(ch):04X} {unicodedata.name(ch, '(a control character)')}"
            if ch.isspace() or unicodedata.category(ch)[0] in "CZ":
                raise self.error_at(i, ch, f"the character {name} is not allowed outside quotes",
                                    "separate words with spaces, tabs or line breaks only")
            raise self.error_at(i, ch, f"the character {ch!r} ({name}) is not allowed outside quotes",
                                "column names and keywords are plain ASCII letters and digits, "
                                "e.g. AICO; text values go in single quotes")

    def _check_oracle_tokens(self) -> None:
        """Forms sqlglot reads from other dialects that Oracle refuses (or reads otherwise)."""
        for previous, tok in zip([None, *self.tokens], self.tokens, strict=False):
            if tok.token_type == TokenType.JOIN_MARKER:
                raise self.error_at(tok.start, tok.text, "the outer-join marker (+) is not allowed",
                                    "compare the column alone, e.g. ABAN8 = 4242")
            if tok.token_type == TokenType.EQ and tok.text != "=":
                raise self.error_at(tok.start, tok.text, f"{tok.text} is not an Oracle operator",
                                    "write = for equal")
            if tok.token_type == TokenType.NOT and tok.text.upper() != "NOT":
                raise self.error_at(tok.start, tok.text, f"{tok.text} is not an Oracle operator",
                                    "write NOT before a condition, or != / <> for not equal")
            if tok.token_type == TokenType.COMMA and previous is not None and previous.token_type in (
                    TokenType.L_PAREN, TokenType.COMMA):
                raise self.error_at(tok.start, tok.text, "an item of this list is empty",
                                    "remove the extra comma: ABAN8 IN ('4242', '1003')")
            if tok.token_type == TokenType.R_PAREN and previous is not None and previous.token_type == TokenType.COMMA:
                raise self.error_at(previous.start, previous.text, "the list ends with a comma",
                                    "remove the comma after the last value: ABAN8 IN ('4242', '1003')")

    def _check_connectives(self) -> None:
        words = [tok for tok in self.tokens if tok.token_type in (TokenType.AND, TokenType.OR)]
        if len(words) > self.policy.max_connectives:
            extra = words[self.policy.max_connectives]
            raise self.error_at(extra.start, extra.text,
                                f"the filter joins more than {self.policy.max_connectives} conditions with AND / OR",
                                "use IN (...) for lists of values, e.g. ABAN8 IN ('4242', '1003')")

    def _check_parentheses(self) -> None:
        opened: list[int] = []
        for tok in self.tokens:
            if tok.token_type == TokenType.L_PAREN:
                opened.append(tok.start)
            elif tok.token_type == TokenType.R_PAREN:
                if not opened:
                    raise self.error_at(tok.start, ")", "this ')' closes nothing", "remove it or add the '(' it closes")
                opened.pop()
        if opened:
            raise self.error_at(opened[-1], self.text[opened[-1]:opened[-1] + 20], "this '(' is never closed",
                                "add the ')' that closes it")

    def _parse_error(self, exc: ParseError) -> RestrictionError:
        info = exc.errors[0] if exc.errors else {}
        highlight = info.get("highlight") or ""
        line, col = info.get("line"), info.get("col")
        start = _offset(self.text, line, col - len(highlight) + 1) if line and col else len(self.text)
        return self.error_at(start, highlight or self.text[start:start + 20],
                             f"the filter cannot be read at {highlight or 'the end'!r}",
                             f"write one condition, for example {EXAMPLE}, joined with AND / OR")

    # -- the generic walk: every node must be a kind the policy lists --------------------

    def _check_nodes(self, tree: exp.Expression) -> None:
        for node in tree.walk(bfs=False):
            kind = type(node).__name__
            if kind in self.allowed_nodes:
                continue
            if isinstance(node, exp.Func) and _function_name(node) in self.policy.functions:
                written = self._written_name(node)
                if written is not None and written.text.upper() != _function_name(node):
                    raise self.error_at(written.start, written.text,
                                        f"function {written.text.upper()} is not an Oracle function",
                                        f"allowed functions: {', '.join(sorted(self.policy.functions))}")
                continue
            raise self._refused(node)
        for column in tree.find_all(exp.Column):
            if column.args.get("join_mark"):
                raise self.error_node(column, "the outer-join marker (+) is not allowed",
                                      "compare the column alone, e.g. ABAN8 = 4242")

    def _written_name(self, node: exp.Expression):
        """The token of a function's name as typed (sqlglot reads UCASE(x) as UPPER(x))."""
        if node._meta and "start" in node.meta:  # sqlglot places a function at its name
            return next((tok for tok in self.tokens if tok.start == node.meta["start"]), None)
        starts = [sub.meta["start"] for sub in node.walk() if sub._meta and "start" in sub.meta]
        if not starts:
            return None
        before = [tok for tok in self.tokens if tok.end < min(starts)]
        while before and before[-1].token_type == TokenType.L_PAREN:
            before.pop()
        return before[-1] if before else None

    def _refused(self, node: exp.Expression) -> RestrictionError:
        known = next((label for cls, label in _REFUSED_NAMES.items()
                      if isinstance(node, cls) and cls is not exp.Anonymous), None)
        if known is None and isinstance(node, exp.Func):
            name = _function_name(node)
            written = self._written_name(node)
            if written is not None and written.token_type == TokenType.VAR:
                name = written.text.upper()  # LCASE, not the LOWER sqlglot reads it as
            allowed = ", ".join(sorted(self.policy.functions)) or "none"
            return self.error_node(node, f"function {name} is not allowed", f"allowed functions: {allowed}")
        for label, classes in _OPERATOR_NODES.items():
            if classes == (type(node),) and label not in self.policy.operators:
                return self.error_node(node, f"operator {label} is not allowed",
                                       f"allowed: {', '.join(sorted(self.policy.operators))}")
        name = known or f"{type(node).__name__} ({node.sql('oracle')[:40]})"
        return self.error_node(node, f"{name} is not allowed in a filter",
                               "a filter compares allowed columns with values, joined with AND / OR / NOT")

    # -- the shape: conditions compare one allowed column with values ------------------

    def _condition(self, node: exp.Expression, *, depth: int) -> exp.Expression:
        if depth > self.policy.max_depth:
            raise self.error_node(node, f"the filter is nested more than {self.policy.max_depth} levels deep",
                                  "write it with fewer parentheses / NOTs")
        if isinstance(node, exp.Paren):
            return exp.Paren(this=self._condition(node.this, depth=depth + 1))
        if isinstance(node, (exp.And, exp.Or)):
            # a chain of the same connective is one level, however long
            left_depth = depth if type(node.this) is type(node) else depth + 1
            right_depth = depth if type(node.expression) is type(node) else depth + 1
            return type(node)(this=self._condition(node.this, depth=left_depth),
                              expression=self._condition(node.expression, depth=right_depth))
        if isinstance(node, exp.Not):
            inner = node.this
            if isinstance(inner, (exp.In, exp.Like, exp.Is)):
                return exp.Not(this=self._predicate(inner))
            return exp.Not(this=self._condition(inner, depth=depth + 1))
        if isinstance(node, (exp.Column, exp.Literal, exp.Null, exp.Neg)):
            raise self.error_node(node, f"{node.sql('oracle')} alone is not a condition",
                                  f"compare a column with a value, for example {EXAMPLE}")
        return self._predicate(node)

    def _predicate(self, node: exp.Expression) -> exp.Expression:
        # Some forms carry their NOT as a flag (x NOT LIKE y -> Like(negate=True)): keep it.
        if node.args.get("negate"):
            label = {exp.Like: "NOT LIKE", exp.In: "NOT IN", exp.Is: "IS NOT NULL"}.get(type(node), "NOT")
            if label not in self.policy.operators or "NOT" not in self.allowed_nodes and label == "NOT":
                raise self.error_node(node, f"operator {label} is not allowed",
                                      f"allowed: {', '.join(sorted(self.policy.operators))}")
            positive = node.copy()
            positive.set("negate", None)
            return exp.Not(this=self._predicate(positive))
        known = _PREDICATE_ARGS.get(type(node))
        unknown = [key for key, value in node.args.items() if value and key not in (known or ())]
        if known is not None and unknown:  # a form this checker does not know: refuse, never drop it
            raise self.error_node(node, f"this form of {type(node).__name__.upper()} is not allowed ({', '.join(unknown)})",
                                  "write plain comparisons, IN, BETWEEN, LIKE or IS NULL")
        if type(node) in _COMPARISONS:
            ref = self._column(node.this, node)
            return type(node)(this=self._column_sql(ref, pattern=False),
                              expression=self._value(node.expression, ref))
        if isinstance(node, exp.In):
            ref = self._column(node.this, node)
            values = node.expressions
            if not values:
                raise self.error_node(node, "IN needs at least one value", "write ABAN8 IN ('4242', '1003')")
            if len(values) > self.policy.max_in_list:
                raise self.error_node(node, f"the IN list has {len(values):,} values",
                                      f"the most allowed in one list is {self.policy.max_in_list:,}")
            column = self._column_sql(ref, pattern=False)
            binds = [self._value(v, ref) for v in values]
            if ref.rule.name == NUMBER_COLUMN and ref.function is None:
                self.number_in_params.update(b.name for b in binds)
            return self._in_list(column, binds)
        if isinstance(node, exp.Between):
            ref = self._column(node.this, node)
            return exp.Between(this=self._column_sql(ref, pattern=False),
                               low=self._value(node.args["low"], ref), high=self._value(node.args["high"], ref))
        if isinstance(node, exp.Like):
            ref = self._column(node.this, node)
            if not ref.rule.is_text:
                raise self.error_node(node, f"LIKE compares text but {ref.rule.name} is a number",
                                      f"use =, IN or BETWEEN with {ref.rule.name}")
            return exp.Like(this=self._column_sql(ref, pattern=True), expression=self._value(node.expression, ref, pattern=True))
        if isinstance(node, exp.Is):
            ref = self._column(node.this, node)
            if not isinstance(node.expression, exp.Null):
                raise self.error_node(node.expression, "IS is only for IS NULL / IS NOT NULL", "compare values with =")
            return exp.Is(this=self._column_sql(ref, pattern=False), expression=exp.Null())
        raise self._refused(node)

    def _column(self, node: exp.Expression, predicate: exp.Expression) -> _ColumnRef:
        function = None
        if isinstance(node, exp.Func) and not isinstance(node, exp.Column):
            function = _function_name(node)
            args = [a for a in node.iter_expressions()]
            if len(args) != 1 or not isinstance(args[0], exp.Column):
                raise self.error_node(node, f"{function} may only be applied to one column",
                                      f"for example {function}(ABALPH) LIKE 'ACME%'")
            node = args[0]
        if not isinstance(node, exp.Column):
            other = predicate.args.get("expression")
            if isinstance(other, exp.Column):
                raise self.error_node(node, "write the column first and the value after it",
                                      f"for example {other.sql('oracle')} = {node.sql('oracle')}")
            raise self.error_node(node, f"a condition must start with an allowed column, not {node.sql('oracle')[:30]}",
                                  f"comparisons of values only (like 1 = 1) are refused; allowed columns: {self.policy.column_names()}")
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise self.error_node(node, "qualified names are not allowed",
                                  f"write the column alone: {node.name.upper()}")
        if node.this.args.get("quoted"):
            raise self.error_node(node, "quoted names are not allowed", f"write {node.name.upper()} without quotes")
        rule = self.policy.columns.get(node.name.upper())
        if rule is None:
            raise self.error_node(node, f"column {node.name.upper()} is not allowed",
                                  f"allowed: {self.policy.column_names()}")
        if function and not rule.is_text:
            raise self.error_node(node, f"{function} applies to text; {rule.name} is a number",
                                  f"compare {rule.name} directly")
        self.columns.add(rule.name)
        return _ColumnRef(rule, function)

    def _column_sql(self, ref: _ColumnRef, *, pattern: bool) -> exp.Expression:
        column: exp.Expression = exp.column(ref.rule.name)
        if ref.function or pattern:
            # text as typed: JDE pads char columns and right-justifies business units
            trim = "RTRIM" if ref.rule.type == "char" else "LTRIM"
            column = exp.Anonymous(this=trim, expressions=[column])
            if ref.rule.type == "business_unit":
                column = exp.Anonymous(this="RTRIM", expressions=[column])
            # a blank value is NULL after trimming, as Oracle has it ('' is NULL there), so that
            # LIKE, NOT LIKE and UPPER(...) comparisons leave blank values out on every database
            # (the '' is bound too, so that no quote of any kind is written into the SQL)
            self.params[BLANK_PARAM] = ""
            column = exp.Nullif(this=column, expression=exp.Placeholder(this=BLANK_PARAM))
        if ref.function:
            column = exp.Anonymous(this=ref.function, expressions=[column])
        return column

    def _value(self, node: exp.Expression, ref: _ColumnRef, *, pattern: bool = False) -> exp.Expression:
        negative = False
        literal = node
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
            negative, literal = True, node.this
        if isinstance(literal, exp.Column) or (isinstance(literal, exp.Func) and not isinstance(literal, exp.Literal)):
            raise self.error_node(node, "a column may only be compared with values, not with another column",
                                  "write a value in quotes, for example ABAC01 = 'NTH'")
        if isinstance(literal, exp.Null):
            raise self.error_node(node, "nothing is equal to NULL", f"write {ref.rule.name} IS NULL or IS NOT NULL")
        if not isinstance(literal, exp.Literal):
            raise self._refused(node)
        raw = ("-" if negative else "") + literal.this
        try:
            if ref.function or pattern:
                value: object = ref.rule.check_text(raw, pattern=pattern)
            else:
                value = ref.rule.bind_value(raw, is_string=literal.is_string)
        except ValueRefused as exc:
            raise self.error_node(node, str(exc), _type_hint(ref.rule)) from None
        self.values += 1
        if self.values > self.policy.max_values:
            raise self.error_node(node, f"the filter has more than {self.policy.max_values:,} values",
                                  "split the accounts over fewer, broader conditions")
        name = f"f{self.values}"
        self.params[name] = value
        return exp.Placeholder(this=name)

    def _in_list(self, column: exp.Expression, binds: list[exp.Expression]) -> exp.Expression:
        if self.dialect != "oracle" or len(binds) <= ORACLE_IN_LIMIT:
            return exp.In(this=column, expressions=binds)
        groups = [exp.In(this=column.copy(), expressions=binds[i:i + ORACLE_IN_LIMIT])
                  for i in range(0, len(binds), ORACLE_IN_LIMIT)]
        return exp.Paren(this=exp.or_(*groups, wrap=False))

    # -- positions ------------------------------------------------------------------------

    def error_node(self, node: exp.Expression, problem: str, hint: str = "") -> RestrictionError:
        start, end = self._span(node)
        return self.error_at(start, self.text[start:end + 1] if end >= start else node.sql("oracle"), problem, hint)

    def error_at(self, start: int, fragment: str, problem: str, hint: str = "") -> RestrictionError:
        line = self.text.count("\n", 0, start) + 1
        col = start - (self.text.rfind("\n", 0, start) + 1) + 1
        return RestrictionError(problem, line=line, col=col, fragment=fragment.strip() or fragment, hint=hint)

    def _span(self, node: exp.Expression) -> tuple[int, int]:
        """Offsets of the first and last character of node in the text (sqlglot positions
        identifiers and literals; keywords such as NOT, EXISTS or a function name are found
        among the tokens before them)."""
        starts, ends = [], []
        for sub in node.walk():
            meta = sub.meta if sub._meta else {}
            if "start" in meta:
                starts.append(meta["start"])
                ends.append(meta["end"])
        floor = self._lower_bound(node)
        limit = min(starts) if starts else len(self.text)
        keyword = _keyword(node)
        after = [tok for tok in self.tokens if floor <= tok.start < limit]
        named = [tok for tok in after if keyword and tok.text.upper() == keyword]
        if named:  # the keyword nearest to the positioned content, or the first one
            tok = named[-1] if starts else named[0]
            starts.append(tok.start)
            ends.append(tok.end)
        elif not starts:
            words = [tok for tok in after if tok.token_type not in _PUNCTUATION]
            if words:
                starts.append(words[0].start)
                ends.append(words[0].end)
        if not starts:
            return floor, len(self.text) - 1
        return min(starts), max(ends)

    def _lower_bound(self, node: exp.Expression) -> int:
        """Where node's text can begin: after the text of the sibling before it."""
        parent = node.parent
        if parent is None:
            return 0
        siblings = list(parent.iter_expressions())
        index = next((i for i, s in enumerate(siblings) if s is node), 0)
        for previous in reversed(siblings[:index]):
            ends = [m.meta["end"] for m in previous.walk() if m._meta and "end" in m.meta]
            if ends:
                return max(ends) + 1
        return self._lower_bound(parent)


def _keyword(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Func) and not isinstance(node, exp.Column):
        return _function_name(node)
    if isinstance(node, (exp.Select, exp.Subquery)):
        return "SELECT"
    words = {exp.Exists: "EXISTS", exp.Not: "NOT", exp.Paren: "(", exp.Null: "NULL", exp.Case: "CASE", exp.Cast: "CAST",
             exp.Interval: "INTERVAL", exp.Star: "*"}
    if isinstance(node, exp.Boolean):
        return "TRUE" if node.this else "FALSE"
    return next((word for cls, word in words.items() if isinstance(node, cls)), None)


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).upper()
    return node.sql_name() if hasattr(node, "sql_name") else type(node).__name__.upper()


def _type_hint(rule: ColumnRule) -> str:
    if rule.type == "integer":
        return f"{rule.name} takes whole numbers such as 4242 or '4242'"
    if rule.type == "business_unit":
        return f"{rule.name} takes a business unit of up to {rule.width} characters, such as '30'"
    return f"{rule.name} takes text of up to {rule.width} characters, in single quotes"


def _offset(text: str, line: int, col: int) -> int:
    """The offset of a 1-based (line, col) as sqlglot counts them (CR, LF and CR LF each end a line)."""
    start = 0
    for _ in range(line - 1):
        found = _LINE_BREAK.search(text, start)
        if found is None:
            return len(text)
        start = found.end()
    return max(0, min(len(text), start + col - 1))


def _scan_outside_quotes(text: str):
    """Yield (offset, char) for characters outside '...' and "..." quotes."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
            continue
        yield i, ch


def _find_comment(text: str) -> int | None:
    for i, _ch in _scan_outside_quotes(text):
        if text.startswith("--", i) or text.startswith("/*", i):
            return i
    return None


def _unterminated_quote(text: str) -> int:
    quote, start = None, len(text)
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote, start = ch, i
    return start if quote else max(0, len(text) - 1)
