"""Everything the handlers need, built once by the composition root (entrypoints/bootstrap.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from order_service.service_layer.ports import (
    Clock,
    DeliveryFiles,
    DevPaymentConfirmer,
    PaymentProvider,
    UnitOfWorkFactory,
)


@dataclass(frozen=True)
class HandlerDependencies:
    new_uow: UnitOfWorkFactory
    provider: PaymentProvider
    delivery_files: DeliveryFiles
    clock: Clock
    payment_window: timedelta
    # Only set in development and test (the local provider): `payments.devConfirm` is refused otherwise.
    dev_confirmer: DevPaymentConfirmer | None = None
    # An intent still unconfirmed this long after creation is checked with the provider (reconciliation).
    reconcile_after: timedelta = timedelta(minutes=2)
    # Test-only fault injection (settings refuse it elsewhere): called right after the provider confirmed
    # a payment and before the order is changed; the crash test's hook SIGKILLs the process.
    after_provider_success: Callable[[], None] | None = None
    # Raised for payment anomalies a person must look at: (kind, detail). Counted and logged as ERROR.
    alarm: Callable[[str, str], None] | None = None
