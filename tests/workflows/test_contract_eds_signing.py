"""Signing the public-contract application with an EDS (almatel-eds): all eight steps, the ZIP that
OpenSSL verifies, the password policy, timeouts and abandonment."""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.eds import _OAEP, issuer_key, seal_eds_password
from activities.mobile_citizens import LocalMobileCitizensDatabase
from infra import outages
from infra.cases import pending_calls
from infra.db import session
from infra.store import load_document
from models.case import ResumeRequest
from models.contract_eds_signing import Consent, ContractApplication, SealedPassword, TechnicianCodeReceived
from models.deadlines import DeadlineStatus
from models.egov_number_connection import ConnectNumberRequest
from models.identification import SESSION_REUSED, BiometricReport
from models.tables import BiometricCheckRecord, SignedContract, SubscriberKey
from tests.cases import ending_leftovers
from tests.golden_tools import save_golden
from tests.refs import opaque
from tests.subscribers import (
    digest_entry,
    history_text,
    new_phone,
    person,
    rejected,
    sms_secret,
    sms_to,
    until,
)
from worker import make_worker
from workflows.contract_eds_signing import SPEC, ContractSigning

P = "contract_eds_signing"
PASSWORD = "Kz-Eds#2026pass"


@pytest.fixture
async def worker(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[None]:
    async with (
        make_worker(env.client, task_queue=task_queue, workflows=[ContractSigning]),
        ending_leftovers(env.client),
    ):
        yield


async def subscriber(in_mcd: bool = True) -> tuple[str, str]:
    iin, phone = person(name="ASANOVA AIGERIM"), new_phone()
    if in_mcd:
        LocalMobileCitizensDatabase().connect(
            ConnectNumberRequest(case_id=f"seed-{uuid.uuid4()}", iin=iin, phone=phone, channel="portal")
        )
    return iin, phone


async def start(env: WorkflowEnvironment, task_queue: str, iin: str, phone: str) -> WorkflowHandle:
    inp = ContractApplication(
        order_ref=opaque("ORD-", 10),
        iin=iin,
        full_name="ASANOVA AIGERIM",
        phone=phone,
        address="Almaty, Abai ave. 10, apt 5",
        services=["Home internet 500 Mbit/s", "IPTV"],
        tariff="Family+",
        equipment_serials=["ONT-ZTE-F670L-00123", "STB-7788"],
        received_at=await env.get_current_time(),
    )
    handle = await env.client.start_workflow(ContractSigning.run, inp, id=SPEC.case_id(inp), task_queue=task_queue)
    await until(lambda: handle.query(ContractSigning.case), lambda c: c.status.startswith("step1") or c.closed)
    return handle


async def at_step(handle: WorkflowHandle, n: int) -> None:
    # at step 2 the 3344 link is sent once the step has opened
    await until(lambda: handle.query(ContractSigning.signing), lambda v: v.step == n and (n != 2 or bool(v.link_id)))


async def drive(handle: WorkflowHandle, phone: str, through: int, first: int = 1) -> None:
    """Complete steps 1..``through`` as the subscriber, technician and Biometric ID would."""
    steps = {
        1: lambda v: handle.execute_update(
            ContractSigning.technician_code_received, TechnicianCodeReceived(technician_id="tech-042")
        ),
        2: lambda v: handle.execute_update(
            ContractSigning.open_application, digest_entry(v.link_id, sms_secret(phone, "3344"))
        ),
        3: lambda v: handle.execute_update(ContractSigning.open_signing_page),
        4: lambda v: handle.execute_update(ContractSigning.give_privacy_consent, Consent(accepted=True)),
        5: lambda v: handle.execute_update(
            ContractSigning.enter_code, digest_entry(v.otp_id, sms_secret(phone, "1414"))
        ),
        6: lambda v: handle.execute_update(
            ContractSigning.report_biometrics, BiometricReport(session_id=f"bio-{uuid.uuid4()}", passed=True)
        ),
        7: lambda v: handle.execute_update(ContractSigning.give_eds_consent, Consent(accepted=True)),
    }
    for n in range(first, through + 1):
        await at_step(handle, n)
        view = await handle.query(ContractSigning.signing)
        answer = await steps[n](view)
        assert answer.accepted, (n, answer.message)


def openssl_verifies(zip_bytes: bytes, tmp: Path) -> subprocess.CompletedProcess[str]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        z.extractall(tmp)
    return subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp / "application.html.p7s"),
            "-content",
            str(tmp / "application.html"),
            "-CAfile",
            str(tmp / "issuer-ca.pem"),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl binary not installed")
