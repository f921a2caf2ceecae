"""Settings: one pydantic-settings class read from ECGW_* variables and an optional .env."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The checkout's root: sql/, restrictions/, templates/ and static/ live beside src/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Implied decimals of JDE amount columns, by data item. Installations differ: this one
# table (overridable with ECGW_DECIMALS='{"UPRC": 4, ...}') is the only place they live.
DEFAULT_DECIMALS: dict[str, int] = {
    "UPRC": 4,  # unit price
    "AEXP": 2,  # extended amount
    "LNID": 3,  # line number
    "FVTR": 4,  # adjustment factor
    "MNQ": 0,  # quantity break
    "UORG": 0,  # quantity ordered
    "ACL": 0,  # credit limit
    # F0015 exchange rates: "8 leading numbers, 7 trailing decimals" (CRR in "Adjust Spot Rate for
    # Default Conversion Method", https://docs.oracle.com/en/applications/jd-edwards/financials/9.2/
    # eoaem/adjust-spot-rate-for-default-conversion-method.html); CRRD the same *(check)*
    "CRR": 7,  # multiplier rate
    "CRRD": 7,  # divisor rate
}

# The base price preference hierarchy (JDE preference 51): the levels F4106 is searched in, first
# match wins. Default: the order Oracle gives from most specific to most general, "Understanding
# the Base Price Preference Hierarchy", https://docs.oracle.com/en/applications/jd-edwards/
# customer-relationship/9.2/eoapg/understanding-the-base-price-preference-hierarchy.html
# Sites arrange their own (P40073): set ECGW_PRICE_HIERARCHY='["item+customer", ...]' to theirs.
DEFAULT_PRICE_HIERARCHY: tuple[str, ...] = (
    "item+customer", "item+customer group", "item group+customer", "item group+customer group",
    "item group", "item",
)

# Each adjustment definition names its own preference hierarchy: F4071 ATPRFR holds a code of UDC
# 40/PR, and JDE searches that adjustment's F4072 details in the order the site arranged for that
# code in Preference Hierarchy Revisions (P40073), first level with a detail wins ("Price Adjustment
# Definition - Options", Preference Hierarchy: "when you create adjustments, you use this code to
# identify the hierarchy that the system follows for this adjustment", https://docs.oracle.com/en/
# applications/jd-edwards/customer-relationship/9.2/eoasm/price-adjustment-definition-options.html;
# ATPRFR "and its associated hierarchy is used for resolving pricing adjustments", https://docs.oracle.com/
# en/applications/jd-edwards/cross-product/9.2/eoaaa/preference-hierarchy.html). Oracle documents no
# default order for a code, so the local pricer refuses an adjustment whose code is not described here.
# The default describes only the code the demo data generator writes (jde/generator.py): a site sets
# ECGW_ADJUSTMENT_HIERARCHIES='{"<code>": ["item+customer", ..., "all items"], ...}' to its own, which
# replaces this default whole. Levels: 'item', 'item group' or 'all items', each optionally with
# '+customer' or '+customer group' (nothing: all customers).
DEMO_ADJUSTMENT_HIERARCHY = "EC"
DEFAULT_ADJUSTMENT_HIERARCHIES: dict[str, tuple[str, ...]] = {
    DEMO_ADJUSTMENT_HIERARCHY: (*DEFAULT_PRICE_HIERARCHY, "all items+customer", "all items+customer group",
                                "all items"),
}

UserType = Literal[
    "Internal_AR", "Internal_SalesRep", "Internal_CustomerService", "Admin", "Customer"
]
INTERNAL_TYPES: tuple[str, ...] = ("Internal_AR", "Internal_SalesRep", "Internal_CustomerService")
USER_TYPES: tuple[str, ...] = (*INTERNAL_TYPES, "Admin", "Customer")


class Settings(BaseSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="ECGW_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Folder for SQLite files, the secret key, artefacts")
    jde_url: str | None = Field(None, description="SQLAlchemy URL of the JDE database; default a SQLite file in data_dir")
    jde_read_url: str | None = Field(
        None, description="SQLAlchemy URL of a JDE login with SELECT grants only, for the pages' queries; "
        "default the JDE URL, opened read-only (SQLite, PostgreSQL)")
    jde_schema: str | None = Field(None, description="Schema of the JDE business data, e.g. PRODDTA; none on SQLite")
    portal_url: str | None = Field(None, description="SQLAlchemy URL of the portal database; default a SQLite file in data_dir")
    erp_mode: Literal["local", "ais"] = "local"
    secret_key: SecretStr | None = Field(None, description="Signs sessions and CSRF tokens; generated into data_dir when unset")
    restriction_default: Literal["allow", "deny"] = Field(
        "allow", description="What a rep with no row in EC_Impersonate_Restrictions may see"
    )
    allow_dual_role: bool = Field(
        False, description="Allow one person (same e-mail or name) to hold Admin and a rep type; refused when false. "
        "Even when true, that person cannot change their own restriction")
    cookie_secure: bool = Field(False, description="Secure + __Host- cookies; set true behind HTTPS")
    public_url: str | None = Field(
        None, description="The address people open, e.g. https://portal.example.com: forms are only accepted from "
        "this origin; unset, the request's own Host is trusted (fine on loopback, not behind a proxy)")
    keep_alive_seconds: int = Field(
        75, ge=1, le=3600, description="How long an idle HTTP keep-alive connection stays open; longer than a proxy's "
        "or client's own idle time (nginx and most load balancers: 60 s), so the gateway never closes a connection "
        "at the moment the other side sends on it")
    access_log: bool = Field(True, description="uvicorn's line per request on standard output; behind a proxy that "
                             "logs requests, false saves 7-10% of a worker's CPU on the picker (bench/RESULTS-search.md)")
    db_pool_size: int = Field(5, ge=1, le=200, description="Connections each engine keeps open per worker process "
                              "(three engines: portal, JDE reader, JDE writer)")
    db_max_overflow: int = Field(10, ge=0, le=200, description="Connections an engine may open beyond db_pool_size "
                                 "under a burst; closed again when returned")
    db_pool_timeout: float = Field(30.0, gt=0, le=600, description="Seconds a request waits for a free connection "
                                   "before it is answered 503 (busy, try again)")
    session_idle_minutes: int = 30
    session_absolute_minutes: int = 480
    search_refresh_seconds: float = Field(
        60.0, description="How often each gateway process refreshes the accounts search index from JDE's update "
        "stamps (0: never; `ecgateway search refresh` then does it)")
    # On-behalf-of sessions (obo/service.py): a reason at the start, and a time box per session.
    obo_reason: Literal["off", "optional", "required"] = Field(
        "optional", description="Reps give a reason or ticket number when they start acting: off (not asked), "
        "optional (asked), required (a start without one is refused)")
    obo_max_minutes: int = Field(60, ge=1, le=24 * 60, description="Length of one on-behalf-of session; it ends "
                                 "with a notice at its limit (the rep stays signed in, their cart is kept)")
    obo_extend_minutes: int | None = Field(None, ge=1, le=24 * 60, description="What the one extension adds; "
                                           "default ECGW_OBO_MAX_MINUTES")
    obo_warn_seconds: int = Field(120, ge=10, le=3600, description="The banner warns this long before the limit")
    company: str = Field("00000", description="JDE company the portal sells from (F03012 AICO)")
    decimals: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_DECIMALS))
    jde_timezone: str | None = Field(
        None, description="IANA time zone of the JDE server's business day (e.g. America/Chicago): Julian 'today' "
        "for effective dates and the dates written to JDE; unset, this machine's own time zone")
    jde_control_schema: str | None = Field(
        None, description="Schema of JDE's control tables (F0002 next numbers), e.g. PRODCTL; default the JDE schema")

    # Local ERP orders into the EDI inbound tables F47011/F47012 (see erp/local.py and the README).
    edi_numbers: Literal["next-numbers", "sequence"] = Field(
        "next-numbers", description="Where EDI document numbers come from: JDE next numbers (F0002, the system and "
        "line below, incremented under its row lock as JDE's own programs do) or a database sequence on the JDE side")
    edi_next_number_system: str = Field("47", description="F0002 NNSY of the EDI document number (system 47)")
    edi_next_number_line: int = Field(1, ge=1, le=10, description="F0002 line (NNN001..NNN010) of the EDI document number")
    edi_sequence: str = Field("ecgw_edi_document", description="Name of the JDE-side sequence for ECGW_EDI_NUMBERS=sequence")
    edi_wait_minutes: int = Field(
        60, ge=1, description="An EDI order still unprocessed (EDSP blank) after this many minutes is reported as "
        "waiting for R47011")
    edi_blank_datetime: dt.datetime = Field(
        dt.datetime(1900, 1, 1), description="What the gateway writes into F47011's DateTime columns (SYEXDT0..2, "
        "SYPOHU01..02), which take no NULL and carry no date for these orders; copy what your site's rows hold")
    jde_user: str = Field("ECGATEWAY", max_length=10, description="JDE audit column USER of the rows the gateway writes")
    jde_program_id: str = Field("ECGATEWAY", max_length=10, description="JDE audit column PID of the rows written")
    jde_job_number: str = Field("ECGATEWAY", max_length=10,
                                description="JDE audit column JOBN (workstation) of the rows written")
    price_hierarchy: tuple[str, ...] = Field(
        DEFAULT_PRICE_HIERARCHY,
        description="F4106 search levels in order (JSON list), each 'item' or 'item group' with '+customer',"
                    " '+customer group' or nothing (all customers)")
    adjustment_hierarchies: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_ADJUSTMENT_HIERARCHIES),
        description="F4072 search levels of each adjustment preference hierarchy (F4071 ATPRFR code -> JSON list"
                    " of levels, as ECGW_PRICE_HIERARCHY's plus 'all items'); an adjustment whose code is missing"
                    " refuses the line")
    domestic_currency: str = Field(
        "USD", description="The selling company's domestic currency (F0010 CRCD): JDE's fallback for F4106 prices")
    supervisor_alert_refusals: int = Field(
        5, ge=1, le=100_000, description="The supervisor's alert: a rep with this many refused attempts (refused "
        "on-behalf-of starts and refused actions) within one hour shows at the top of /admin/supervisor and is "
        "e-mailed to the admins")
    supervisor_alert_check_seconds: float = Field(
        30.0, gt=0, description="How often each gateway process looks for new alerts to e-mail to the admins")
    supervisor_alert_run_with_server: bool = Field(True, description="Look for alerts inside every gateway process")
    supervisor_refresh_seconds: int = Field(
        15, ge=2, le=3600, description="How often the supervisor's view refreshes its live sessions (without reloading)")
    supervisor_rollup_seconds: float = Field(
        60.0, ge=0, description="How often each gateway process's relay loop adds the audit entries of the days "
        "before today (UTC) to the supervisor's daily roll-up (0: never; the view then counts those entries live)")
    resources_dir: Path = Field(PROJECT_ROOT, description="Folder holding sql/, restrictions/, templates/, static/")

    # E-mail (mail/): unset smtp_host, each message is written as an .eml file under mail_dir instead.
    smtp_host: str | None = Field(None, description="SMTP server the mail sender hands messages to; unset: .eml files "
                                  "under mail_dir (the embedded default)")
    smtp_port: int = Field(587, ge=1, le=65535, description="587 for STARTTLS, 465 for TLS, 25 for plain relays")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls: upgrade the connection (RFC 3207); tls: TLS from the first byte (RFC 8314, "
        "port 465); none: plain, for a relay on loopback only")
    smtp_username: str | None = Field(None, description="SMTP login (AUTH), unset: no login")
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = Field(None, description="CA certificates (PEM) the SMTP server's certificate is checked "
                                      "against, e.g. a company CA; unset: the system's")
    smtp_timeout_seconds: float = Field(10.0, gt=0, description="Bound of one SMTP conversation")
    mail_from: str = Field("ecgateway <ecgateway@localhost>", description="From: of every message the gateway sends")
    mail_dir: Path | None = Field(None, description="Folder of the .eml files without SMTP; default data_dir/mail")
    mail_run_with_server: bool = Field(True, description="Run the mail sender inside every gateway process")
    mail_poll_seconds: float = Field(1.0, gt=0, description="How often an idle mail sender looks for due messages")
    mail_lease_seconds: float = Field(120.0, gt=0, description="How long a claimed message stays with one sender")
    mail_batch_size: int = Field(20, ge=1)
    mail_backoff_base_seconds: float = Field(2.0, gt=0, description="Retry wait after a failed send, doubling...")
    mail_backoff_cap_seconds: float = Field(600.0, gt=0, description="...up to this, jittered")
    link_days: float = Field(14.0, gt=0, description="Default lifetime of the signed links e-mails carry, in days")

    # Managed lists (commerce/lists.py): which accounts may receive them, by a JDE code of the account (F0101).
    lists_account_column: Literal["abat1", "abac01", "abac02", "abac03", "abac04", "abac05", "abac06", "abac07",
                                  "abac08", "abac09", "abac10"] = Field(
        "abac03", description="The F0101 column whose code says the account's type for managed lists (the demo data "
        "keeps the customer class in ABAC03: DST, RTL, OEM, GOV)")
    lists_account_types: tuple[str, ...] = Field(
        ("*",), description="Codes of that column whose accounts may receive managed lists (JSON list); [\"*\"]: every "
        "account; []: none")

    ais_url: str | None = None
    ais_username: str | None = None
    ais_password: SecretStr | None = None
    ais_environment: str = "JPS920"
    ais_role: str = "*ALL"
    ais_device_name: str = "ecgateway"
    ais_timeout_seconds: float = 10.0
    ais_price_orchestration: str = "EC_PriceCart"
    ais_order_orchestration: str = "EC_SubmitOrder"
    ais_status_orchestration: str = "EC_OrderStatus"
    ais_order_drops_duplicates: bool = Field(
        True, description="The order orchestration returns the first order for a repeated ExternalReference, "
        "so a keyed submit may be retried after a timeout (see erp/ais.py); false: never retried"
    )

    @field_validator("jde_timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"ECGW_JDE_TIMEZONE={value!r} is not a time zone name this machine knows; "
                                 "write an IANA name such as America/Chicago or UTC") from None
        return value or None

    @cached_property
    def jde_zone(self) -> dt.tzinfo | None:
        """The time zone of JDE's business day: ECGW_JDE_TIMEZONE; None means this machine's own."""
        return ZoneInfo(self.jde_timezone) if self.jde_timezone else None

    @cached_property
    def jde_database_url(self) -> str:
        return self.jde_url or f"sqlite:///{self.data_dir / 'jde.sqlite'}"

    @cached_property
    def portal_database_url(self) -> str:
        return self.portal_url or f"sqlite:///{self.data_dir / 'portal.sqlite'}"

    @cached_property
    def secret(self) -> str:
        """The secret key: from the environment, else from data_dir/secret_key, made on first use."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key

    @cached_property
    def mail_folder(self) -> Path:
        """Where the embedded default writes each message as an .eml file."""
        return self.mail_dir or self.data_dir / "mail"

    def resource(self, *parts: str) -> Path:
        return self.resources_dir.joinpath(*parts)


def get_settings() -> Settings:
    return Settings()
