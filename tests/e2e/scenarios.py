"""One end-to-end scenario per procedure: how to start a case, drive it to its end with events sent at
once, and which outside effects (SMS, documents, notifications, orders) it must leave exactly once.
Used by the fault tests and mirrored by the throughput benchmark."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select
from temporalio.client import Client, WorkflowUpdateStage
from temporalio.service import RPCError

from infra.cases import start_case
from infra.db import session
from models.case import CaseView
from models.complaint import ComplaintInput, Satisfaction
from models.deadlines import DeadlineState
from models.egov_number_connection import Channel, EgovConnectionInput, EgovView
from models.electronic_mailbox import MailboxApplicationInput
from models.fraud_check import CheckOutcome, FraudCaseView, LiftDecision, SubscriberReport
from models.mvno_permit import CompletenessDecision, PermitApplication, QualificationDecision
from models.tables import (
    AntifraudCentreMessage,
    Document,
    Mailbox,
    MobileCitizenNumber,
    NetworkOrderRow,
    PermitRecord,
    PersonalAccountDelivery,
    SmsOutbox,
)
from rules.calendar import ALMATY, WorkingCalendar

__all__ = ["SCENARIOS", "Scenario", "registered_receipt", "update"]

IIN = "900101300126"
# How often a driver asks whether the case is ready for its next event. The benchmarks lower it so that
# events arrive as soon as the case can take them ("injected at once").
POLL_SECONDS = 0.3


def _count(model: Any, case_id: str) -> int:
    with session() as s:
        return int(s.exec(select(func.count()).select_from(model).where(col(model.case_id) == case_id)).one())


async def update(client: Client, case_id: str, name: str, arg: Any, update_id: str) -> Any:
    """Send an event so that a retry (worker or server restarting) is the same event, never a second one."""
    for attempt in range(60):
        try:
            handle = await client.get_workflow_handle(case_id).start_update(
                name, args=[] if arg is None else [arg], id=update_id, wait_for_stage=WorkflowUpdateStage.ACCEPTED
            )
            return await handle.result()
        except RPCError:
            if attempt == 59:
                raise
            await asyncio.sleep(1.0)
    return None


async def poll(client: Client, case_id: str, ok: Callable[[CaseView], bool], timeout: float = 120) -> CaseView:
    """Query the case until ``ok``."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        with suppress(RPCError):  # the worker or server may be restarting
            v = await client.get_workflow_handle(case_id).query("case", result_type=CaseView)
            if ok(v):
                return v
        if loop.time() > end:
            raise TimeoutError(f"{case_id} did not reach the expected state")
        await asyncio.sleep(POLL_SECONDS)


@dataclass
class Scenario:
    """A procedure's path driven end to end."""

    name: str
    start: Callable[[Client, str, str], Awaitable[str]]  # (client, task queue, unique suffix) -> case id
    drive: Callable[[Client, str], Awaitable[None]]
    effect_counts: Callable[[str], dict[str, int]]
    expected_effects: dict[str, int] = field(default_factory=dict)
    has_deadlines: bool = True  # the mailbox act (71) sets no term of its own
    fresh_after_a_lost_attempt: frozenset[str] = frozenset()
    """Effects an attempt lost with its killed worker (after the outside world took it, before the case recorded it)
    makes once more, with fresh content: a one-time code or link is never reused (``activities/otp.issue_secret``),
    so the subscriber may get one SMS more, never one fewer."""

    def effects(self, case_id: str) -> dict[str, int]:
        return self.effect_counts(case_id)

    async def finished(self, client: Client, case_id: str) -> Any:
        return await client.get_workflow_handle(case_id).result()

    async def registered(self, client: Client, case_id: str) -> CaseView:
        return await poll(
            client, case_id, lambda v: v.registration is not None and (bool(v.deadlines) or not self.has_deadlines)
        )

    async def deadlines(self, client: Client, case_id: str) -> list[DeadlineState]:
        return await client.get_workflow_handle(case_id).query("deadlines", result_type=list[DeadlineState])


# -- complaint: filed, fully satisfied by the provider (document + SMS) ---------------------------------


