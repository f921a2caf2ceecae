"""Every action the gateway audits: its name, the detail keys its entries may carry, and its
words in the transaction log. record() refuses an action or a detail key that is not here, so
this table is the whole list; to audit something new, add it here first.

Words are templates over: who (the actor's login), acct ("account 4242"), obj (the entry's
object), target (obj without the action's object prefix), why (" (reason)" when there is a
reason), total (" (12.50 USD)" for orders), source (" (editor)" when there is a source) and the
entry's detail keys. An action without words is told the generic way: "Cart add: who · obj".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Action:
    name: str
    detail_keys: frozenset[str]
    words: str | None = None  # outcome ok (and every outcome without its own words)
    refused: str | None = None  # outcome refused
    failed: str | None = None  # outcome error
    object_prefix: str = ""  # cut from the object to give {target}
    defaults: Mapping[str, str] = field(default_factory=dict)  # for detail keys an entry may lack

    def template(self, outcome: str) -> str | None:
        if outcome == "refused":
            return self.refused or self.words
        if outcome == "error":
            return self.failed or self.words
        return self.words


_SHOPPING = {"on_behalf", "billing_an8", "reason"}  # every cart entry; reason when refused

_ACTIONS = (
    # sign-in, sign-out, passwords (auth, admin.users)
    Action("auth.sign_in", frozenset({"reason", "ip", "user_id"}),
           words="Signs in: {who}", refused="Sign-in refused: {obj_or_who}{why}"),
    Action("auth.sign_out", frozenset(), words="Signs out: {who}"),
    Action("auth.password_set", frozenset({"user_id", "through"}),
           words="Password set: {obj} chose a password through their set-password link"),
    # on behalf of (obo.service, auth.sessions when a session ends)
    # obo_reason: the rep's reason or ticket for the session (ECGW_OBO_REASON); reason: why refused or ended.
    Action("obo.start", frozenset({"billing_an8", "reason", "obo_reason"}),
           words="Impersonation starts: {who} starts acting on behalf of {acct}{for_reason}",
           refused="Impersonation refused: {who} may not act on behalf of {acct}{why}"),
    Action("obo.change", frozenset({"billing_an8", "from_an8", "obo_reason"}),
           words="Impersonation changes: {who} now acts on behalf of {acct}{for_reason}"),
    Action("obo.end", frozenset({"reason", "obo_reason", "started_at", "start_seq"}),
           words="Impersonation ends: {who} stops acting on behalf of {acct}{why}"),
    Action("obo.extend", frozenset({"ends_at", "minutes", "start_seq"}),
           words="Impersonation extended: {who} extends the session for {acct} by {minutes} minutes, to {ends_at}"),
    Action("obo.billing", frozenset({"on_behalf", "billing_an8"}),
           words="Billing address chosen: {who} bills {acct} to address {billing_an8}", defaults={"billing_an8": "{obj}"}),
    Action("obo.shipping", frozenset({"on_behalf", "billing_an8", "shipping_an8"}),
           words="Shipping address chosen: {who} ships {acct} to address {shipping_an8}",
           defaults={"shipping_an8": "{obj}"}),
    # the customer's own account: receipts of on-behalf-of sessions (obo.receipts); contacts registered by a rep
    Action("account.receipts", frozenset({"obo_receipts"}),
           words="Receipts setting: {who} sets e-mailed receipts of representatives' sessions for {acct} to {obo_receipts}"),
    Action("contact.register", frozenset({"user_id", "contact_login", "contact_name", "email", "on_behalf", "reason"}),
           words="Contact registered: {who} registers {contact_name} ({contact_login}) as a user of {acct}",
           refused="Contact not registered: {who} could not register a user for {acct}{why}"),
    # carts (commerce.carts; refusals by the web layer)
    Action("cart.add", frozenset({*_SHOPPING, "quantity", "cart_quantity"})),
    Action("cart.change", frozenset({*_SHOPPING, "quantity"})),
    Action("cart.remove", frozenset(_SHOPPING)),
    Action("cart.empty", frozenset({*_SHOPPING, "carts", "lines", "customer_lines"}),
           words="Carts emptied: {who} empties {carts} carts of {acct} ({lines} lines, {customer_lines} of them in the "
                 "customer's own cart)",
           refused="Empty Cart refused: {who} could not empty the carts of {acct}{why}",
           defaults={"carts": "the", "lines": "all", "customer_lines": "an unrecorded number"}),
    # orders (commerce.orders, commerce.outbox)
    Action("order.place", frozenset({"on_behalf", "sold_to", "ship_to", "lines", "total", "currency", "erp_key",
                                     "reason"}),
           words="Order placed: {who} placed {obj} for {acct}{total}",
           refused="Order refused: {who} could not place an order for {acct}{why}",
           failed="Order refused: {who} could not place an order for {acct}{why}"),
    Action("order.replay", frozenset({"on_behalf"}),
           words="Order resent: {who} sent {obj} again for {acct}; the first result was returned"),
    Action("order.sent", frozenset({"erp_reference", "erp_status", "attempts", "relay"})),
    Action("order.rejected", frozenset({"reason", "relay"}),
           words="Order rejected by JD Edwards: {obj} for {acct}{why}"),
    Action("order.reorder", frozenset({"on_behalf", "lines", "reason"}),
           words="Rejected order back in the cart: {who} puts the lines of {obj} for {acct} back in the cart to place "
                 "it again{why}",
           refused="Rejected order not put back: {who} could not put the lines of {obj} back in the cart{why}"),
    # managed lists (commerce.lists): a rep prepares, the customer accepts or rejects, an order closes it
    Action("list.create", frozenset({*_SHOPPING, "lines", "quoted", "expires_at", "mailed_to"}),
           words="List prepared: {who} saves {obj} for {acct} ({lines} lines, e-mailed to {mailed_to})",
           refused="List not saved: {who} could not save a list for {acct}{why}",
           defaults={"lines": "?", "mailed_to": "nobody"}),
    Action("list.open", frozenset({"on_behalf"}), words="List opened: {who} opens {obj} of {acct}"),
    Action("list.change", frozenset({"on_behalf", "item", "quantity", "dropped", "reason"}),
           words="List changed: {who} sets item {item} of {obj} to {quantity}",
           refused="List not changed: {who} could not change {obj}{why}"),
    Action("list.accept", frozenset({"on_behalf", "lines", "reason"}),
           words="List accepted: {who} puts {lines} lines of {obj} in the cart of {acct}",
           refused="List not accepted: {who} could not accept {obj}{why}"),
    Action("list.reject", frozenset({"on_behalf", "reason", "mailed_to"}),
           words="List rejected: {who} rejects {obj} for {acct}{why}",
           refused="List not rejected: {who} could not reject {obj}{why}"),
    Action("list.ordered", frozenset({"order_id", "erp_reference"}),
           words="List ordered: {obj} for {acct} is closed, order {order_id} reached JD Edwards as {erp_reference}"),
    # the admin console (admin.restrictions, admin.transfer, admin.users)
    Action("admin.restriction_set", frozenset({"rep_id", "old", "new", "change_id", "source"}),
           words="Restriction changed: {who} changes the restriction of {target}{source}", object_prefix="restriction of "),
    Action("admin.restriction_clear", frozenset({"rep_id", "old", "new", "change_id", "source"}),
           words="Restriction changed: {who} removes the restriction of {target}{source}",
           object_prefix="restriction of "),
    Action("admin.restriction_import", frozenset({"rows", "saved", "unchanged", "failed", "save_valid"}),
           words="Restrictions imported: {who} imported {saved} of {rows} rows ({obj})", defaults={"saved": "0", "rows": "0"}),
    Action("admin.user_create", frozenset({"user_id", "user_type", "dual_role_confirmed"}),
           words="User created: {who} adds {target} as {user_type}", object_prefix="user ", defaults={"user_type": "?"}),
    Action("admin.user_type", frozenset({"user_id", "from", "to", "signed_out_everywhere", "dual_role_confirmed"}),
           words="User type changed: {who} makes {target} {to} (was {from})", object_prefix="user ",
           defaults={"from": "?", "to": "?"}),
    Action("admin.user_deactivate", frozenset({"user_id", "signed_out_everywhere"}),
           words="User deactivated: {who} deactivates {target}", object_prefix="user "),
    Action("admin.user_reactivate", frozenset({"user_id", "signed_out_everywhere"}),
           words="User reactivated: {who} reactivates {target}", object_prefix="user "),
    Action("admin.user_right", frozenset({"user_id", "right", "granted"}),
           words="Right changed: {who}: {right} {granted} for {target}", object_prefix="user "),
    # the supervisor's view (admin.supervisor): an admin ends a rep's running on-behalf-of session
    Action("admin.obo_end", frozenset({"rep_id", "reason", "started_at"}),
           words="On-behalf-of ended by an administrator: {who} ends {target}'s session for {acct}{why}",
           object_prefix="rep "),
    Action("admin.user_link", frozenset({"user_id"}),
           words="Set-password link: {who} issues a new link for {target}", object_prefix="user "),
)

ACTIONS: Mapping[str, Action] = MappingProxyType({a.name: a for a in _ACTIONS})


def words(action: str, outcome: str, *, rep: str, account: int | None, obj: str, detail: Mapping) -> str:
    """One sentence for people, e.g. "Impersonation starts: ana starts acting on behalf of account 4242".

    Entries of actions no longer listed (written by an older version) are told the generic way.
    """
    who = rep or "someone not signed in"
    acct = f"account {account}" if account is not None else "no account"
    known = ACTIONS.get(action)
    template = known.template(outcome) if known else None
    if template is None:
        area, _, verb = action.partition(".")
        status = {"ok": "", "refused": " (refused)", "error": " (failed)"}.get(outcome, f" ({outcome})")
        target = f" for {acct}" if account is not None else ""
        return f"{area.capitalize()} {verb or ''}{status}: {who} · {obj}{target}".replace("  ", " ")
    reason, source = detail.get("reason"), detail.get("source")
    total = f" ({detail['total']} {detail.get('currency', '')})".rstrip() if detail.get("total") else ""
    fields = {
        **{k: v.format(obj=obj) for k, v in known.defaults.items()},
        **detail,
        "who": who, "acct": acct, "obj": obj, "obj_or_who": obj or who,
        "target": obj.removeprefix(known.object_prefix) if known.object_prefix else obj,
        "why": f" ({reason})" if reason else "", "total": total,
        "for_reason": f" · reason: {detail['obo_reason']}" if detail.get("obo_reason") else "",
        "source": f" ({source})" if source else "",
    }
    return template.format_map(_Blank(fields))


class _Blank(dict):
    """A missing field reads as empty rather than failing the whole log page."""

    def __missing__(self, key: str) -> str:
        return ""
