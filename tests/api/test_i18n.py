"""The console's texts in Kazakh, Russian and English (``api.i18n``): every text translated, the English
catalogue complete, the permit forms' texts too."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from api.i18n import LANGUAGES, LOCALES, catalogue, extract_msgids, procedure_msgids


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_console_text_is_translated(lang: str) -> None:
    texts = extract_msgids()
    assert len(texts) > 50
    missing = sorted(t for t in texts if not catalogue(lang).get(t))
    assert missing == []


def test_english_catalogue_lists_every_text_and_languages_are_three() -> None:
    from babel.messages.pofile import read_po

    from api.i18n import LOCALES

    with (LOCALES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        ids = {m.id for m in read_po(f) if m.id}
    assert extract_msgids() <= ids
    assert set(LANGUAGES) == {"kk", "ru", "en"}


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_text_of_the_permit_forms_is_translated(lang: str) -> None:
    from workflows.mvno_permit import SPEC as PERMIT

    texts = procedure_msgids(PERMIT)
    assert {
        "Permit for a mobile virtual network operator",
        "Completeness check result",
        "IIN",
        "BIN",
        "Contracts",
        "Information form",
        "legal_entity",
        "court_ban",
    } <= texts
    assert sorted(t for t in texts if not catalogue(lang).get(t)) == []
    assert catalogue(lang)["IIN"] != "IIN" and catalogue(lang)["legal_entity"] != "legal_entity"


def test_the_english_catalogue_lists_the_permit_texts_and_names_its_codes() -> None:
    from workflows.mvno_permit import SPEC as PERMIT

    assert procedure_msgids(PERMIT) <= set(catalogue_ids("en"))
    assert catalogue("en")["legal_entity"] == "Legal entity"  # a choice's code reads as words in English


def catalogue_ids(lang: str) -> list[str]:
    from babel.messages.pofile import read_po

    from api.i18n import LOCALES

    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return [str(m.id) for m in read_po(f) if m.id]


def test_complaint_appeal_is_an_appeal_by_complaint_not_against_one() -> None:
    """58 p.10 / 665/NK p.10: the complainant appeals a decision, action or inaction *by* filing a complaint."""
    assert catalogue("ru")["Complaint appeal"] == "Обжалование путём подачи жалобы"
    assert catalogue("kk")["Complaint appeal"] == "Шағым арқылы шағымдану"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_procedure_s_name_statuses_events_and_forms_are_translated(lang: str) -> None:
    """Issue 17 item 8: each procedure of the catalogue, its statuses, its events and every label, legend, choice and
    hint of its start and event forms has a translation; the message lists what is missing, by procedure."""
    from api.i18n import procedure_texts
    from workflows.catalogue import PROCEDURES

    assert len(PROCEDURES) >= 7
    missing = {spec.key: sorted(t for t in procedure_texts(spec) if not catalogue(lang).get(t)) for spec in PROCEDURES}
    assert {k: v for k, v in missing.items() if v} == {}


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_deadline_key_and_term_text_is_translated(lang: str) -> None:
    from api.i18n import deadline_msgids

    texts = deadline_msgids()
    assert {"completeness_check", "review", "step8", "service term", "review of more than 10 numbers"} <= texts
    assert sorted(t for t in texts if not catalogue(lang).get(t)) == []


def test_every_activity_of_the_worker_has_a_timeline_label_in_kk_and_ru() -> None:
    """The timeline's "action: …" rows name what the activity did, not its machine name, in the page's language."""
    from temporalio.activity import _Definition

    from api.i18n import ACTIVITY_LABELS, activity_label, catalogue
    from worker import ACTIVITIES

    names = set()
    for fn in ACTIVITIES:
        defn = _Definition.from_callable(fn)
        assert defn is not None and defn.name
        names.add(defn.name)
    assert names == set(ACTIVITY_LABELS), names ^ set(ACTIVITY_LABELS)
    for lang in ("kk", "ru"):
        missing = [n for n in sorted(names) if not catalogue(lang).get(activity_label(n))]
        assert missing == [], (lang, missing)
    assert catalogue("ru")[activity_label("report_stage")] == "этап передан в мониторинг государственных услуг"


def test_every_outside_step_a_case_names_is_a_translated_code() -> None:
    """The inbox and the blocked panel name the step a case waits on (``what=`` of ``outside``/``local``): each is a
    code of the catalogues, never shown as a capitalised machine word ("Registration" was)."""
    import re
    from pathlib import Path

    from api.i18n import CODES, catalogue

    root = Path(__file__).resolve().parents[2] / "workflows"
    named = {m for f in root.rglob("*.py") for m in re.findall(r'what="([a-z_]+)"', f.read_text(encoding="utf-8"))}
    assert named and named <= set(CODES), named - set(CODES)
    for lang in ("kk", "ru"):
        assert all(catalogue(lang).get(code) for code in named), lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_reads_without_a_warning(lang: str) -> None:
    """A malformed entry (a msgid without its msgstr) makes babel print a warning on every command that reads the
    catalogue (the auditor's `audit` printed four); strict reading fails on it."""
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        read_po(f, locale=lang, abort_invalid=True)


def test_a_renewed_term_is_named_as_its_first_with_its_number() -> None:
    """A permit's validity renewed by an extension is the term ``permit_validity_2``: the case page showed its key in
    Kazakh and Russian (the second adversarial run of 2026-12-03)."""
    from api.console import term_title

    assert term_title("permit_validity_2", "ru") == f"{catalogue('ru')['permit_validity']} (2)"
    assert term_title("permit_validity", "kk") == catalogue("kk")["permit_validity"]
    assert term_title("no_such_term_3", "ru") == "no such term (3)"  # a key no catalogue has reads as words
    assert term_title("permit_validity_2", "en") == "permit validity (2)"  # English too, never the key


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_sentence_is_translated_with_the_values_of_its_template(lang: str) -> None:
    """A refusal the edge says from a template (``rules.text.Sentence``) is translated with the same ``{values}``:
    one missing would drop what the clerk needs (the field, the day), one added would not render."""
    import string

    from api.i18n import sentence_templates

    def names(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    templates = sentence_templates()
    assert {"refused: {reason}", "{key} {paragraph} does not apply on {day}: {why}"} <= templates
    assert {t: names(catalogue(lang)[t]) for t in templates} == {t: names(t) for t in templates}


def _refusal(start: str) -> str:
    """The start-check's refusal of a mailbox application under the abolished act 71 (305/NK from 2024-06-08,
    publication date assumed), or of a subscriber's fraud report before 554/NK added 171 p.119 (from 2025-11-15)."""
    from datetime import datetime

    from infra.cases import CaseError, check_intake
    from models.electronic_mailbox import MailboxApplicationInput
    from models.fraud_check import FraudCaseInput
    from rules.calendar import ALMATY
    from workflows.electronic_mailbox import SPEC as MAILBOX
    from workflows.fraud_check import SPEC as FRAUD

    with pytest.raises(CaseError) as refused:
        if start == "mailbox":
            received = datetime(2024, 6, 10, 10, tzinfo=ALMATY)
            mailbox = {"bin": "941240000341", "login": "kcell.a", "channel": "online", "received_at": received}
            check_intake(MAILBOX, MailboxApplicationInput.model_validate(mailbox))
        else:
            report = {"way_in": "subscriber_report", "ref": "R-1", "suspect_number": "+77017654321"}
            report |= {"reporter_number": "87011234567", "received_at": "2025-10-01T10:00:00+05:00"}
            check_intake(FRAUD, FraudCaseInput.model_validate({"first": {**report, "description": "a call"}}))
    return refused.value.message


@pytest.mark.parametrize(
    ("start", "lang", "said"),
    [
        ("mailbox", "en", "refused: act 71 (Rules for the unified system of electronic subscriber mailboxes) was "),
        (
            "mailbox",
            "ru",
            "отказано: акт 71 (Правила функционирования единой системы абонентских электронных почтовых ящиков) "
            "отменён",
        ),
        (
            "mailbox",
            "kk",
            "бас тартылды: 71 актісінің (Абоненттік электрондық пошта жәшіктерінің бірыңғай жүйесінің қағидалары)",
        ),
        ("fraud", "en", "refused: 171 p.119 does not apply on 2025-10-01: it was added by 171/554-NK-2025 ("),
        ("fraud", "ru", "отказано: 171 p.119 не применяется на 2025-10-01: он добавлен редакцией 171/554-NK-2025 ("),
        ("fraud", "kk", "бас тартылды: 171 p.119 2025-10-01 күні қолданылмайды: ол 171/554-NK-2025 ("),
    ],
)
def test_a_start_refused_by_the_law_is_said_in_the_pages_language(start: str, lang: str, said: str) -> None:
    """A refusal of the start-check is a sentence of sentences: each part is said in the page's language, the acts'
    titles from the law files' own translations (``Sentence.own``), their bases as the law files give them and the
    days as they are; the text itself stays English (the API's problem document, the log)."""
    from api.i18n import say

    english = _refusal(start)
    shown = say(lang, english)
    assert shown.startswith(said), shown
    assert ("2024-06-08" if start == "mailbox" else "2025-11-15") in shown
    if lang == "en":
        assert shown == english and "(publication date assumed)" in english
    else:
        assert "publication date assumed" not in shown and " apply " not in shown and "abolished" not in shown


async def test_an_event_that_does_not_fit_is_said_with_the_case_s_status_in_the_page_s_language() -> None:
    """The back office's conflict names the case's status and what it accepts: the status is said as the console
    names statuses, the events by their keys, "none" in words; operator systems get the short sentence."""
    from temporalio.client import WorkflowExecutionStatus

    from api.i18n import say
    from infra.cases import CaseError, _fitting
    from models.case import CaseView
    from workflows.mvno_permit import SPEC

    view = CaseView(case_id="mvno_permit-x", procedure="mvno_permit", status="hearing_scheduled")
    running = WorkflowExecutionStatus.RUNNING
    with pytest.raises(CaseError) as conflict:
        await _fitting(None, SPEC.event("final_decision"), view.case_id, running, None, view=view)  # type: ignore[arg-type]
    english = conflict.value.message
    assert english == (
        "final_decision does not fit the case's state now (status hearing_scheduled); events it accepts now: none"
    )
    hearing = catalogue("ru")["hearing_scheduled"]
    assert say("ru", english) == (
        f"final_decision не соответствует текущему состоянию дела (статус: {hearing}); события, которые оно "
        "принимает сейчас: нет"
    )
    with pytest.raises(CaseError) as to_operator:
        await _fitting(None, SPEC.event("final_decision"), view.case_id, running, None, view=view, operator=True)  # type: ignore[arg-type]
    assert say("kk", to_operator.value.message) == "final_decision қазір істің күйіне сәйкес келмейді"


def test_a_text_with_its_own_translations_is_said_from_them_and_crosses_as_data() -> None:
    """``Sentence.own``: the law files' words in each language, said without the catalogue, kept through ``data()``
    and a pickle (a failure's details, the sandbox), English where the law files give none."""
    import pickle

    from api.i18n import say, say_data
    from rules.text import Sentence

    title = Sentence.own("Rules {x}", kk="Қағидалар", ru="Правила", en="")
    outer = Sentence("act {key} ({title}) is abolished", key="71", title=title)
    for copy in (Sentence.from_data(outer.data()), pickle.loads(pickle.dumps(outer))):
        assert copy == outer == "act 71 (Rules {x}) is abolished"
        assert copy is not None and say("ru", copy.values["title"]) == "Правила"
    assert say("kk", title) == "Қағидалар" and say("en", title) == "Rules {x}"
    assert say_data("ru", {"template": 7}, "as it was") == "as it was"  # not a sentence: the text as given
    assert Sentence.from_data({"template": "t", "values": {}, "texts": {"ru": 1}}) is None


def test_the_permits_pre_check_findings_are_said_in_the_pages_language_with_the_annexs_own_words() -> None:
    """The system's findings on a permit application (665/NK p.6, p.7) carry their sentences (``findings_said``):
    a contract that does not meet Annex 4 is said with the requirement in the law files' Kazakh or Russian."""
    import json
    from datetime import date
    from pathlib import Path

    from api.i18n import say_data
    from models.mvno_permit import PermitApplication
    from models.mvno_permit.prechecks import propose_completeness, propose_qualification
    from models.mvno_permit.systems import RegistryData
    from rules import law

    raw = json.loads((Path(__file__).parents[2] / "demo/mvno_permit/application.json").read_text())
    raw["qualification"]["contracts"][0]["traffic_accounting"] = False
    app = PermitApplication.model_validate(raw)
    registry = RegistryData(found=False, recipient="r", active=False)
    q = propose_qualification(app, registry)
    requirement = next(i for i in law.items("665/NK", "qualification_requirement") if i.id == "traffic_accounting")
    number = app.qualification.contracts[0].contract_number
    assert q.findings[0] == f"contract {number} does not meet: {requirement.en} ({requirement.reference})"
    assert (
        say_data("kk", q.findings_said[0])
        == f"{number} шарты сәйкес келмейді: {requirement.kk} ({requirement.reference})"
    )
    assert say_data("ru", q.findings_said[1]) == "по государственному реестру заявитель не действует"
    c = propose_completeness(app, date(2000, 1, 1), registry)  # every document dated after that day
    assert len(c.findings) == len(c.findings_said) > 3
    for lang in ("kk", "ru"):
        said = [say_data(lang, d) for d in c.findings_said]
        assert not any(w in " ".join(said) for w in ("certificate", "dated after", "registry", "contract ")), said


def test_who_acted_is_said_with_its_words_in_the_pages_language() -> None:
    """``Name (key …)`` as the engine records who started or decided: "key" read English on kk and ru pages (an
    adversarial run, 2026-12-04)."""
    from api.i18n import actor_said

    assert actor_said("ru", "Асан Асанов (key 3f2a9c01be77)") == "Асан Асанов (ключ 3f2a9c01be77)"
    assert (
        actor_said("kk", "portal (BIN 941240000341, key 0a1b2c3d4e5f)")
        == "portal (БСН 941240000341, кілт 0a1b2c3d4e5f)"
    )
    assert actor_said("en", "head (key 0a1b)") == "head (key 0a1b)"
    assert actor_said("ru", "the demo (seed)") == "the demo (seed)"  # no key named: as recorded
    assert actor_said("ru", "unknown") == "неизвестно"  # a case started past the API and the command line


def test_a_recorded_document_title_with_a_value_is_said_in_the_pages_language() -> None:
    """A complaint's administrative case is recorded as "Administrative case <the appealed case's id>": its title read
    English on kk and ru pages (an adversarial run, 2026-12-04); the fixed part is translated, the id kept."""
    from api.console import document_title

    assert document_title("Administrative case mvno_permit-0a1b", "ru") == "Административное дело mvno_permit-0a1b"
    assert document_title("Administrative case mvno_permit-0a1b", "kk") == "Әкімшілік іс mvno_permit-0a1b"
    assert document_title("MVNO permit MVNO-2027-0001", "ru").endswith(" MVNO-2027-0001")
    assert document_title("A title no catalogue has", "ru") == "A title no catalogue has"
