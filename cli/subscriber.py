"""Subscriber procedures: number connection (act 58), numbers for an individual (171 p.55), EDS contract
signing (almatel-eds), the abolished mailbox (act 71), and the events operator systems send.

Codes and links are sent as keyed digests, the EDS password sealed to the issuer: neither enters a
case's history in clear. Demo helpers put people in the local state registry, issue test EDS keys
from the local CA and show the local SMS outbox.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel
from rich.table import Table
from sqlmodel import col, select
from temporalio.client import WorkflowHandle

from activities.eds import seal_eds_password
from activities.local_ca import Identity, local_ca, sign_cms
from activities.otp import secret_digest
from activities.state_registry import add_person
from cli.common import console, deadline_table, load_json_model, run_async, with_client
from infra.cases import check_intake, start_case
from infra.db import session
from infra.store import load_document
from models.case import CaseView
from models.contract_eds_signing import (
    Consent,
    ContractApplication,
    SealedPassword,
    SigningView,
    StepAnswer,
    TechnicianCodeReceived,
)
from models.eds import SignatureCheck
from models.egov_number_connection import Channel, EgovConnectionInput, EgovView
from models.electronic_mailbox import MailboxApplicationInput
from models.identification import BiometricCheck, BiometricReport, EdsSignatureEvent, SecretCheck, SecretEntry
from models.individual_numbers import NumbersApplicationInput, NumbersReviewDecision
from models.procedure import ProcedureSpec
from models.tables import SmsOutbox
from rules.identifiers import iin_check, kz_mobile

app = typer.Typer(no_args_is_help=True, help=__doc__)
egov = typer.Typer(no_args_is_help=True, help="connecting a number to the e-government account (act 58)")
numbers = typer.Typer(no_args_is_help=True, help="numbers for an individual (171 p.55-1…55-6)")
signing = typer.Typer(no_args_is_help=True, help="signing the public-contract application with an EDS (almatel-eds)")
mailbox = typer.Typer(no_args_is_help=True, help="electronic subscriber mailbox (act 71, abolished by 305/NK)")
app.add_typer(egov, name="egov")
app.add_typer(numbers, name="numbers")
app.add_typer(signing, name="signing")
app.add_typer(mailbox, name="mailbox")


def _when(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise typer.BadParameter("give the offset, e.g. 2026-03-19T17:00:00+05:00", param_hint="--received-at")
    return parsed


async def _start(spec: ProcedureSpec, inp: BaseModel) -> None:
    """Start a case through the one start path; the same application gives back its case."""
    check_intake(spec, inp)
    started = await start_case(await with_client(), spec, inp)
    said = "started" if started.created else f"exists already ({started.answer.value})"
    console.print(f"case [bold]{started.case_id}[/bold] {said} ({spec.title})")


async def _handle(case_id: str) -> WorkflowHandle[Any, Any]:
    return (await with_client()).get_workflow_handle(case_id)


def _answer(ok: bool, message: str) -> None:
    console.print(("[green]accepted[/green] " if ok else "[red]not accepted[/red] ") + message)


def _load_identity(key: Path, cert: Path) -> Identity:
    k = serialization.load_pem_private_key(key.read_bytes(), password=None)
    if not isinstance(k, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key}: not an EC private key")
    return Identity(k, x509.load_pem_x509_certificate(cert.read_bytes()))


# --- demo helpers -----------------------------------------------------------------------------------


@app.command("demo-person")
def demo_person(
    id_number: str = typer.Argument(..., help="IIN (or BIN with --legal-entity)"),
    name: str = typer.Argument(...),
    legal_entity: bool = typer.Option(False, help="a legal entity identified by BIN"),
    no_consent: bool = typer.Option(False, help="no consent to access restricted personal data (Annex item 9)"),
) -> None:
    """Put a person (or legal entity) in the local state registry with a valid identity document."""
    add_person(
        id_number,
        name,
        kind="legal_entity" if legal_entity else "individual",
        document_valid_until=dt.datetime(2999, 12, 31, tzinfo=dt.UTC),
        consent=not no_consent,
    )
    console.print("added to the local state registry")


@app.command("demo-eds")
def demo_eds(
    iin: str = typer.Argument(...),
    name: str = typer.Argument(...),
    out: Path = typer.Option(Path("eds"), help="directory for key.pem and cert.pem"),
    bin_: str | None = typer.Option(None, "--bin", help="the organisation's BIN (official of a legal entity)"),
) -> None:
    """Issue a test EDS (key + certificate naming the IIN) from the local CA, as NCA would."""
    ident = local_ca().issue(name, iin=iin_check(iin), bin_=bin_)
    out.mkdir(parents=True, exist_ok=True)
    (out / "key.pem").write_bytes(
        ident.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (out / "key.pem").chmod(0o600)
    (out / "cert.pem").write_bytes(ident.cert_pem)
    console.print(f"{out}/key.pem and {out}/cert.pem written (local test CA, NOT for production)")


@app.command("sms")
def sms(phone: str = typer.Argument(..., help="the number the local SMS gateway sent to")) -> None:
    """What the local SMS gateway sent to a number (demo: the subscriber's phone)."""
    t = Table(title="SMS outbox (local gateway)")
    for name in ("accepted", "from", "text"):
        t.add_column(name, overflow="fold")
    with session() as s:
        query = select(SmsOutbox).where(SmsOutbox.to == kz_mobile(phone)).order_by(col(SmsOutbox.accepted_at))
        for m in s.exec(query):
            t.add_row(m.accepted_at.isoformat(timespec="seconds"), m.sender, m.text)
    console.print(t)


@app.command("show")
@run_async
async def show(case_id: str) -> None:
    """A subscriber case: status, outcome, pending events, terms and documents."""
    handle = await _handle(case_id)
    view = await handle.query("case", result_type=CaseView)
    console.print(
        f"[bold]{view.case_id}[/bold] {view.procedure}: {view.status}"
        + (f" (outcome: {view.outcome})" if view.outcome else "")
    )
    if view.pending_events:
        console.print("waiting for: " + ", ".join(view.pending_events))
    console.print(deadline_table(view.deadlines))
    for d in view.documents:
        console.print(f"document {d.doc_id} ({d.kind}) sha256 {d.sha256}")


# --- act 58 -------------------------------------------------------------------------------------------


@egov.command("start")
@run_async
async def egov_start(
    iin: str = typer.Option(...),
    phone: str = typer.Option(...),
    channel: Channel = typer.Option(Channel.PORTAL),
    previous_phone: str | None = typer.Option(None, help="the number replaced (change of number, 58 p.8)"),
    received_at: str | None = typer.Option(None, help="ISO instant with offset; default now"),
) -> None:
    """Request to connect a number; an OTP goes by SMS from 1414 and the 10-minute term starts."""
    from workflows.egov_number_connection import SPEC

    await _start(
        SPEC,
        EgovConnectionInput(
            iin=iin, phone=phone, channel=channel, previous_phone=previous_phone, received_at=_when(received_at)
        ),
    )


@egov.command("otp")
@run_async
async def egov_otp(case_id: str, code: str = typer.Option(..., prompt=True, hide_input=True)) -> None:
    """Enter the OTP (sent as a keyed digest); a wrong code says how many attempts are left."""
    handle = await _handle(case_id)
    view = await handle.query("egov", result_type=EgovView)
    if view.otp_id is None:
        raise ValueError("no code has been sent for this case")
    check = await handle.execute_update(
        "enter_otp", SecretEntry(digest=secret_digest(view.otp_id, code)), result_type=SecretCheck
    )
    _answer(check.correct, check.message)


@egov.command("sign")
@run_async
async def egov_sign(case_id: str, key: Path = typer.Option(...), cert: Path = typer.Option(...)) -> None:
    """Certify the request with an EDS (key and certificate in PEM): a CMS signature over the request."""
    handle = await _handle(case_id)
    view = await handle.query("egov", result_type=EgovView)
    signature = sign_cms((view.signing_payload or "").encode(), _load_identity(key, cert))
    check = await handle.execute_update(
        "sign_request", EdsSignatureEvent(signature=signature), result_type=SignatureCheck
    )
    _answer(check.valid, check.reason or f"signed by {check.subject}")


@egov.command("biometrics")
@run_async
async def egov_biometrics(
    case_id: str,
    session_id: str = typer.Option(...),
    passed: bool = typer.Option(..., "--passed/--failed"),
    reason: str | None = typer.Option(None),
) -> None:
    """The biometric provider's verdict (operator system event)."""
    check = await (await _handle(case_id)).execute_update(
        "report_biometrics",
        BiometricReport(session_id=session_id, passed=passed, reason=reason),
        result_type=BiometricCheck,
    )
    _answer(check.passed, check.reason or "biometric authentication recorded")


# --- 171 p.55 -----------------------------------------------------------------------------------------


@numbers.command("apply")
@run_async
async def numbers_apply(application: Path = typer.Argument(..., help="JSON of NumbersApplicationInput")) -> None:
    """An individual's application for numbers (more than ten in total go to an employee's review)."""
    from workflows.individual_numbers import SPEC

    await _start(SPEC, load_json_model(application, NumbersApplicationInput))


@numbers.command("decide")
@run_async
async def numbers_decide(
    case_id: str,
    approve: bool = typer.Option(..., "--approve/--refuse"),
    reviewer: str = typer.Option(...),
    reason: str | None = typer.Option(None),
) -> None:
    """The employee's decision on more than ten numbers; a refusal needs --reason (171 p.55-4)."""
    decision = NumbersReviewDecision(approve=approve, reviewer=reviewer, reason=reason)
    outcome = await (await _handle(case_id)).execute_update("review_decision", decision, result_type=str)
    console.print(f"decision recorded: {outcome}")


# --- almatel-eds ----------------------------------------------------------------------------------------


@signing.command("start")
@run_async
async def signing_start(application: Path = typer.Argument(..., help="JSON of ContractApplication")) -> None:
    """After the service is connected: the 1414 code goes by SMS and step 1 starts."""
    from workflows.contract_eds_signing import SPEC

    await _start(SPEC, load_json_model(application, ContractApplication))


async def _step(case_id: str, update: str, arg: BaseModel | None = None) -> None:
    handle = await _handle(case_id)
    if arg is None:
        answer = await handle.execute_update(update, result_type=StepAnswer)
    else:
        answer = await handle.execute_update(update, arg, result_type=StepAnswer)
    _answer(
        answer.accepted,
        answer.message + (f" ({answer.attempts_left} attempts left)" if answer.attempts_left is not None else ""),
    )


async def _view(case_id: str) -> SigningView:
    return await (await _handle(case_id)).query("signing", result_type=SigningView)


@signing.command("technician-code")
@run_async
async def signing_technician(case_id: str, technician: str = typer.Option(...)) -> None:
    """Step 1: the technician confirms the subscriber gave the 1414 code."""
    await _step(case_id, "technician_code_received", TechnicianCodeReceived(technician_id=technician))


@signing.command("open-link")
@run_async
async def signing_link(case_id: str, link: str = typer.Argument(..., help="the link from the 3344 SMS")) -> None:
    """Step 2: the subscriber opens the unique link; the page shows the application."""
    view = await _view(case_id)
    if view.link_id is None:
        raise ValueError("no link has been sent yet")
    await _step(case_id, "open_application", SecretEntry(digest=secret_digest(view.link_id, link)))


@signing.command("signing-page")
@run_async
async def signing_page(case_id: str) -> None:
    """Step 3: the biometric identification and EDS signing page is opened."""
    await _step(case_id, "open_signing_page")


@signing.command("privacy-consent")
@run_async
async def signing_privacy(case_id: str, decline: bool = typer.Option(False)) -> None:
    """Step 4: consent to the Biometric ID privacy policy."""
    await _step(case_id, "give_privacy_consent", Consent(accepted=not decline))


@signing.command("enter-code")
@run_async
async def signing_code(case_id: str, code: str = typer.Option(..., prompt=True, hide_input=True)) -> None:
    """Step 5: the 1414 code (sent as a keyed digest)."""
    view = await _view(case_id)
    if view.otp_id is None:
        raise ValueError("no code has been sent for this case")
    await _step(case_id, "enter_code", SecretEntry(digest=secret_digest(view.otp_id, code)))


@signing.command("biometrics")
@run_async
async def signing_biometrics(
    case_id: str,
    session_id: str = typer.Option(...),
    passed: bool = typer.Option(..., "--passed/--failed"),
    reason: str | None = typer.Option(None),
) -> None:
    """Step 6: Biometric ID's verdict (operator system event)."""
    await _step(case_id, "report_biometrics", BiometricReport(session_id=session_id, passed=passed, reason=reason))


@signing.command("eds-consent")
@run_async
async def signing_eds_consent(case_id: str, decline: bool = typer.Option(False)) -> None:
    """Step 7: consent to the issuance of an EDS."""
    await _step(case_id, "give_eds_consent", Consent(accepted=not decline))


@signing.command("password")
@run_async
async def signing_password(
    case_id: str,
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="at least a letter, a digit and one of @$!%*#?& (prompted, never echoed)",
    ),
) -> None:
    """Step 8: the EDS password (checked here, sealed to the issuer); the EDS is issued and the application signed."""
    await _step(case_id, "choose_eds_password", SealedPassword(sealed=seal_eds_password(case_id, password)))


