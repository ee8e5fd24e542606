"""The API's edge of the signing page: what the subscriber types becomes what the workflow may see. The opened
3344 link and the typed 1414 code become their keyed digests, the EDS password is checked against the policy
and sealed to the issuer; none of them ever reaches the case's history in clear.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.contract_eds_signing import PasswordEntry, SealedPassword, SigningView
    from models.identification import CodeEntry, SecretEntry

__all__ = ["code_at_the_edge", "link_at_the_edge", "password_at_the_edge"]


async def _signing_view(client: Any, case_id_: str) -> SigningView:
    return await client.get_workflow_handle(case_id_).query("signing", result_type=SigningView)


async def link_at_the_edge(client: Any, case_id_: str, entry: CodeEntry) -> SecretEntry:
    """The API's edge: the opened 3344 link becomes its keyed digest (never in history)."""
    from activities.otp import secret_digest  # at the edge only: the key comes from settings

    view = await _signing_view(client, case_id_)
    if view.link_id is None:
        raise ValueError("no 3344 link has been sent for this application yet")
    return SecretEntry(digest=secret_digest(view.link_id, entry.code.get_secret_value()))


async def code_at_the_edge(client: Any, case_id_: str, entry: CodeEntry) -> SecretEntry:
    """The API's edge: the typed 1414 code becomes its keyed digest (never in history)."""
    from activities.otp import secret_digest  # at the edge only: the key comes from settings

    view = await _signing_view(client, case_id_)
    if view.otp_id is None:
        raise ValueError("no 1414 code has been sent for this application yet")
    return SecretEntry(digest=secret_digest(view.otp_id, entry.code.get_secret_value()))


async def password_at_the_edge(client: Any, case_id_: str, entry: PasswordEntry) -> SealedPassword:
    """The API's edge: the policy is checked and the password sealed to the issuer for this case only."""
    from activities.eds import seal_eds_password  # at the edge only: the issuer's key

    return SealedPassword(sealed=seal_eds_password(case_id_, entry.password.get_secret_value()))
