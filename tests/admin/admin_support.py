"""Helpers for the admin tests: the environment value, users, acting contexts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ecgateway.accounts import WorkWithAccounts
from ecgateway.auth.users import create_user
from ecgateway.config import Settings
from ecgateway.obo.context import ActingContext, Actor
from ecgateway.portal.models import User

_numbers = itertools.count(1)


@dataclass
class AdminEnv:
    settings: Settings
    wwa: WorkWithAccounts
    jde_engine: object
    portal_engine: object
    an8s: list[int]  # every account of the base query, ascending

    def portal(self) -> Session:
        return Session(self.portal_engine, expire_on_commit=False)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}"


def make_user(env: AdminEnv, user_type: str, *, login: str | None = None, name: str | None = None,
              email: str = "", password: str | None = "correct-horse-battery", account_an8: int | None = None) -> User:
    with env.portal() as s:
        login = login or unique(user_type.split("_")[-1].lower())
        user = create_user(s, login=login, name=name or login.title(), user_type=user_type, email=email,
                           password=password, account_an8=account_an8)
        s.commit()
        return user


def context_of(user: User) -> ActingContext:
    return ActingContext(actor=Actor.of(user), subject_an8=None)