async def test_all_eight_steps_sign_the_application_and_the_zip_verifies_with_openssl(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
    tmp_path: Path,
) -> None:
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    assert [m.sender for m in sms_to(phone)] == ["1414"]
    code = sms_secret(phone, "1414")
    await drive(handle, phone, 1)
    await at_step(handle, 2)
    assert [m.sender for m in sms_to(phone)] == ["1414", "3344"]
    link = sms_secret(phone, "3344")
    await drive(handle, phone, 7, first=2)
    await at_step(handle, 8)
    assert (await handle.query(ContractSigning.case)).pending_events == ["choose_eds_password"]
    answer = await handle.execute_update(
        ContractSigning.choose_eds_password, SealedPassword(sealed=seal_eds_password(handle.id, PASSWORD))
    )
    assert answer.accepted, answer.message
    result = await handle.result()
    assert result.outcome == "signed" and result.zip is not None and result.step == 8
    stored = load_document(result.zip.doc_id)
    assert stored is not None and stored.media_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(stored.content)) as z:
        assert set(z.namelist()) >= {"application.html", "application.html.p7s", "signer-certificate.pem"}
        page = z.read("application.html").decode()
        cert = x509.load_pem_x509_certificate(z.read("signer-certificate.pem"))
    for shown in ("ASANOVA AIGERIM", "Family+", "Abai ave. 10", "ONT-ZTE-F670L-00123", "IPTV", iin):
        assert shown in page
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == f"IIN{iin}"
    run = openssl_verifies(stored.content, tmp_path)
    assert run.returncode == 0 and "Verification successful" in run.stderr, run.stderr
    # The private key exists only under the subscriber's password.
    with session() as s:
        key_row = s.get(SubscriberKey, handle.id)
        contract = s.get(SignedContract, handle.id)
    assert key_row is not None and contract is not None and contract.iin == iin
    key, p12_cert, _ = pkcs12.load_key_and_certificates(key_row.pkcs12, PASSWORD.encode())
    assert key is not None and p12_cert == cert
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(key_row.pkcs12, b"wrong-Pass1!")
    # Neither the password, nor the 1414 code, nor the link token is in the history.
    text = await history_text(handle)
    assert "ASANOVA AIGERIM" in text  # the search does read the payloads
    assert PASSWORD not in text and link not in text and f"code {code}" not in text and f'"{code}"' not in text
    states = {s.key: s for s in await handle.query(ContractSigning.deadlines)}
    assert all(states[f"step{n}"].status is DeadlineStatus.MET for n in range(1, 9))
    assert states["step8"].deadline.cite == "almatel-eds step 8 (operator setting)"
    await save_golden(handle, P, "signed_with_clock_patches")
    # the same path on the branches of issue 16 (the record published only where it changed, races settled)
    await save_golden(handle, P, "signed_publishing_changes_only")
    await save_golden(handle, P, "signed_on_current_paths")
    await save_golden(handle, P, "signed_without_defaults")  # begun on RECORDS_WITHOUT_DEFAULTS


