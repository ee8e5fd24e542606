"""Signing the application to join the public contract with an EDS and biometrics (almatel-eds, seed 002).

Available to individuals whose number is in the Mobile Citizens Database. After the service is
connected at the address: (1) an SMS from EGOV 1414 brings a code that the subscriber gives the
technician; (2) an SMS from 3344 brings a unique, expiring link to the page showing the application
(personal data, services and tariff, address, equipment serial numbers); (3) the signing page is
opened; (4) consent to the Biometric ID privacy policy; (5) the 1414 code is entered; (6) biometric
identification; (7) consent to the issuance of an EDS; (8) the EDS password (policy: a letter, a digit,
a special character). A key pair and certificate are issued by the (local test) CA, the application is
signed (CMS) and a ZIP with the document, the signature and the certificates is downloadable.
Every step waits at most its operator-set term (``eds.stepN``); when one runs out the case records
the abandonment at that step.

Modules follow the steps: ``workflow`` (``run``, steps 1–8 in order, the end), ``access`` (steps 1–5: the
application, the 1414 code, the 3344 link, the page, privacy consent), ``signature`` (steps 6–8: biometrics,
EDS consent, the password, the signed ZIP), ``edge`` (codes and passwords turned into digests and sealed
passwords at the API), ``base`` (the case's state and steps), ``spec`` (the catalogue entry).
"""

from __future__ import annotations

from workflows.contract_eds_signing.base import ACT, PROCEDURE, STEPS
from workflows.contract_eds_signing.spec import SPEC
from workflows.contract_eds_signing.workflow import ContractSigning

__all__ = ["ACT", "PROCEDURE", "SPEC", "STEPS", "ContractSigning"]
