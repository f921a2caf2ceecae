"""Work with Accounts: the one query that decides which accounts a rep may serve."""

from ecgateway.accounts.policy import ColumnRule, Policy, default_policy, load_policy
from ecgateway.accounts.query import SORT_KEYS, BaseQueryError, WorkWithAccounts
from ecgateway.accounts.restrictions import (
    CompiledFilter,
    RestrictionError,
    compile_filter,
    validate_filter,
)
from ecgateway.accounts.service import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AccountPage,
    AccountRow,
    AccountScope,
    CursorError,
    all_scope,
    compiled_sql,
    count_accounts,
    filter_scope,
    get_account,
    is_customer_account,
    list_accounts,
    may_act,
    rep_scope,
)
from ecgateway.accounts.store import (
    NotARepError,
    clear_restriction,
    get_restriction,
    last_change,
    set_restriction,
)

__all__ = [
    "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "SORT_KEYS", "AccountPage", "AccountRow", "AccountScope",
    "BaseQueryError", "ColumnRule", "CompiledFilter", "CursorError", "NotARepError", "Policy",
    "RestrictionError", "WorkWithAccounts", "all_scope", "clear_restriction", "compile_filter",
    "compiled_sql", "count_accounts", "default_policy", "filter_scope", "get_account",
    "get_restriction", "is_customer_account", "last_change", "list_accounts", "load_policy", "may_act", "rep_scope", "set_restriction",
    "validate_filter",
]