async def _complaint_start(client: Client, tq: str, suffix: str) -> str:
    from workflows.complaint import SPEC

    inp = ComplaintInput.model_validate(
        {
            "complaint_number": f"E2E-{suffix}",
            "appealed": "inaction",
            "description": "no answer",
            "complainant": {"full_name": "Тестов Тест", "iin": IIN, "phone": "+77011234567"},
            "request": "answer",
            "addressed_to": "provider",
            "received_at": registered_receipt().isoformat(),
        }
    )
    return (await start_case(client, SPEC, inp, task_queue=tq)).case_id


async def _complaint_drive(client: Client, case_id: str) -> None:
    await poll(client, case_id, lambda v: "satisfy" in v.pending_events)
    await update(
        client, case_id, "satisfy", Satisfaction(decided_by="Head", action_taken="answered"), f"{case_id}/satisfy"
    )


COMPLAINT = Scenario(
    "complaint",
    _complaint_start,
    _complaint_drive,
    lambda c: {"sms": _count(SmsOutbox, c), "documents": _count(Document, c)},
    {"sms": 1, "documents": 1},
)


# -- fraud: a subscriber's report, confirmed, suspended, lifted -----------------------------------------


def _number(rng: random.Random) -> str:
    return f"+7701{rng.randrange(10**7):07d}"


async def _fraud_start(client: Client, tq: str, suffix: str) -> str:
    from cli.fraud_intake import submit

    rng = random.Random(suffix)
    report = SubscriberReport(
        ref=f"e2e:{suffix}",
        suspect_number=_number(rng),
        reporter_number="+77011234567",
        received_at=datetime.now(UTC),
        description="SMS asking for a card code",
    )
    ack = await submit(client, report, task_queue=tq)
    return ack.case_id


async def _fraud_drive(client: Client, case_id: str) -> None:
    await poll(client, case_id, lambda v: "record_check_outcome" in v.pending_events)
    await update(
        client,
        case_id,
        "record_check_outcome",
        CheckOutcome(confirmed=True, evidence=["SIM-box pattern"], analyst="Analyst"),
        f"{case_id}/outcome",
    )
    for _ in range(400):
        view = await client.get_workflow_handle(case_id).query("fraud", result_type=FraudCaseView)
        if view.suspension is not None and all(n.delivered_at for n in view.notices):
            break
        await asyncio.sleep(POLL_SECONDS)
    await update(
        client,
        case_id,
        "lift_suspension",
        LiftDecision(reason="complaint upheld", decided_by="Head"),
        f"{case_id}/lift",
    )


FRAUD = Scenario(
    "fraud_check",
    _fraud_start,
    _fraud_drive,
    lambda c: {"network_orders": _count(NetworkOrderRow, c), "centre_messages": _count(AntifraudCentreMessage, c)},
    {"network_orders": 2, "centre_messages": 2},
)

# -- MVNO permit: registered, complete, compliant, the permit issued, signed, registered, delivered ---

DEMO = Path(__file__).resolve().parents[2] / "demo" / "mvno_permit" / "application_legal_entity.json"


def registered_receipt() -> datetime:
    """10:00 Asia/Almaty on the working day before today: registered that day, so a permit is issued and a
    complaint's satisfaction carried out as soon as they are decided whatever the hour the scenario runs (665/NK p.6
    issues results no earlier than the registration day), and their terms are still running."""
    cal = WorkingCalendar()
    return datetime.combine(cal.add_working_days(datetime.now(ALMATY).date(), -1), time(10), tzinfo=ALMATY)


async def _permit_start(client: Client, tq: str, suffix: str) -> str:
    from workflows.mvno_permit import SPEC as PERMIT

    app = PermitApplication.model_validate_json(DEMO.read_text(encoding="utf-8"))
    app = app.model_copy(update={"application_number": f"E2E-{suffix}", "received_at": registered_receipt()})
    return (await start_case(client, PERMIT, app, task_queue=tq)).case_id