@signing.command("download")
@run_async
async def signing_download(case_id: str, out: Path = typer.Option(Path("signed-application.zip"))) -> None:
    """The signed application as a ZIP: the document, its .p7s signature and the certificates."""
    view = await _view(case_id)
    doc = load_document(view.zip_doc_id) if view.zip_doc_id else None
    if doc is None:
        raise ValueError(f"the application is not signed yet (step {view.step}: {view.step_name})")
    out.write_bytes(doc.content)
    console.print(f"{out} written (sha256 {doc.sha256}); see README.txt inside for the openssl check")


# --- act 71 ------------------------------------------------------------------------------------------------


@mailbox.command("apply")
@run_async
async def mailbox_apply(
    login: str = typer.Option(...),
    iin: str | None = typer.Option(None),
    bin_: str | None = typer.Option(None, "--bin"),
    channel: str = typer.Option("online", help="online or postal_facility"),
    received_at: str | None = typer.Option(None, help="ISO instant with offset; default now"),
) -> None:
    """Apply for a mailbox; refused at once when dated after the abolition of act 71 by 305/NK."""
    from workflows.electronic_mailbox import SPEC

    await _start(
        SPEC,
        MailboxApplicationInput(
            iin=iin,
            bin=bin_,
            login=login,
            channel=channel,  # type: ignore[arg-type]
            received_at=_when(received_at),
        ),
    )


@mailbox.command("confirm")
@run_async
async def mailbox_confirm(case_id: str, key: Path = typer.Option(...), cert: Path = typer.Option(...)) -> None:
    """Confirm the personal-account data with an EDS (71 p.12)."""
    handle = await _handle(case_id)
    payload = await handle.query("payload_to_sign", result_type=str)
    check = await handle.execute_update(
        "confirm_with_eds",
        EdsSignatureEvent(signature=sign_cms(payload.encode(), _load_identity(key, cert))),
        result_type=SignatureCheck,
    )
    _answer(check.valid, check.reason or f"signed by {check.subject}")
