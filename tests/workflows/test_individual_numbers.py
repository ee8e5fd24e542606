"""Numbers for an individual (171 p.55-1…55-6): the ten-number limit at 10 and 11, the employee's
review within its term, refusal with the reason and a re-application that refers to it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.numbers import LocalNumbersRegister
from activities.subscriber_registry import find_subscriber
from infra.db import session
from models.deadlines import DeadlineStatus
from models.individual_numbers import (
    Device,
    ExtraNumbersJustification,
    NumbersApplicationInput,
    NumbersReviewDecision,
    RegisterNumbersRequest,
)
from models.tables import NumbersApplicationRecord, SignedContract
from rules.calendar import ALMATY
from tests.cases import ending_leftovers, stop
from tests.golden_tools import save_golden
from tests.subscribers import new_phone, person, until
from worker import make_worker
from workflows.individual_numbers import SPEC, IndividualNumbers

P = "individual_numbers"

JUSTIFICATION = ExtraNumbersJustification(
    purposes=["telemetry of greenhouse sensors", "family members"],
    justification="a farm with machine-to-machine sensors needs its own numbers",
    devices=[
        Device(description="soil sensor", identifier="IMEI356938035643809", machine_to_machine=True),
        Device(description="phone of a family member", identifier="IMEI490154203237518"),
    ],
    accuracy_confirmed=True,
)


@pytest.fixture
async def worker(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[None]:
    async with (
        make_worker(env.client, task_queue=task_queue, workflows=[IndividualNumbers]),
        ending_leftovers(env.client),
    ):
        yield


async def individual(holding: int, *, contract: bool = True) -> tuple[str, str]:
    """A person holding ``holding`` numbers, with a signed contract (the signing case's id)."""
    iin = person()
    contract_id = f"contract_eds_signing-{uuid.uuid4().hex[:20]}"
    if contract:
        with session() as s:
            s.add(SignedContract(case_id=contract_id, iin=iin, zip_doc_id=f"{contract_id}/zip", cert_serial="1"))
    if holding:
        LocalNumbersRegister().register(
            RegisterNumbersRequest(
                case_id=f"earlier-{uuid.uuid4()}",
                iin=iin,
                numbers=[new_phone() for _ in range(holding)],
                contract_case_id=contract_id,
            )
        )
    return iin, contract_id


def held(iin: str) -> int:
    """How many numbers the operator's one register (the one the fraud procedure reads) gives the person."""
    from sqlmodel import select

    from models.tables import Subscriber, SubscriberNumber

    with session() as s:
        sub = s.exec(select(Subscriber).where(Subscriber.iin == iin)).first()
        if sub is None:
            return 0
        return len(list(s.exec(select(SubscriberNumber).where(SubscriberNumber.subscriber_id == sub.id))))


async def apply(
    env: WorkflowEnvironment,
    task_queue: str,
    iin: str,
    contract_id: str,
    count: int,
    *,
    justification: ExtraNumbersJustification | None = None,
    refers_to: str | None = None,
    phone: str | None = None,
) -> WorkflowHandle:
    inp = NumbersApplicationInput(
        iin=iin,
        numbers=[new_phone() for _ in range(count)],
        received_at=await env.get_current_time(),
        contract_case_id=contract_id,
        justification=justification,
        refers_to_case_id=refers_to,
        phone=phone,
    )
    return await env.client.start_workflow(IndividualNumbers.run, inp, id=SPEC.case_id(inp), task_queue=task_queue)


async def in_review(handle: WorkflowHandle) -> None:
    await until(lambda: handle.query(IndividualNumbers.case), lambda c: c.status == "review" or c.closed)


async def test_ten_numbers_in_total_are_registered_on_application(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, contract = await individual(7)
    handle = await apply(env, task_queue, iin, contract, 3)
    result = await handle.result()
    assert result.outcome == "registered" and result.cite == "171 p.55-1"
    assert result.held_before == 7 and len(result.registered) == 3
    assert held(iin) == 10
    record = find_subscriber(result.registered[0])  # the fraud procedure's lookup sees them
    assert record.found and record.iin == iin and len(record.numbers) == 10
    await save_golden(handle, P, "ten_registered")
    # the same path on the branches of issue 16 (the record published only where it changed, races settled)
    await save_golden(handle, P, "ten_registered_publishing_changes_only")
    await save_golden(handle, P, "ten_registered_sms_in_kk_and_ru")  # and its SMS worded in Kazakh and Russian
    await save_golden(handle, P, "ten_registered_on_current_paths")
    await save_golden(handle, P, "ten_registered_without_defaults")  # begun on RECORDS_WITHOUT_DEFAULTS
    await save_golden(handle, P, "ten_registered_current_paths_sms_in_kk_and_ru")


async def test_the_eleventh_number_without_justification_is_refused_with_the_reason(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, contract = await individual(8)
    handle = await apply(env, task_queue, iin, contract, 3)
    result = await handle.result()
    assert result.outcome == "refused" and result.cite == "171 p.55-2, p.55-3"
    assert "would hold 11 numbers" in (result.reason or "") and "identification codes" in (result.reason or "")
    assert held(iin) == 8
    await save_golden(handle, P, "eleven_without_justification")


async def test_14_13_a_refusal_of_more_than_ten_numbers_reaches_the_applicant_with_its_reason(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    """171 p.55-4: the operator refuses "stating the reason": the answer is a document in the applicant's personal
    account and an SMS to the applicant's number, and the reason shows in the case view (API, console, CLI)."""
    from sqlmodel import select

    from infra.store import load_document
    from models.tables import PersonalAccountDelivery, SmsOutbox

    iin, contract = await individual(8)
    phone = new_phone()
    handle = await apply(env, task_queue, iin, contract, 3, phone=phone)
    result = await handle.result()
    assert result.outcome == "refused" and "would hold 11 numbers" in (result.reason or "")
    case = await handle.query(IndividualNumbers.case)
    assert case.details["outcome"] == "refused" and case.details["reason"] == result.reason
    assert case.details["cite"] == "171 p.55-2, p.55-3"
    [doc] = case.documents
    assert doc.kind == "numbers_answer"
    stored = load_document(doc.doc_id)
    assert stored is not None and "would hold 11 numbers" in stored.content.decode()
    with session() as s:
        [delivery] = s.exec(select(PersonalAccountDelivery).where(PersonalAccountDelivery.doc_id == doc.doc_id)).all()
        [sms] = s.exec(select(SmsOutbox).where(SmsOutbox.case_id == handle.id)).all()
    assert delivery.recipient and iin not in delivery.recipient  # a pseudonym, never the IIN in clear
    assert sms.to == phone and "бас тартылды" in sms.text and "would hold 11 numbers" in sms.text
    await save_golden(handle, P, "eleven_refused_and_answered")


async def test_refusal_after_review_and_a_re_application_that_refers_to_it(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, contract = await individual(10)
    first = await apply(env, task_queue, iin, contract, 1, justification=JUSTIFICATION)
    await in_review(first)
    [review] = await first.query(IndividualNumbers.deadlines)
    assert review.deadline.cite == "171 p.55-4, p.57(16)" and review.deadline.to_be_confirmed
    assert (await first.query(IndividualNumbers.case)).pending_events == ["review_decision"]
    reason = "the device identifiers do not match the declared purposes"
    assert (
        await first.execute_update(
            IndividualNumbers.review_decision,
            NumbersReviewDecision(approve=False, reviewer="employee-7", reason=reason),
        )
        == "refused"
    )
    refused = await first.result()
    assert refused.outcome == "refused" and refused.reason == reason and refused.cite == "171 p.55-4"
    assert held(iin) == 10
    await save_golden(first, P, "review_refused")

    second = await apply(env, task_queue, iin, contract, 1, justification=JUSTIFICATION, refers_to=first.id)
    await in_review(second)
    await second.execute_update(
        IndividualNumbers.review_decision, NumbersReviewDecision(approve=True, reviewer="employee-7")
    )
    result = await second.result()
    assert result.outcome == "registered" and result.refers_to_case_id == first.id and len(result.registered) == 1
    assert held(iin) == 11
    with session() as s:
        record = s.get(NumbersApplicationRecord, second.id)
    assert record is not None and record.refers_to_case_id == first.id
    await save_golden(second, P, "re_application_registered")


async def test_review_term_breach_is_escalated_and_the_late_decision_recorded(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, contract = await individual(10)
    handle = await apply(env, task_queue, iin, contract, 2, justification=JUSTIFICATION)
    await in_review(handle)
    [review] = await handle.query(IndividualNumbers.deadlines)
    await env.sleep(review.due - await env.get_current_time() + timedelta(seconds=1))
    [review] = await handle.query(IndividualNumbers.deadlines)
    assert review.status is DeadlineStatus.BREACHED and review.escalated
    await handle.execute_update(
        IndividualNumbers.review_decision, NumbersReviewDecision(approve=True, reviewer="employee-9")
    )
    result = await handle.result()
    assert result.outcome == "registered"
    [review] = await handle.query(IndividualNumbers.deadlines)
    assert review.late_by_seconds is not None and review.late_by_seconds > 0


async def test_without_a_signed_contract_numbers_are_not_registered(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, contract = await individual(0, contract=False)
    result = await (await apply(env, task_queue, iin, contract, 1)).result()
    assert result.outcome == "refused" and result.cite == "171 p.55-6"


async def test_re_application_must_refer_to_a_refused_application_of_the_same_person(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, contract = await individual(0)
    granted = await apply(env, task_queue, iin, contract, 1)
    await granted.result()
    result = await (await apply(env, task_queue, iin, contract, 1, refers_to=granted.id)).result()
    assert result.outcome == "refused" and result.cite == "171 p.55-5"


def test_a_refusal_states_its_reason_and_more_than_ten_needs_confirmed_data() -> None:
    with pytest.raises(ValueError, match="must state its reason"):
        NumbersReviewDecision(approve=False, reviewer="employee-7")
    with pytest.raises(ValueError, match="confirm that the data are accurate"):
        ExtraNumbersJustification.model_validate({**JUSTIFICATION.model_dump(), "accuracy_confirmed": False})


def test_an_application_dated_before_554_nk_is_refused_at_the_edge() -> None:
    """p.55-1 … 55-6 were added by 554/NK: an application of June 2025 is refused at the edge, naming the
    paragraph and the dates, and is not refused under p.55 as if the limit had existed then."""
    from infra.cases import CaseError, check_intake

    inp = NumbersApplicationInput(
        iin="900101300017",
        numbers=[new_phone() for _ in range(11)],
        received_at=datetime(2025, 6, 16, 10, 0, tzinfo=ALMATY),
        contract_case_id="contract_eds_signing-0000",
    )
    with pytest.raises(CaseError, match=r"171 p\.55-1 does not apply on 2025-06-16: it was added by 171/554-NK-2025"):
        check_intake(SPEC, inp)


def test_two_registrations_at_once_cannot_pass_the_limit_nor_share_a_number() -> None:
    """The register checks again as it writes, holding the individual's entry from its first write (an adversarial
    run, 2026-12-04: three applications of six numbers sent at once all registered, 18 numbers without review; one
    number was reported registered to two people, the register holding it for one)."""
    import threading

    from temporalio.exceptions import ApplicationError

    from models.individual_numbers import LIMIT, REGISTER_REFUSED

    def at_once(requests: list[RegisterNumbersRequest]) -> list[object]:
        gate, out = threading.Barrier(len(requests)), [None] * len(requests)

        def run(i: int) -> None:
            gate.wait()
            try:
                out[i] = LocalNumbersRegister().register(requests[i])
            except ApplicationError as exc:
                out[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return list(out)

    for holding in (0, 1):  # a person the register does not know yet (its first write an insert), and one it does
        iin, contract = asyncio.run(individual(holding))
        six = [[new_phone() for _ in range(6)] for _ in range(3)]
        reqs = [
            RegisterNumbersRequest(case_id=f"c-{i}", iin=iin, numbers=n, contract_case_id=contract, limit=LIMIT)
            for i, n in enumerate(six)
        ]
        answers = at_once(reqs)
        refused = [a for a in answers if isinstance(a, ApplicationError)]
        assert len(refused) == 2 and all(r.type == REGISTER_REFUSED for r in refused), answers
        assert all("would hold" in str(r) for r in refused) and held(iin) == holding + 6

    one = new_phone()
    (first, c1), (second, c2) = asyncio.run(individual(0)), asyncio.run(individual(0))
    answers = at_once(
        [
            RegisterNumbersRequest(case_id="a", iin=first, numbers=[one], contract_case_id=c1, limit=LIMIT),
            RegisterNumbersRequest(case_id="b", iin=second, numbers=[one], contract_case_id=c2, limit=LIMIT),
        ]
    )
    assert [one] in answers
    [lost] = [x for x in answers if isinstance(x, ApplicationError)]
    assert "registered to another subscriber" in str(lost) and held(first) + held(second) == 1


async def test_a_registration_the_register_refuses_as_it_writes_ends_the_case_refused_with_the_reason(
    env: WorkflowEnvironment, task_queue: str, worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read before another application registered: the case's check passed on what it read, the register refuses
    on what it holds, and the case is refused with that reason (its answer delivered), not "registered"."""
    from models.individual_numbers import NumbersHeld, NumbersHeldRequest
    from rules.law import cite

    iin, contract = await individual(9)

    def stale(self: LocalNumbersRegister, req: NumbersHeldRequest) -> NumbersHeld:  # as read before the other one
        return NumbersHeld(count=0, already_held=[], held_by_others=[], applicant_ref="r")

    monkeypatch.setattr(LocalNumbersRegister, "held", stale)
    handle = await apply(env, task_queue, iin, contract, 3)
    result = await handle.result()
    assert result.outcome == "refused" and result.registered == [] and result.cite == cite("171", "p.55-1")
    assert "would hold 12 numbers" in (result.reason or "") and held(iin) == 9
    with session() as s:
        record = s.get(NumbersApplicationRecord, handle.id)
    assert record is not None and record.outcome == "refused"
    await save_golden(handle, P, "refused_by_the_register_as_it_writes")


async def test_an_application_naming_no_signing_case_is_refused_at_the_edge(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    """A mistyped signing case id was not checked: the case opened and refused the citizen at once, the refusal
    delivered to their personal account, as if they had signed no contract (an adversarial run of 2026-12-04). The
    edge refuses an id of no case, and one of a case of another procedure, before any case exists."""
    from infra.cases import CaseError, start_case

    iin, contract_id = await individual(0)
    inp = NumbersApplicationInput(
        iin=iin, numbers=[new_phone()], received_at=await env.get_current_time(), contract_case_id=contract_id
    )
    with pytest.raises(CaseError, match="contract_case_id: no such case is known here"):
        await start_case(env.client, SPEC, inp, task_queue=task_queue)
    async with make_worker(env.client, task_queue=task_queue):
        other = await apply(env, task_queue, *(await individual(0)), 1)  # a numbers case, not a signing one
        named = inp.model_copy(update={"contract_case_id": other.id})
        with pytest.raises(CaseError, match="contract_case_id: names a case that is not a contract_eds_signing case"):
            await start_case(env.client, SPEC, named, task_queue=task_queue)
        await stop(other)
    with pytest.raises(RPCError):  # no case was opened for either
        await env.client.get_workflow_handle(SPEC.case_id(inp)).describe()