async def _permit_drive(client: Client, case_id: str) -> None:
    await poll(client, case_id, lambda v: "completeness_decision" in v.pending_events)
    await update(
        client,
        case_id,
        "completeness_decision",
        CompletenessDecision(complete=True, decided_by="A"),
        f"{case_id}/completeness",
    )
    await poll(client, case_id, lambda v: "qualification_decision" in v.pending_events)
    await update(
        client,
        case_id,
        "qualification_decision",
        QualificationDecision(compliant=True, decided_by="B"),
        f"{case_id}/qualification",
    )


class _PermitScenario(Scenario):
    async def registered(self, client: Client, case_id: str) -> CaseView:
        """Registered and waiting for the completeness decision: the completeness check's term starts after the
        state registries answer, a moment after the service term (665/NK p.6)."""
        return await poll(client, case_id, lambda v: "completeness_decision" in v.pending_events)

    async def finished(self, client: Client, case_id: str) -> Any:
        """The service is done when the permit is valid; the case then lives on for the permit's ten years."""
        return await poll(client, case_id, lambda v: v.status == "permit_valid", timeout=240)


def _permit_effects(c: str) -> dict[str, int]:
    return {
        "sms": _count(SmsOutbox, c),
        "documents": _count(Document, c),
        "permits": _count(PermitRecord, c),
        "deliveries": _count(PersonalAccountDelivery, c),
    }


PERMIT = _PermitScenario(
    "mvno_permit",
    _permit_start,
    _permit_drive,
    _permit_effects,
    {"sms": 1, "documents": 1, "permits": 1, "deliveries": 1},
)

# -- act 58: a number connected to the e-government account through the portal (OTP by SMS + EDS) -------


async def _egov_start(client: Client, tq: str, suffix: str) -> str:
    from tests.subscribers import new_phone, person
    from workflows.egov_number_connection import SPEC as EGOV
    from workflows.egov_number_connection import EgovNumberConnection

    inp = EgovConnectionInput(iin=person(), phone=new_phone(), channel=Channel.PORTAL, received_at=datetime.now(UTC))
    _PEOPLE[EGOV.case_id(inp)] = (inp.iin, inp.phone)
    await client.start_workflow(EgovNumberConnection.run, inp, id=EGOV.case_id(inp), task_queue=tq)
    return EGOV.case_id(inp)


async def _egov_drive(client: Client, case_id: str) -> None:
    from tests.subscribers import digest_entry, eds_signature, sms_secret

    iin, phone = _PEOPLE[case_id]
    view = None
    for _ in range(600):
        try:
            view = await client.get_workflow_handle(case_id).query("egov", result_type=EgovView)
        except RPCError:
            view = None
        if view is not None and view.otp_id is not None and view.signing_payload is not None:
            break
        await asyncio.sleep(POLL_SECONDS)
    assert view is not None and view.otp_id is not None and view.signing_payload is not None
    await update(client, case_id, "enter_otp", digest_entry(view.otp_id, sms_secret(phone, "1414")), f"{case_id}/otp")
    await update(client, case_id, "sign_request", eds_signature(iin, view.signing_payload), f"{case_id}/eds")


_PEOPLE: dict[str, tuple[str, str]] = {}

EGOV = Scenario(
    "egov_number_connection",
    _egov_start,
    _egov_drive,
    lambda c: {
        "sms": _count(SmsOutbox, c),
        "documents": _count(Document, c),
        "connected": _count(MobileCitizenNumber, c),
    },
    {"sms": 1, "documents": 1, "connected": 1},
    fresh_after_a_lost_attempt=frozenset({"sms"}),
)


# -- act 71 (abolished): a mailbox applied for while the act was in force, confirmed with an EDS ----------


async def _mailbox_start(client: Client, tq: str, suffix: str) -> str:
    from tests.subscribers import person
    from workflows.electronic_mailbox import SPEC as MAILBOX
    from workflows.electronic_mailbox import ElectronicMailbox

    inp = MailboxApplicationInput(
        iin=person(),
        login=f"e2e.{suffix}".replace("-", "."),
        channel="online",
        received_at=datetime(2024, 5, 2, 10, 0, tzinfo=UTC),
        official_correspondence=True,
    )
    _PEOPLE[MAILBOX.case_id(inp)] = (inp.iin or "", "")
    await client.start_workflow(ElectronicMailbox.run, inp, id=MAILBOX.case_id(inp), task_queue=tq)
    return MAILBOX.case_id(inp)