async def test_weak_password_is_refused_clearly_and_never_recorded(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    await drive(handle, phone, 7)
    await at_step(handle, 8)
    weak = "onlyletters-and-digits-123"
    with pytest.raises(ValueError, match=r"must contain a special character \(@\$!%\*#\?&\) \(almatel-eds step 8\)"):
        seal_eds_password(handle.id, weak)  # the edge refuses it before anything is sent
    # A client that skips the edge check: the issuer applies the policy itself.
    bypass = issuer_key().public_key().encrypt(json.dumps({"case_id": handle.id, "password": weak}).encode(), _OAEP)
    answer = await handle.execute_update(ContractSigning.choose_eds_password, SealedPassword(sealed=bypass))
    assert not answer.accepted and "must contain a special character" in answer.message
    assert (await handle.query(ContractSigning.signing)).step == 8  # the subscriber may choose another
    other_case = seal_eds_password("another-case", PASSWORD)
    answer = await handle.execute_update(ContractSigning.choose_eds_password, SealedPassword(sealed=other_case))
    assert not answer.accepted and "another case" in answer.message
    answer = await handle.execute_update(
        ContractSigning.choose_eds_password, SealedPassword(sealed=seal_eds_password(handle.id, PASSWORD))
    )
    assert answer.accepted
    assert (await handle.result()).outcome == "signed"
    text = await history_text(handle)
    assert "choose_eds_password" in text and "Family+" in text  # the search does read the payloads
    assert weak not in text and PASSWORD not in text
    assert caplog.records and weak not in caplog.text and PASSWORD not in caplog.text
    await save_golden(handle, P, "weak_password_then_signed_with_clock_patches")


async def test_a_step_not_done_in_its_term_is_recorded_as_abandonment(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    await drive(handle, phone, 2)
    await at_step(handle, 3)
    await env.sleep(timedelta(minutes=31))
    result = await handle.result()
    assert result.outcome == "abandoned" and result.step == 3
    assert "almatel-eds step 3 (operator setting)" in (result.reason or "")
    case = await handle.query(ContractSigning.case)
    assert case.status == "abandoned_step3" and case.outcome == "abandoned"
    states = {s.key: s for s in case.deadlines}
    assert states["step3"].status is DeadlineStatus.BREACHED
    assert states["step3"].breached_at is not None and states["step3"].breached_at >= states["step3"].due
    assert states["code_validity"].status is DeadlineStatus.CANCELLED
    await save_golden(handle, P, "abandoned_step3_with_clock_patches")


async def test_steps_out_of_order_are_rejected_with_the_step_awaited(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    message = await rejected(handle.execute_update(ContractSigning.give_eds_consent, Consent(accepted=True)))
    assert message == "the signing is at step 1 (code_to_technician), not at step 7"
    await handle.terminate("test done")


async def test_the_link_step_is_not_offered_before_its_link_has_been_sent(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    """Step 2 opens before the 3344 SMS has gone: until the link exists nothing can open it (the API turns the code
    into the link's digest, and found no link where the case offered the step)."""
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    outages.begin("sms_gateway", await env.get_current_time(), timedelta(minutes=30), "gateway maintenance")
    try:
        await drive(handle, phone, 1)
        await env.sleep(timedelta(minutes=2))
        [call] = await pending_calls(env.client, handle.id)
        assert call.activity == "issue_secret" and call.attempt > 1
        case = await handle.query(ContractSigning.case)
        assert case.status == "step2_application_link" and case.pending_events == []
        assert (await handle.query(ContractSigning.signing)).link_id is None
        message = await rejected(handle.execute_update(ContractSigning.open_application, digest_entry("none", "0")))
        assert message == "the 3344 link is still being sent: it can be opened once it has arrived"
    finally:
        outages.end("sms_gateway")
    await env.sleep(timedelta(minutes=30))
    await at_step(handle, 2)
    assert (await handle.query(ContractSigning.case)).pending_events == ["open_application"]
    await drive(handle, phone, 2, first=2)
    await handle.terminate("test done")


async def test_wrong_1414_code_three_times_ends_the_signing(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    await drive(handle, phone, 4)
    await at_step(handle, 5)
    view = await handle.query(ContractSigning.signing)
    assert view.otp_id is not None
    wrong = f"{(int(sms_secret(phone, '1414')) + 1) % 10**6:06d}"
    answers = [
        await handle.execute_update(ContractSigning.enter_code, digest_entry(view.otp_id, wrong)) for _ in range(3)
    ]
    assert [a.attempts_left for a in answers] == [2, 1, 0]
    result = await handle.result()
    assert result.outcome == "refused" and result.step == 5 and "1414 code" in (result.reason or "")
    await save_golden(handle, P, "wrong_code_refused_with_clock_patches")


async def test_failed_biometric_identification_ends_the_signing(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    await drive(handle, phone, 5)
    await at_step(handle, 6)
    answer = await handle.execute_update(
        ContractSigning.report_biometrics,
        BiometricReport(session_id=f"bio-{uuid.uuid4()}", passed=False, reason="liveness check failed"),
    )
    assert not answer.accepted
    result = await handle.result()
    assert result.outcome == "refused" and result.step == 6 and "liveness" in (result.reason or "")
    await save_golden(handle, P, "biometrics_failed_with_clock_patches")


async def test_a_pass_recorded_for_another_case_is_refused_and_the_signing_waits_for_its_own_verdict(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    """A session whose pass the provider recorded for another case (an e-gov connection) reported here with a
    failure: refused, the signing stays at step 6; its own failure then ends it (almatel-eds step 6)."""
    elsewhere = f"bio-{uuid.uuid4()}"
    with session() as s:  # the provider's pass, recorded for an e-gov connection
        s.add(BiometricCheckRecord(session_id=elsewhere, case_id=f"egov-{uuid.uuid4()}", passed=True))
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    await drive(handle, phone, 5)
    await at_step(handle, 6)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(
            ContractSigning.report_biometrics,
            BiometricReport(session_id=elsewhere, passed=False, reason="liveness check failed"),
        )
    assert isinstance(err.value.cause, ApplicationError) and err.value.cause.type == SESSION_REUSED
    signing = await handle.query(ContractSigning.signing)
    view = await handle.query(ContractSigning.case)
    assert signing.step == 6 and view.pending_events == ["report_biometrics"] and view.blocked is None
    answer = await handle.execute_update(
        ContractSigning.report_biometrics,
        BiometricReport(session_id=f"bio-{uuid.uuid4()}", passed=False, reason="liveness check failed"),
    )
    assert not answer.accepted
    result = await handle.result()
    assert result.outcome == "refused" and result.step == 6
    await save_golden(handle, P, "biometric_session_of_another_case_refused")


async def test_number_outside_the_mobile_citizens_database_cannot_sign(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, phone = await subscriber(in_mcd=False)
    handle = await start(env, task_queue, iin, phone)
    result = await handle.result()
    assert result.outcome == "refused" and "Mobile Citizens Database" in (result.reason or "")
    assert sms_to(phone) == []


async def test_an_issuer_refusing_for_good_blocks_step_8_visibly_instead_of_blaming_the_password(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: None,
) -> None:
    iin, phone = await subscriber()
    handle = await start(env, task_queue, iin, phone)
    await drive(handle, phone, 7)
    await at_step(handle, 8)
    outages.begin("eds", await env.get_current_time(), None, "issuer's HSM decommissioned", permanent=True)
    try:
        update = await handle.start_update(
            ContractSigning.choose_eds_password,
            SealedPassword(sealed=seal_eds_password(handle.id, PASSWORD)),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
        case = await until(lambda: handle.query(ContractSigning.case), lambda c: c.blocked is not None)
        assert case.status == "blocked" and case.blocked is not None and case.blocked.what == "eds"
        assert case.blocked.status_before == "step8_eds_password" and "permanently" in case.blocked.error
        assert case.pending_events == ["resume_outside_step"]
    finally:
        outages.end("eds")
    await handle.execute_update("resume_outside_step", ResumeRequest(by="Operator on duty", note="issuer back"))
    answer = await update.result()
    assert answer.accepted
    assert (await handle.result()).outcome == "signed"
    case = await handle.query(ContractSigning.case)
    assert [b.what for b in case.blocked_steps] == ["eds"] and case.status == "signed"
