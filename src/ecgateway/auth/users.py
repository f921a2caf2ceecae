"""Portal users: create (a password hashed, or none until a set-password link is used) and find."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecgateway.auth.passwords import hash_password
from ecgateway.config import USER_TYPES
from ecgateway.errors import GatewayError
from ecgateway.portal.models import User


class UserError(GatewayError, ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(
    session: Session,
    *,
    login: str,
    name: str,
    user_type: str,
    email: str = "",
    password: str | None = None,
    account_an8: int | None = None,
) -> User:
    """Add a user; a Customer must name its JDE account, staff must not."""
    login = login.strip()
    if not login:
        raise UserError("login must not be empty")
    if user_type not in USER_TYPES:
        raise UserError(f"user type {user_type!r} is not one of {', '.join(USER_TYPES)}")
    if (user_type == "Customer") != (account_an8 is not None):
        raise UserError("a Customer user needs a JDE account number, and only a Customer has one")
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise UserError(f"login {login!r} is already taken")
    user = User(
        login=login, name=name, email=email, user_type=user_type, account_an8=account_an8,
        password_hash=hash_password(password) if password else None, active=True,
    )
    session.add(user)
    session.flush()
    return user


def get_by_login(session: Session, login: str) -> User | None:
    return session.scalar(select(User).where(User.login == login))