async def _mailbox_drive(client: Client, case_id: str) -> None:
    from tests.subscribers import eds_signature

    await poll(client, case_id, lambda v: "confirm_with_eds" in v.pending_events)
    payload = await client.get_workflow_handle(case_id).query("payload_to_sign", result_type=str)
    await update(client, case_id, "confirm_with_eds", eds_signature(_PEOPLE[case_id][0], payload), f"{case_id}/eds")


MAILBOX = Scenario(
    "electronic_mailbox",
    _mailbox_start,
    _mailbox_drive,
    lambda c: {"mailboxes": _count(Mailbox, c)},
    {"mailboxes": 1},
    has_deadlines=False,
)

# -- AlmaTel: the eight steps of signing the public-contract application with an EDS ---------------------


async def _signing_start(client: Client, tq: str, suffix: str) -> str:
    from activities.mobile_citizens import LocalMobileCitizensDatabase
    from models.contract_eds_signing import ContractApplication
    from models.egov_number_connection import ConnectNumberRequest
    from tests.subscribers import new_phone, person
    from workflows.contract_eds_signing import SPEC as SIGNING
    from workflows.contract_eds_signing import ContractSigning

    iin, phone = person(name="ASANOVA AIGERIM"), new_phone()
    LocalMobileCitizensDatabase().connect(
        ConnectNumberRequest(case_id=f"seed-{suffix}", iin=iin, phone=phone, channel="portal")
    )
    inp = ContractApplication(
        order_ref=f"E2E-{suffix}",
        iin=iin,
        full_name="ASANOVA AIGERIM",
        phone=phone,
        address="Almaty, Abai ave. 10",
        services=["Home internet"],
        tariff="Family+",
        equipment_serials=["ONT-1"],
        received_at=datetime.now(UTC),
    )
    _PEOPLE[SIGNING.case_id(inp)] = (iin, phone)
    await client.start_workflow(ContractSigning.run, inp, id=SIGNING.case_id(inp), task_queue=tq)
    return SIGNING.case_id(inp)


async def _signing_drive(client: Client, case_id: str) -> None:
    from activities.eds import seal_eds_password
    from models.contract_eds_signing import Consent, SealedPassword, SigningView, TechnicianCodeReceived
    from models.identification import BiometricReport
    from tests.subscribers import digest_entry, sms_secret

    phone = _PEOPLE[case_id][1]
    events: dict[int, tuple[str, Callable[[SigningView], Any]]] = {
        1: ("technician_code_received", lambda v: TechnicianCodeReceived(technician_id="tech-1")),
        2: ("open_application", lambda v: digest_entry(v.link_id or "", sms_secret(phone, "3344"))),
        3: ("open_signing_page", lambda v: None),
        4: ("give_privacy_consent", lambda v: Consent(accepted=True)),
        5: ("enter_code", lambda v: digest_entry(v.otp_id or "", sms_secret(phone, "1414"))),
        6: ("report_biometrics", lambda v: BiometricReport(session_id=f"bio-{case_id}", passed=True)),
        7: ("give_eds_consent", lambda v: Consent(accepted=True)),
        8: ("choose_eds_password", lambda v: SealedPassword(sealed=seal_eds_password(case_id, "Qazaq2026!"))),
    }
    for n in range(1, 9):
        for _ in range(600):
            with suppress(RPCError):
                view = await client.get_workflow_handle(case_id).query("signing", result_type=SigningView)
                if view.step == n and (n != 2 or view.link_id):
                    break
            await asyncio.sleep(POLL_SECONDS)
        name, make = events[n]
        await update(client, case_id, name, make(view), f"{case_id}/step{n}")


SIGNING = Scenario(
    "contract_eds_signing",
    _signing_start,
    _signing_drive,
    lambda c: {"sms": _count(SmsOutbox, c), "documents": _count(Document, c)},
    {"sms": 2, "documents": 2},
    fresh_after_a_lost_attempt=frozenset({"sms"}),
)

SCENARIOS: list[Scenario] = [COMPLAINT, FRAUD, PERMIT, EGOV, MAILBOX, SIGNING]
