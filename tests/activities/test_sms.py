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
