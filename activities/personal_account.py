"""The applicant's personal account on the e-government portal: results, refusals and permits are delivered
there (58 Annex item 5; 665/NK p.7). Locally the ``personal_account_deliveries`` table, once per document."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from temporalio import activity

from infra.store import deliver_document
from models.documents import DeliverDocumentRequest

__all__ = [
    "LocalPersonalAccounts",
    "PersonalAccountActivities",
    "PersonalAccounts",
]


class PersonalAccounts(Protocol):
    """Puts a document in the recipient's personal account once; answers when it was (first) delivered."""

    def deliver(self, req: DeliverDocumentRequest) -> datetime: ...


class LocalPersonalAccounts:
    """The ``personal_account_deliveries`` table."""

    def deliver(self, req: DeliverDocumentRequest) -> datetime:
        return deliver_document(req.doc_id, req.case_id, req.recipient)


class PersonalAccountActivities:
    """The personal account's activity."""

    def __init__(self, accounts: PersonalAccounts) -> None:
        self.accounts = accounts

    @activity.defn(name="deliver_to_personal_account")
    def deliver_to_personal_account(self, req: DeliverDocumentRequest) -> datetime:
        """Put a document in the applicant's personal account on the portal; returns when it was delivered."""
        return self.accounts.deliver(req)
