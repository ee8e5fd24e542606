"""The activities of the subscriber-side procedures (issue 6), listed once for ``worker.ACTIVITIES``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities import biometrics, eds, mailbox, mobile_citizens, numbers, otp, state_registry

__all__ = ["SUBSCRIBER_ACTIVITIES"]

SUBSCRIBER_ACTIVITIES: list[Callable[..., Any]] = [
    otp.issue_secret,
    otp.verify_secret,
    biometrics.record_biometric_check,
    state_registry.check_identity,
    mobile_citizens.connected_numbers,
    mobile_citizens.connect_number,
    numbers.numbers_held,
    numbers.contract_signed,
    numbers.register_numbers,
    numbers.record_numbers_decision,
    numbers.prior_application,
    mailbox.create_mailbox,
    mailbox.mark_mailbox,
    eds.issue_subscriber_certificate,
    eds.build_signed_zip,
]
