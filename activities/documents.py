"""Documents: jinja2 templates rendered into stored documents (our own document store).

Documents are stored in our own tables (content, SHA-256, later the CMS signature) and the case keeps
a ``DocumentRef``. Rendering is idempotent on ``doc_id``: a retried activity returns the stored document.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from temporalio import activity

from activities.eds import signer_name
from infra.store import load_document, store_document
from models.case import DocumentRef, action_said
from models.documents import RenderDocumentRequest
from rules import law
from rules.calendar import almaty_text

__all__ = ["local", "render", "render_document", "templates"]


@cache
def templates() -> Environment:
    """The document templates (``activities/templates``); undefined variables are errors, not blanks. The ``local``
    filter writes an instant (or the ISO text a case passes) as Asia/Almaty time to the minute with its offset, as
    every page and command shows it; other values pass unchanged."""
    env = Environment(
        loader=PackageLoader("activities", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local
    env.globals.update(signer_title=signer_title, act_title=_act_title, action_said=action_said)
    return env


SIGNER_TITLES: dict[str, dict[str, str]] = {
    "provider_head": {"kk": "қызмет берушінің басшысы", "ru": "руководитель услугодателя"},
    "authorised_person": {"kk": "уәкілетті тұлға", "ru": "уполномоченное лицо"},
    "complaint_body": {"kk": "шағымды қарайтын орган", "ru": "орган, рассматривающий жалобу"},
}
"""Who signs, as a document's footer names the signing role (``models.eds.SignRequest.role``) in its language."""


def signer_title(role: str, lang: str) -> str:
    """The signing role in ``lang`` (the role's key for a role this table does not name)."""
    return SIGNER_TITLES.get(role, {}).get(lang, role)


def _act_title(version_id: str | None, lang: str) -> str:
    return law.act_title(version_id, lang) or (version_id or "")


def local(value: object) -> object:
    """``value`` as a person reads an instant (``2026-12-01 14:05 +05:00``) when it is one, else unchanged."""
    moment = value
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(moment, datetime):
        return almaty_text(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))
    return value


def render(req: RenderDocumentRequest, issued_at: datetime) -> bytes:
    """The HTML of a document. A context naming the ``signer_role`` whose EDS signs the document also gives the
    template ``signer_name``: the name on that role's signing certificate (e.g. the head of the service provider
    in the permit's row "Басшы / Руководитель", 665/NK Annex 5)."""
    signer = req.context.get("signer_role")
    named = {"signer_name": signer_name(signer)} if isinstance(signer, str) and "signer_name" not in req.context else {}
    html = (
        templates()
        .get_template(req.template)
        .render(
            doc_id=req.doc_id,
            case_id=req.case_id,
            title=req.title,
            cite=req.cite,
            languages=req.languages,
            issued_at=almaty_text(issued_at),
            **named,
            **req.context,
        )
    )
    return html.encode("utf-8")


@activity.defn
def render_document(req: RenderDocumentRequest) -> DocumentRef:
    """Render and store a document once; a retry returns the stored one unchanged."""
    existing = load_document(req.doc_id)
    if existing is None:
        now = datetime.now(UTC)
        content = render(req, now)
        existing = store_document(
            doc_id=req.doc_id,
            case_id=req.case_id,
            kind=req.kind,
            title=req.title,
            cite=req.cite,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=now,
        )
    return DocumentRef(
        doc_id=existing.doc_id,
        kind=existing.kind,
        title=existing.title,
        sha256=existing.sha256,
        signed_by=existing.signer_subject,
        cite=existing.cite,
        created_at=existing.created_at,
    )
