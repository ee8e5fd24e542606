"""A stored document as a file: its name and how the API hands it out (``infra.store.document_file_name``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from api.cases import document_response
from infra.store import document_file_name, load_document, store_document


def test_an_administrative_case_is_a_zip_by_its_name_and_is_saved_not_shown() -> None:
    """The complaint's administrative case (a ZIP) was saved and served as ``….html`` (an adversarial run,
    2026-12-04): a clerk opening it saw binary garbage. A letter stays ``.html``, shown inline."""
    case_id = f"complaint-{uuid.uuid4().hex[:12]}"
    for kind, media, content in (
        ("administrative-case", "application/zip", b"PK\x03\x04"),
        ("satisfied", "text/html; charset=utf-8", b"<p>letter</p>"),
    ):
        store_document(
            doc_id=f"{case_id}/{kind}",
            case_id=case_id,
            kind=kind,
            title=kind,
            cite="665/NK p.10",
            content=content,
            sha256="0" * 64,
            created_at=datetime.now(UTC),
            media_type=media,
        )
    archive, letter = load_document(f"{case_id}/administrative-case"), load_document(f"{case_id}/satisfied")
    assert archive is not None and letter is not None
    assert document_file_name(archive) == f"{case_id}_administrative-case.zip"
    assert document_file_name(letter) == f"{case_id}_satisfied.html"
    served = document_response(case_id, archive.doc_id).headers["content-disposition"]
    assert served == f'attachment; filename="{case_id}_administrative-case.zip"'
    shown = document_response(case_id, letter.doc_id).headers["content-disposition"]
    assert shown == f'inline; filename="{case_id}_satisfied.html"'
