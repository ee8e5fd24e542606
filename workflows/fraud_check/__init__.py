"""Fraud: identifying and suspending a number (act 171 as amended, ch.3 p.116–120; p.52(4)).

One case per suspect number (workflow id ``case_id("fraud_check", number)``, a keyed hash). Three ways in,
each an Update with a validator that also starts the case (update-with-start): a subscriber's report to
the reference service (p.52(4)), information from the National Bank antifraud centre incl. SIM boxes
(p.119), the operator's own detection (p.118), which informs the centre at once with the subscriber's
surname, name, patronymic, IIN and all numbers registered to the subscriber. Further reports join the open
case. The check takes 2 working days (p.119); confirmed → services suspended and the centre informed within
2 working days, not confirmed → the centre informed of that within 2 working days (p.120). A suspension is
lifted only by a recorded back-office decision with its reason.

Modules follow the paragraphs: ``workflow`` (``run``: registration, the check, suspension or the not-confirmed
notice, the lift), ``intake`` (the three ways in), ``notices`` (messages to the antifraud centre, p.118,
p.120), ``network`` (suspend and restore orders, p.120), ``decisions`` (the back office's outcome and lift),
``base`` (the case's state and view), ``spec`` (the catalogue entry).
"""

from __future__ import annotations

from workflows.fraud_check.base import ACT, PROCEDURE, fraud_case_id
from workflows.fraud_check.intake import opening_report
from workflows.fraud_check.spec import SPEC
from workflows.fraud_check.workflow import FraudCheck

__all__ = ["ACT", "PROCEDURE", "SPEC", "FraudCheck", "fraud_case_id", "opening_report"]
