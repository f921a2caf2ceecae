"""E-mail templates: templates/email/<name>.txt (required; its first line is `Subject: ...`) and
<name>.html (optional, autoescaped), rendered with Jinja2 from a plain context."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ecgateway.errors import GatewayError

# A message never carries a password or a session id (security bar): such context keys are refused.
_FORBIDDEN_KEYS = re.compile(r"pass(word|wd)?|session|secret|cookie|csrf", re.IGNORECASE)


class MailTemplateError(GatewayError):
    """A message could not be rendered as asked (unknown template, missing subject, forbidden key)."""

    status = 500


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str  # "" when the template has no .html part


def render(templates_dir: Path, name: str, context: Mapping[str, Any]) -> Rendered:
    """The subject, text and HTML of template `name` with `context`."""
    if not re.fullmatch(r"[a-z0-9_]{1,64}", name):
        raise MailTemplateError(f"e-mail template name {name!r}: use lower-case letters, digits and _")
    bad = sorted(k for k in context if _FORBIDDEN_KEYS.search(k))
    if bad:
        raise MailTemplateError(f"e-mail context key(s) {', '.join(bad)} refused: a message never carries a password, "
                                "a session id or a secret")
    text_env, html_env = _environments(str(templates_dir))
    try:
        raw = text_env.get_template(f"email/{name}.txt").render(**context)
    except jinja2.TemplateNotFound:
        raise MailTemplateError(f"no e-mail template {templates_dir / 'email' / (name + '.txt')}") from None
    first, _, body = raw.lstrip("\n").partition("\n")
    if not first.startswith("Subject:"):
        raise MailTemplateError(f"e-mail template {name}.txt must start with a 'Subject: ...' line")
    subject = " ".join(first.removeprefix("Subject:").split())
    try:
        html = html_env.get_template(f"email/{name}.html").render(subject=subject, **context)
    except jinja2.TemplateNotFound:
        html = ""
    return Rendered(subject=subject, text=body.lstrip("\n"), html=html)


@lru_cache(maxsize=8)
def _environments(templates_dir: str) -> tuple[jinja2.Environment, jinja2.Environment]:
    loader = jinja2.FileSystemLoader(templates_dir)
    text = jinja2.Environment(loader=loader, autoescape=False, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)
    html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    return text, html
