"""The console's texts in Kazakh, Russian and English, from gettext ``.po`` catalogues.

Why ``.po`` read with Babel: it is the format translators and their tools know, the catalogues are
plain text in review, and Babel's extractor checks them against the templates (a test does). They are
read directly at start-up, so there is no compiled ``.mo`` to keep in sync. A text with no translation
falls back to English (the msgid).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from models.procedure import ProcedureSpec
from rules.text import Sentence

__all__ = [
    "CODES",
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "UNKNOWN_ACTOR",
    "actor_said",
    "catalogue",
    "gettext",
    "label",
    "procedure_msgids",
    "say",
    "say_data",
    "sentence_templates",
    "status_msgids",
]

LOCALES = Path(__file__).parent / "locales"
LANGUAGES: dict[str, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT = "kk"


def N_(text: str) -> str:
    """Marks a msgid for Babel's extractor (``extract_msgids``) where the text is translated later, by its reader."""
    return text


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → translation for ``lang`` (empty for English, whose msgids are the texts)."""
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and isinstance(m.id, str)}


def gettext(lang: str, text: str) -> str:
    """``text`` in ``lang``."""
    return catalogue(lang).get(text, text) if lang in LANGUAGES else text


_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def label(lang: str, code: str) -> str:
    """A code the engine records (a status, an outcome, a term's key, a role) in ``lang``; one no catalogue
    translates, English's among them, reads as words (``awaiting_fee`` → "awaiting fee"), never as the code. Any other
    text (a word, a sentence) is only translated, so ``label`` serves as a page's translator too."""
    text = gettext(lang, code)
    return code.replace("_", " ") if text == code and _CODE.fullmatch(code) else text


def say(lang: str, text: str) -> str:
    """``text`` in ``lang``: a ``rules.text.Sentence`` by its template, its values that are sentences said too and
    the others as they are (a field's name, a date, a case id), or by its own translation (``Sentence.own``); any
    other text by the catalogue, as ``gettext``."""
    if not isinstance(text, Sentence):
        return gettext(lang, text)
    if text.texts:  # the law files' own words in that language (Sentence.own)
        return text.texts.get(lang) or str(text)
    values = {k: say(lang, v) if isinstance(v, Sentence) else v for k, v in text.values.items()}
    try:
        return gettext(lang, text.template).format(**values)
    except (KeyError, IndexError, ValueError):  # a translation naming a value the sentence lacks: English, whole
        return str(text)


UNKNOWN_ACTOR = N_("unknown")
"""Who started a case started past the API and the command line (``infra.cases``)."""
_ACTOR = re.compile(r"\((?:BIN (\d{12}), )?key ([0-9a-f]+)\)$")


def actor_said(lang: str, text: str) -> str:
    """Who acted, as the engine records it (``Name (key 3f2a…)``, ``Name (BIN …, key …)``: ``Principal.describe``),
    with the words in parentheses in ``lang``."""
    if text == UNKNOWN_ACTOR:
        return gettext(lang, UNKNOWN_ACTOR)
    m = _ACTOR.search(text)
    if m is None:
        return text
    key = f"{gettext(lang, N_('key'))} {m[2]}"
    return text[: m.start()] + (f"({gettext(lang, 'BIN')} {m[1]}, {key})" if m[1] else f"({key})")


def say_data(lang: str, data: Any, text: str = "") -> str:
    """A sentence given as data (``rules.text.Sentence.data``: a view's ``why_said``, a finding) said in ``lang``;
    ``text`` as it is when ``data`` is no sentence (a view of a case that did not give one)."""
    said = Sentence.from_data(data)
    return say(lang, said) if said is not None else text


SENTENCE_MAKERS = ("Sentence", "refused")
"""Calls whose first argument is a ``Sentence`` template (``rules.text.Sentence``, ``infra.cases.refused``)."""
SENTENCES_IN = ("rules", "infra", "models", "workflows", "api")


def sentence_templates() -> set[str]:
    """Every ``Sentence`` template the code makes (``SENTENCE_MAKERS`` called with a literal first argument in
    ``SENTENCES_IN``), read with ``ast``: msgids, each translated with the same ``{values}``."""
    import ast

    root = Path(__file__).parent.parent
    found: set[str] = set()
    for where in SENTENCES_IN:
        for path in sorted((root / where).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in SENTENCE_MAKERS
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add(node.args[0].value)
    return found


# Texts the code shows that no template names literally (statuses, timeline kinds, deadline outcomes).
DYNAMIC = (
    "open",
    "met",
    "breached",
    "cancelled",
    "started",
    "event",
    "event_done",
    "event_failed",
    "activity",
    "timer",
    "deadline_opened",
    "deadline_met",
    "breach",
    "deadline_moved",
    "document",
    "closed",
    "signal",
    "registered",
    "Case started",
    "This application has a case already",
    "Decision recorded",
    "Unknown key, or the key is not a staff, supervisor or auditor key",
    # the MVNO permit (665/NK): its statuses, outcomes, deadline keys and the terms' texts
    "completeness_check",
    "qualification_check",
    "hearing_scheduled",
    "decision_pending",
    "decision_pending_overdue",
    "permit_valid",
    "permit_issued",
    "refused",
    "refused_to_consider",
    "permit_expired",
    "permit_terminated",
    "act_not_in_force",
    "service_term",
    "hearing",
    "decision",
    "complaint_window",
    "permit_validity",
    "service term of the MVNO permit",
    "check of the completeness of the documents from registration",
    "check of the qualification requirements (Annex 4)",
    "the hearing is held no later than this from the notice",
    "the hearing notice is sent no later than this before the decision",
    "validity of the MVNO permit",
    # deadlines explained (api/deadline_view.py): units, reasons for a day off, weekdays, holiday names
    "{n} working days",
    "{n} calendar days",
    "{n} minutes",
    "{n} years",
    "weekend",
    "holiday",
    "transfer",
    "override",
    "Saturday",
    "Sunday",
    *(
        HOLIDAY_NAMES := (
            "New Year's Day",
            "Orthodox Christmas",
            "International Women's Day",
            "Nowruz Holiday",
            "Kazakhstan's People Solidarity Holiday",
            "Defender of the Fatherland Day",
            "Victory Day",
            "Capital Day",
            "Constitution Day",
            "First President Day",
            "Independence Day",
            "Republic Day",
            "Eid al-Adha",
            "observed",
            "estimated",
        )
    ),
    # who acts (roles of the catalogue's events)
    "staff",
    "supervisor",
    "auditor",
    "operator:base_operator",
    "operator:complaints",
    "operator:egov_portal",
    "operator:reference_service",
    "operator:antifraud_centre",
    "operator:antifraud_system",
    "operator:biometric_id",
    "operator:almatel_technician",
    "operator:almatel_signing_page",
    "operator:national_postal_operator",
    # the permit's documents, pre-check stages, registry restrictions, contract and case words
    "Reasoned refusal to consider the application further",
    "Preliminary decision to refuse and hearing notice",
    "Reasoned refusal to provide the public service",
    "refusal_to_consider",
    "preliminary_refusal",
    "reasoned_refusal",
    "permit",
    "activity_ban",
    "special_right_deprivation",
    "blocked",
    "valid",
    "terminated",
    "expired",
    "hearing_overdue",
    "completeness_check_overdue",
    "qualification_check_overdue",
    # the timeline's details the API writes (api/cases.py)
    "in time",
    "late",
    "escalated to the supervisor",
)


ACTIVITY_LABELS: dict[str, str] = {
    "apply_network_order": "order to the network (suspend or restore services)",
    "build_administrative_case": "administrative case built",
    "build_signed_zip": "signed package built",
    "check_identity": "identity checked",
    "complainant_account": "complainant's personal account looked up",
    "compute_deadline": "deadline computed",
    "connect_number": "number connected to the e-government account",
    "connected_numbers": "numbers connected to the account looked up",
    "contract_signed": "contract signature recorded",
    "create_mailbox": "mailbox created",
    "deliver_to_personal_account": "delivered to the personal account",
    "describe_appealed_case": "appealed case described",
    "enter_permit": "entered in the permits registry",
    "forward_to_review_body": "forwarded to the body considering the complaint",
    "hearing_windows": "hearing dates computed",
    "inform_antifraud_centre": "antifraud centre informed",
    "instruct_appealed_case": "instruction sent to the appealed case",
    "issue_secret": "one-time code or link sent",
    "issue_subscriber_certificate": "subscriber's signing certificate issued",
    "law_snapshot": "law of the governing day read",
    "lookup_applicant": "applicant looked up in the state registries",
    "lookup_subscriber": "subscriber looked up",
    "mark_mailbox": "mailbox marked",
    "notify_supervisor": "supervisor notified",
    "numbers_held": "numbers held by the individual counted",
    "prior_application": "earlier application looked up",
    "record_biometric_check": "biometric check recorded",
    "record_numbers_decision": "decision on the numbers recorded",
    "record_permit_change": "permit change recorded",
    "register_case": "case registered",
    "register_numbers": "numbers registered",
    "render_document": "document drawn up",
    "report_stage": "progress reported to the public-services monitoring",
    "send_sms": "SMS sent",
    "sign_document": "document signed",
    "tell_appealed_case": "appealed case told of the complaint",
    "verify_secret": "entered code checked",
    "verify_signature": "signature verified",
}
"""What each of the worker's activities does, for the timeline (its "action: …" rows); a name not listed shows as
it is. A test checks every activity of the catalogue has one."""


def activity_label(name: str) -> str:
    """The English text of an activity's timeline row (translated like any other msgid)."""
    return ACTIVITY_LABELS.get(name, name)


# Codes the work pages show through their ``label`` (api.console_work): how an execution ended, the terms' keys
# (the inbox), the outside systems a blocked step names, and the texts of the queue's groups.
CODES = (
    "running",
    "failed",
    "terminated",
    "timed_out",
    "canceled",
    "Acknowledged",
    "Overdue",
    "Due today",
    "Due within 5 working days",
    "Waiting on an outside system",
    "Blocked",
    "Waiting on",
    "Why",
    "met on time",
    # deadline keys
    "check",
    "suspension",
    "suspension_notice",
    "not_confirmed_notice",
    "review",
    "forward",
    "service",
    "code_validity",
    "eds_confirmation",
    *(f"step{n}" for n in range(1, 9)),
    # the outside systems (CaseWorkflow.outside(..., what=…))
    "antifraud_centre",
    "biometrics",
    "deadlines",
    "documents",
    "eds",
    "law",
    "mailbox_system",
    "mobile_citizens",
    "monitoring",
    "network",
    "numbers_register",
    "one_time_codes",
    "permits_registry",
    "personal_account",
    "registration",
    "review_body",
    "sms_gateway",
    "state_registry",
    "subscriber_register",
    "temporal",
)


def status_msgids() -> set[str]:
    """Every status of every procedure of the catalogue (the search page's status filter shows them)."""
    from workflows.catalogue import PROCEDURES

    return {s for spec in PROCEDURES for s in spec.statuses}


VALIDATED = ("models", "rules/identifiers.py")
"""Where our validators raise ``ValueError`` with a sentence a form shows (``api.validation``): their texts are
msgids."""


def validator_messages() -> list[tuple[str, re.Pattern[str]]]:
    """Every ``ValueError`` sentence raised in ``VALIDATED``: the text (``""`` when a part is known only when it is
    raised, e.g. which identifier) and a pattern every text it can raise matches. Read from the source with ``ast``;
    a formatted part that names a module-level value (a citation) is evaluated in its module."""
    import ast
    import importlib

    root = Path(__file__).parent.parent
    files = [
        p
        for where in VALIDATED
        for p in sorted((root / where).rglob("*.py") if (root / where).is_dir() else [root / where])
    ]
    found: list[tuple[str, re.Pattern[str]]] = []
    for path in files:
        module_name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        namespace: dict[str, object] | None = None
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            call = node.exc
            if not (isinstance(call.func, ast.Name) and call.func.id == "ValueError" and call.args):
                continue
            if namespace is None:
                namespace = vars(importlib.import_module(module_name))
            found.append(_rendered(call.args[0], namespace))
    return found


def _rendered(expr: object, namespace: dict[str, object]) -> tuple[str, re.Pattern[str]]:
    import ast

    texts: list[str | None] = []  # None: known only when raised

    def walk(e: object) -> None:
        if isinstance(e, ast.Constant) and isinstance(e.value, str):
            texts.append(e.value)
        elif isinstance(e, ast.JoinedStr):
            for part in e.values:
                walk(part)
        elif isinstance(e, ast.FormattedValue):
            try:
                texts.append(str(eval(compile(ast.Expression(e.value), "<msg>", "eval"), dict(namespace))))
            except Exception:  # a local name (which identifier, which parts are missing)
                texts.append(None)
        elif isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            walk(e.left)
            walk(e.right)
        else:
            texts.append(None)

    walk(expr)
    pattern = re.compile("".join(".+" if t is None else re.escape(t) for t in texts))
    return ("" if None in texts else "".join(t for t in texts if t is not None)), pattern


def extract_msgids() -> set[str]:
    """Every text the console's templates and code pass to ``_`` or mark with ``N_`` (Babel's extractors), plus
    ``DYNAMIC``, ``CODES``, the activities' timeline labels, the catalogue's statuses and our validators' sentences."""
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).parent
    method_map = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
    found = {str(msg[2]) for msg in extract_from_dir(str(root), method_map) if isinstance(msg[2], str)}
    from api.problems import _TITLES  # the error pages' titles (api.console.error_page)
    from audit.admin_case import EVENT_FRAMES  # the administrative case's events, said in its language

    own = {text for text, _ in validator_messages() if text}
    labels = set(ACTIVITY_LABELS.values())
    return (
        found
        | set(DYNAMIC)
        | set(CODES)
        | labels
        | status_msgids()
        | own
        | sentence_templates()
        | set(EVENT_FRAMES.values())
        | {*_TITLES.values(), "Error"}
    )


def procedure_msgids(spec: ProcedureSpec) -> set[str]:
    """The texts the console shows for one procedure: its title, its events' titles and its forms."""
    from api.forms import form_texts  # api.forms translates its messages through this module

    texts = {spec.title, *(e.title for e in spec.events)}
    for model in (spec.input_model, *(e.model for e in spec.events if e.model is not None)):
        texts |= form_texts(model)
    return texts


def deadline_msgids() -> set[str]:
    """The texts a case's deadlines show: each term's key as cases name it (``mvno.completeness_check`` →
    ``completeness_check``) and its text from the law (``rules/data/law``), and every constant key and label a
    workflow opens a deadline with (``clock.open("review", …, label=…)``, read from ``workflows/`` with ``ast``)."""
    import ast
    import importlib

    from rules import law

    texts: set[str] = set()
    for key, values in law.book().latest_terms().items():
        texts.add(key.rsplit(".", 1)[-1])
        texts.update(v.text for v in values if v.text)
    root = Path(__file__).parent.parent
    for path in sorted((root / "workflows").rglob("*.py")):
        namespace: dict[str, object] | None = None
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "open"):
                continue
            if not (isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "clock"):
                continue
            parts = [a for a in node.args[:1]] + [k.value for k in node.keywords if k.arg == "label"]
            for part in parts:
                if namespace is None:
                    name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
                    namespace = vars(importlib.import_module(name))
                text, _ = _rendered(part, namespace)
                if text:
                    texts.add(text)
    return texts


def procedure_texts(spec: ProcedureSpec) -> set[str]:
    """Everything the console shows of one procedure: ``procedure_msgids`` and its statuses."""
    return procedure_msgids(spec) | set(spec.statuses)
