"""The types of the application errors an activity raises and a workflow tells apart.

Shared vocabulary of activities (which raise them) and workflow code (which branches on them): it lives here,
with the other data both sides import, so that workflow code never imports an activity module for a string.
"""

from __future__ import annotations

__all__ = ["ACT_NOT_IN_FORCE", "SEALED_PASSWORD_INVALID", "SIGNATURE_REJECTED", "WEAK_EDS_PASSWORD"]

ACT_NOT_IN_FORCE = "ActNotInForce"
"""No version of the act governs the day of receipt (e.g. act 71 after Order 305/NK): non-retryable."""
WEAK_EDS_PASSWORD = "WeakEdsPassword"
"""The EDS password breaks the password policy (``rules.identifiers.eds_password_check``)."""
SEALED_PASSWORD_INVALID = "SealedPasswordInvalid"
"""The sealed EDS password cannot be opened by the issuer, or was sealed for another case."""
SIGNATURE_REJECTED = "SignatureRejected"
"""A subscriber's CMS signature is missing or does not verify."""
