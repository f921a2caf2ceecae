"""Imports every module that declares portal tables, so Base.metadata knows them all."""

from ecgateway.admin import models as admin_models  # noqa: F401  restriction history, set-password links
from ecgateway.audit import models as audit_models  # noqa: F401  audit entries and their hash chain head
from ecgateway.auth import models as auth_models  # noqa: F401  sessions, failed sign-ins
from ecgateway.commerce import models as commerce_models  # noqa: F401  carts, orders, idempotency keys, outbox
from ecgateway.mail import models as mail_models  # noqa: F401  the e-mail outbox
from ecgateway.portal import models  # noqa: F401  users, EC_Impersonate_Restrictions
