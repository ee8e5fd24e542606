"""The administrative-case document of an appealed case, generated from its workflow history.

``build_admin_case(history)`` reads the (encrypted) history: the application (workflow input), every
event (updates accepted with their inputs and answers, activities and their results, timers, status
changes), the legal terms with citations and outcomes, the decisions, the outcome, and the documents the
case produced. ``render_admin_case(case, fetch_document, fetch_signature)`` bundles it as a ZIP: ``case.html``
(the rendered case file, the application as a table of labels and values), ``case.json``, the documents' bytes
(fetched through ``fetch_document``, checked against their recorded SHA-256), each signed document's detached CMS
signature beside it (``<document>.p7s``, through ``fetch_signature``) and ``manifest.json``. The same history
always gives the same ZIP bytes.

The complaints procedure calls both from an activity (they are synchronous, pure apart from the fetch).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from temporalio.client import Client, WorkflowHistory

from audit.history import HistoryEntry, parse_history
from audit.report import TermRecord, case_report, event_title_in, local_time, patch_ids, templates
from infra.codec import EncryptionCodec
from models.case import DocumentRef
from models.deadlines import DEADLINE_MEMO_PREFIX, deadline_records

__all__ = [
    "AdminCase",
    "AdminCaseEvent",
    "admin_case_bundle",
    "build_admin_case",
    "fetch_from_store",
    "render_admin_case",
    "render_admin_case_html",
    "signature_from_store",
    "summary_rows",
]

SIGN_ACTIVITY = "sign_document"
"""The EDS activity whose input names the document and whose result names the signer (``activities.eds``)."""
SIGNATURE_SUFFIX = ".p7s"
"""A detached CMS signature (DER) beside the document it signs, as CMS tools expect it."""


class AdminCaseEvent(BaseModel):
    """One event of the case file, as a person reads it."""

    event_id: int
    at: datetime
    kind: str
    title: str
    name: str = ""  # the event's, outside call's, timer's or status's name (``title`` says it in English)
    data: Any = None


class AdminCaseDecision(BaseModel):
    """A decision or operator event the case accepted (an Update), with its input and its answer."""

    event_id: int
    at: datetime
    name: str
    input: Any = None
    answer: Any = None
    answered_at: datetime | None = None
    sent_by_key: str | None = None
    """The API key that sent it (its id, as the history names it; the installation's key list says whose)."""


class AdminCase(BaseModel):
    """The administrative case of one procedure case."""

    case_id: str
    run_id: str | None = None
    """The case's first run: which case, where its id names several (a number reported again after a close)."""
    workflow_type: str
    procedure: str
    execution_status: str
    started_at: datetime
    closed_at: datetime | None = None
    application: Any = None
    registration: dict[str, Any] | None = None
    last_status: str | None = None
    events: list[AdminCaseEvent] = Field(default_factory=list)
    terms: list[TermRecord] = Field(default_factory=list)
    decisions: list[AdminCaseDecision] = Field(default_factory=list)
    documents: list[DocumentRef] = Field(default_factory=list)
    result: Any = None
    failure: str | None = None
    history_events: int = 0
    last_event_at: datetime


EVENT_FRAMES: dict[str, str] = {
    "application": "Application received (workflow started)",
    "update": "Event accepted: {name}",
    "update_result": "Answer to {name}",
    "activity": "Requested: {name}",
    "activity_result": "Completed: {name}",
    "activity_failure": "Attempt failed: {name}",
    "local_activity": "Recorded computation: {name}",
    "timer_started": "Timer {name} set",
    "timer_fired": "Timer {name} fired",
    "timer_cancelled": "Timer {name} cancelled",
    "memo": "Case record updated: {name}",
    "status": "Status: {name}",
    "signal": "Signal received: {name}",
    "outcome": "Case ended: {name}",
    "marker": "Procedure version recorded: {name}",
}
"""How a case file's event reads, by its kind (msgids of the console's catalogues: the page says them in its
language, ``case.json`` keeps the English)."""


def _title(e: HistoryEntry) -> str:
    frame = EVENT_FRAMES.get(e.kind)
    if frame is None or (e.kind == "marker" and not _patch_id(e.data)):
        return f"{e.event_type} {e.name}".strip()
    name = _patch_id(e.data) if e.kind == "marker" else e.name
    return frame.format(name=name or ("event" if e.kind == "update_result" else ""))


def _patch_id(data: Any) -> str:
    """The id of a ``workflow.patched`` marker (the code path the case took from there), from its details."""
    return next(iter(patch_ids(data)), "")


def event_title(e: AdminCaseEvent, lang: str) -> str:
    """``e``'s title in ``lang``: its frame, events by their titles, outside calls by their timeline labels,
    statuses by their names; the English title as recorded for an event of a kind without a frame."""
    from api.i18n import activity_label, gettext

    frame = EVENT_FRAMES.get(e.kind)
    if frame is None or (not e.name and "{name}" in frame and e.kind != "update_result"):
        return e.title
    if e.kind == "marker":
        patch = _patch_id(e.data)
        return gettext(lang, frame).format(name=patch) if patch else e.title
    if e.kind in ("update", "update_result"):
        name = event_title_in(e.name, lang) if e.name else gettext(lang, "event")
    elif e.kind.startswith("activity") or e.kind == "local_activity":
        name = gettext(lang, activity_label(e.name))
    elif e.kind in ("status", "outcome"):
        name = gettext(lang, e.name)
    else:
        name = e.name
    return gettext(lang, frame).format(name=name)


def _memo_summary(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    terms = deadline_records(data)
    for key, value in data.items():
        if key != "deadlines" and not key.startswith(DEADLINE_MEMO_PREFIX):
            out[key] = value
    if terms:
        out["deadlines"] = {str(d.get("key")): d.get("status") for d in terms}
    return out


def _documents_in(value: Any, found: dict[str, DocumentRef]) -> None:
    if isinstance(value, dict):
        if {"doc_id", "kind", "sha256"} <= value.keys():
            try:
                ref = DocumentRef.model_validate(value)
            except ValidationError:
                ref = None
            if ref is not None:
                found.setdefault(ref.doc_id, ref)
                return
        for v in value.values():
            _documents_in(v, found)
    elif isinstance(value, list):
        for v in value:
            _documents_in(v, found)


def build_admin_case(
    history: WorkflowHistory, *, codec: EncryptionCodec | None = None, documents: Sequence[DocumentRef] = ()
) -> AdminCase:
    """The administrative case from ``history`` (decrypted with ``codec``, default: the configured keys).

    ``documents`` adds references known from elsewhere (the ``case`` query); documents returned by
    activities, updates or the workflow's result are found in the history itself.
    """
    case = parse_history(history, codec)
    report = case_report(case)
    application = case.application[0] if len(case.application) == 1 else case.application
    admin = AdminCase(
        case_id=case.workflow_id,
        run_id=case.run_id,
        workflow_type=case.workflow_type,
        procedure=case.procedure,
        execution_status=case.execution_status,
        started_at=case.started_at,
        closed_at=case.closed_at,
        application=application,
        registration=case.memo.get("case"),
        last_status=report.last_status,
        terms=report.terms,
        result=case.result,
        failure=case.failure,
        history_events=case.event_count,
        last_event_at=history.events[-1].event_time.ToDatetime(UTC),
    )
    found: dict[str, DocumentRef] = {d.doc_id: d for d in documents}
    decisions: dict[int, AdminCaseDecision] = {}
    signing: dict[int, str] = {}  # sign_document's scheduled event → the document it signs
    signers: dict[str, str] = {}
    for e in case.entries:
        data = _memo_summary(e.data) if e.kind == "memo" and isinstance(e.data, dict) else e.data
        admin.events.append(
            AdminCaseEvent(event_id=e.event_id, at=e.at, kind=e.kind, title=_title(e), name=e.name or "", data=data)
        )
        if e.kind in ("activity_result", "local_activity", "update_result", "outcome"):
            _documents_in(e.data, found)
        if e.name == SIGN_ACTIVITY and e.kind == "activity" and isinstance(e.data, list) and e.data:
            if isinstance(e.data[0], dict) and e.data[0].get("doc_id"):
                signing[e.event_id] = str(e.data[0]["doc_id"])
        elif e.kind == "activity_result" and e.ref_event_id in signing and isinstance(e.data, list) and e.data:
            check = e.data[0]
            if isinstance(check, dict) and check.get("valid") and check.get("subject"):
                signers[signing[e.ref_event_id]] = str(check["subject"])
        if e.kind == "update":
            decisions[e.event_id] = AdminCaseDecision(
                event_id=e.event_id,
                at=e.at,
                name=e.name,
                input=e.data[0] if isinstance(e.data, list) and len(e.data) == 1 else e.data,
                sent_by_key=e.sent_by_key,
            )
        elif e.kind == "update_result" and e.ref_event_id in decisions:
            d = decisions[e.ref_event_id]
            d.answer = e.data[0] if isinstance(e.data, list) and len(e.data) == 1 else e.data
            d.answered_at = e.at
    admin.decisions = list(decisions.values())
    for doc_id, subject in signers.items():  # the render's result predates the signature: the signer from its check
        if doc_id in found and not found[doc_id].signed_by:
            found[doc_id] = found[doc_id].model_copy(update={"signed_by": subject})
    admin.documents = sorted(found.values(), key=lambda d: (d.created_at, d.doc_id))
    return admin


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


_WORDS = {"iin": "IIN", "bin": "BIN", "id": "ID", "eds": "EDS", "sms": "SMS", "url": "URL", "mvno": "MVNO"}
_KEY = re.compile(r"[a-z]+(_[a-z]+)*")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _label(key: str) -> str:
    words = [_WORDS.get(w.lower(), w) for w in key.strip("~_").replace("-", "_").split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _shown(value: Any, _: Callable[[str], str]) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and _INSTANT.match(value):
        return local_time(value)
    if isinstance(value, str) and _KEY.fullmatch(value):  # an enum's value (legal_entity): the forms name it
        return _(value)
    return str(value)


def summary_rows(value: Any, prefix: str = "", _: Callable[[str], str] = str) -> list[tuple[str, str]]:
    """A nested value (the application) as rows of a readable label (``Applicant › Individual › IIN``) and a value;
    lists are numbered, instants shown in Asia/Almaty, yes/no for booleans, an empty list as "none"; the labels and
    words in ``_``'s language where the console's catalogues name them (its forms' field titles)."""
    rows: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, v in value.items():
            label = _(_label(str(key)))
            rows += summary_rows(v, f"{prefix} › {label}" if prefix else label, _)
    elif isinstance(value, list):
        if not value:
            rows.append((prefix or _("Items"), _("none")))
        elif all(not isinstance(v, dict | list) for v in value):
            rows.append((prefix or _("Items"), "; ".join(_shown(v, _) for v in value)))
        else:
            for i, v in enumerate(value, 1):
                rows += summary_rows(v, f"{prefix} {i}" if prefix else f"{_('Item')} {i}", _)
    else:
        rows.append((prefix or _("Value"), _shown(value, _)))
    return rows


def render_admin_case_html(
    case: AdminCase,
    included: dict[str, str] | None = None,
    signatures: dict[str, str] | None = None,
    lang: str = "en",
) -> str:
    """The case file as one HTML page; ``included`` maps doc_id to its path inside the bundle, ``signatures`` to the
    path of its detached signature."""
    from api.deadline_view import roll_text
    from api.i18n import gettext

    def _(text: str) -> str:
        return gettext(lang, text)

    reg = case.registration or {}
    roll = reg.get("after_hours_roll")
    env = templates(lang)
    env.filters["pretty"] = _pretty
    env.globals["event_title"] = lambda e: event_title(e, lang)
    return env.get_template("admin_case.html.j2").render(
        case=case,
        included=included or {},
        signatures=signatures or {},
        application=summary_rows(case.application, _=_),
        after_hours=roll_text(
            roll, datetime.fromisoformat(reg["received_at"]), date.fromisoformat(reg["registered_on"]), _
        )
        if roll and reg.get("received_at") and reg.get("registered_on")
        else roll,
    )


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120]


def _extension(body: bytes) -> str:
    """The extension a document's bytes call for, so that it opens by its name (an adversarial run, 2026-12-04)."""
    if body[:64].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return ".html"
    return ".zip" if body.startswith(b"PK\x03\x04") else ""


def render_admin_case(
    case: AdminCase,
    fetch_document: Callable[[DocumentRef], bytes] | None = None,
    fetch_signature: Callable[[DocumentRef], bytes | None] | None = None,
    lang: str = "en",
) -> bytes:
    """A ZIP: ``case.html`` (in ``lang``: kk, ru or en), ``case.json``, ``documents/…`` (when ``fetch_document`` is
    given), beside each signed document its detached CMS signature ``documents/….p7s`` (when ``fetch_signature`` is
    given and the document is signed) and ``manifest.json`` with every file's SHA-256. Raises ``ValueError`` when a
    fetched document's bytes do not match the SHA-256 the case recorded."""
    files: dict[str, bytes] = {}
    docs_manifest: list[dict[str, Any]] = []
    included: dict[str, str] = {}
    signatures: dict[str, str] = {}
    for ref in case.documents:
        entry: dict[str, Any] = ref.model_dump(mode="json") | {"included": False, "path": None, "signature": None}
        if fetch_document is not None:
            body = fetch_document(ref)
            digest = hashlib.sha256(body).hexdigest()
            if digest != ref.sha256:
                raise ValueError(f"document {ref.doc_id}: stored bytes do not match the SHA-256 the case recorded")
            path = f"documents/{_safe(ref.doc_id)}{_extension(body)}"
            files[path] = body
            included[ref.doc_id] = path
            entry |= {"included": True, "path": path}
            signature = fetch_signature(ref) if fetch_signature is not None else None
            if signature is not None:
                files[path + SIGNATURE_SUFFIX] = signature
                signatures[ref.doc_id] = path + SIGNATURE_SUFFIX
                entry["signature"] = path + SIGNATURE_SUFFIX
        docs_manifest.append(entry)
    files["case.html"] = render_admin_case_html(case, included, signatures, lang).encode()
    files["case.json"] = (case.model_dump_json(indent=1) + "\n").encode()
    manifest = {
        "case_id": case.case_id,
        "procedure": case.procedure,
        "generated_from": {
            "workflow_id": case.case_id,
            "run_id": case.run_id,
            "history_events": case.history_events,
            "last_event_at": case.last_event_at.isoformat(),
        },
        "files": [
            {"path": p, "sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for p, b in sorted(files.items())
        ],
        "documents": docs_manifest,
    }
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode()
    stamp = case.last_event_at.astimezone(UTC).timetuple()[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in ["manifest.json", *sorted(p for p in files if p != "manifest.json")]:
            info = zipfile.ZipInfo(path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[path])
    return buf.getvalue()


async def admin_case_bundle(
    client: Client,
    case_id: str,
    fetch_document: Callable[[DocumentRef], bytes] | None = None,
    fetch_signature: Callable[[DocumentRef], bytes | None] | None = None,
    run_id: str | None = None,
) -> bytes:
    """Fetch ``case_id``'s history (of run ``run_id``, by default the latest) from Temporal and bundle its
    administrative case (for an activity).

    Decoding, reading the documents and zipping block: they run on a thread, never on the caller's event loop."""
    history = await client.get_workflow_handle(case_id, run_id=run_id).fetch_history()
    return await asyncio.to_thread(
        lambda: render_admin_case(build_admin_case(history), fetch_document, fetch_signature)
    )


def fetch_from_store(ref: DocumentRef) -> bytes:
    """A document's bytes from our own document store (``infra.store``); a missing one is an error."""
    from infra.store import load_document

    doc = load_document(ref.doc_id)
    if doc is None:
        raise ValueError(f"document {ref.doc_id} is not in the document store")
    return doc.content


def signature_from_store(ref: DocumentRef) -> bytes | None:
    """A document's detached CMS signature from our document store (None while it is unsigned)."""
    from infra.store import load_document

    doc = load_document(ref.doc_id)
    if doc is None:
        raise ValueError(f"document {ref.doc_id} is not in the document store")
    return doc.signature
