"""Inputs of the documents activities (jinja2 notices, refusals, permits)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from models.base import Model

__all__ = ["DeliverDocumentRequest", "RenderDocumentRequest"]


class RenderDocumentRequest(Model):
    """Render ``template`` (a file in ``activities/templates``) into a stored document.

    ``doc_id`` is chosen by the workflow (e.g. ``<case id>/refusal``) so a retried render stores once.
    ``context`` holds the values the template shows; ``languages`` are rendered one after the other in
    the same document (Kazakh first, then Russian, as official documents are issued).
    """

    doc_id: str = Field(min_length=3, max_length=200)
    case_id: str
    kind: str
    title: str
    template: str
    cite: str = ""
    languages: list[str] = Field(default_factory=lambda: ["kk", "ru"])
    context: dict[str, Any] = Field(default_factory=dict)


class DeliverDocumentRequest(Model):
    """Deliver a document to the applicant's personal account on the portal (idempotent per document)."""

    doc_id: str
    case_id: str
    recipient: str  # the applicant's pseudonym (infra.pseudonym), never an IIN in clear
