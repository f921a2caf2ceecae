"""The ERP boundary: price lines, submit an order, read an order's status.

`make_erp(runtime)` builds the implementation ECGW_ERP_MODE names: `local` (the JDE tables
themselves, erp/local.py) or `ais` (a JDE AIS server over HTTP, erp/ais.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecgateway.erp.base import (
    Erp,
    ErpError,
    ErpRejected,
    ErpUnavailable,
    OrderLine,
    OrderReceipt,
    OrderStatus,
    OrderSubmission,
    PricedLine,
    PriceRequest,
    PriceRequestLine,
    PriceResult,
    PriceStep,
)

if TYPE_CHECKING:
    from ecgateway.runtime import Runtime

__all__ = [
    "Erp", "ErpError", "ErpRejected", "ErpUnavailable", "OrderLine", "OrderReceipt", "OrderStatus",
    "OrderSubmission", "PricedLine", "PriceRequest", "PriceRequestLine", "PriceResult", "PriceStep",
    "make_erp",
]


def make_erp(runtime: Runtime) -> Erp:
    """The ERP the settings name; the caller closes it when the process stops."""
    settings = runtime.settings
    if settings.erp_mode == "ais":
        from ecgateway.erp.ais import AisErp

        return AisErp(settings)
    from ecgateway.erp.local import LocalErp

    return LocalErp(runtime.jde_engine, runtime.jde, settings)
