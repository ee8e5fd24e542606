"""The SMS activity on the local gateway (``activities.sms``): one SMS per message id, however often retried."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment


async def test_sms_is_sent_once_per_message_id() -> None:
    from sqlmodel import select

    from activities.sms import LocalSmsGateway, SmsActivities
    from infra.db import session
    from models.sms import SmsRequest
    from models.tables import SmsOutbox

    send_sms = SmsActivities(LocalSmsGateway()).send_sms
    env = ActivityEnvironment()
    req = SmsRequest(message_id="case-9/otp-1", case_id="case-9", to="8 701 123 45 67", sender="1414", text="code 1")
    first = env.run(send_sms, req)
    second = env.run(send_sms, req)
    assert not first.duplicate and second.duplicate and second.accepted_at == first.accepted_at
    with session() as s:
        rows = s.exec(select(SmsOutbox).where(SmsOutbox.case_id == "case-9")).all()
    assert [(r.to, r.sender) for r in rows] == [("+77011234567", "1414")]


def test_texts_to_citizens_are_worded_in_kazakh_then_russian_by_the_activity() -> None:
    """A case names the template and its values; the activity words the SMS, one line per language (the state
    language first), as plain text (no HTML escaping); a request with neither text nor template is refused."""
    import pytest
    from pydantic import ValidationError
    from sqlmodel import select

    from activities.sms import LocalSmsGateway, SmsActivities, render_sms
    from infra.db import session
    from models.sms import SmsRequest
    from models.tables import SmsOutbox

    kk, ru = render_sms(
        "permit_registered", {"application_number": "KZ-1", "registered_on": "2027-03-25", "cite": "665/NK p.6"}
    ).splitlines()
    assert kk.startswith("KZ-1 өтініші") and "2027-03-25 тіркелді (665/NK p.6)" in kk
    assert ru.startswith("Заявление KZ-1") and "зарегистрировано 2027-03-25 (665/NK p.6)" in ru
    refused = render_sms("numbers_answer", {"outcome": "refused", "count": "11", "reason": "A & B", "cite": "171"})
    assert (
        refused.splitlines()[0]
        == "11 абоненттік нөмірге өтініміңіз: бас тартылды: A & B (171). Жауап жеке кабинетіңізде."
    )
    assert "отказано: A & B (171)" in refused.splitlines()[1] and len(refused.splitlines()) == 2
    for kind, word in (("satisfied", "удовлетворена"), ("decision", "принято решение"), ("withdrawn", "отозвана")):
        lines = render_sms("complaint_document", {"complaint_number": "C-7", "kind": kind}).splitlines()
        assert len(lines) == 2 and lines[0].startswith("C-7 шағымы: ") and word in lines[1]
    with pytest.raises(Exception, match="undefined"):
        render_sms("complaint_document", {"kind": "satisfied"})
    with pytest.raises(ValidationError, match="a text or a template"):
        SmsRequest(message_id="c-1/x", case_id="c-1", to="+77011234567", sender="EGOV")

    req = SmsRequest(
        message_id="case-10/registered",
        case_id="case-10",
        to="+77011234567",
        sender="EGOV",
        template="complaint_document",
        params={"complaint_number": "C-8", "kind": "withdrawn"},
    )
    ActivityEnvironment().run(SmsActivities(LocalSmsGateway()).send_sms, req)
    with session() as s:
        [row] = s.exec(select(SmsOutbox).where(SmsOutbox.case_id == "case-10")).all()
    assert row.text == (
        "C-8 шағымы: кері қайтарылды. Құжат egov.kz жеке кабинетіңізде.\n"
        "Жалоба C-8: отозвана. Документ в вашем личном кабинете на egov.kz."
    )
