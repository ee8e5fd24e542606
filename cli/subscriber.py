"""Subscriber procedures: number connection (act 58), numbers for an individual (171 p.55), EDS contract
signing (almatel-eds), the abolished mailbox (act 71), and the events operator systems send.

The procedure commands are aliases of the generated ``case`` commands. Codes and links go through the
events' edge models (``case send``), which turn them into keyed digests, and the EDS password is checked
and sealed to the issuer there: neither enters a case's history in clear. Demo helpers put people in the
local state registry, issue test EDS keys from the local CA and show the local SMS outbox.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from cli.alias import CASE, FILE, Alias, arg, now, opt, register
from cli.common import console, run_async, when, with_client
from rules.law import cite, cite_range, number
from rules.terms import term

_LIMIT = number("171", "numbers.limit")
"""The help's figure (171 p.55-1), as ``models.individual_numbers.LIMIT`` reads it, without that module's imports."""

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, help=__doc__)
egov = typer.Typer(no_args_is_help=True, help="connecting a number to the e-government account (act 58)")
numbers = typer.Typer(no_args_is_help=True, help=f"numbers for an individual ({cite_range('171', 'p.55-1', 'p.55-6')})")
signing = typer.Typer(no_args_is_help=True, help="signing the public-contract application with an EDS (almatel-eds)")
mailbox = typer.Typer(no_args_is_help=True, help="electronic subscriber mailbox (act 71, abolished by 305/NK)")
app.add_typer(egov, name="egov")
app.add_typer(numbers, name="numbers")
app.add_typer(signing, name="signing")
app.add_typer(mailbox, name="mailbox")


# --- demo helpers -----------------------------------------------------------------------------------


@app.command("demo-person")
def demo_person(
    id_number: str = typer.Argument(..., help="IIN (or BIN with --legal-entity)"),
    name: str = typer.Argument(...),
    legal_entity: bool = typer.Option(False, help="a legal entity identified by BIN"),
    no_consent: bool = typer.Option(False, help="no consent to access restricted personal data (Annex item 9)"),
) -> None:
    """Put a person (or legal entity) in the local state registry with a valid identity document."""
    from activities.state_registry import add_person
    from rules.identifiers import bin_check, iin_check

    try:
        id_number = bin_check(id_number) if legal_entity else iin_check(id_number)
    except ValueError as exc:  # a registry holds only identifiers that can exist
        raise typer.BadParameter(str(exc), param_hint="ID_NUMBER") from None

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
    from cryptography.hazmat.primitives import serialization

    from adapters.local_ca import local_ca
    from rules.identifiers import bin_check, iin_check

    try:
        iin, bin_ = iin_check(iin), bin_check(bin_) if bin_ is not None else None
    except ValueError as exc:  # a certificate names only identifiers that can exist
        raise typer.BadParameter(str(exc)) from None
    ident = local_ca().issue(name, iin=iin, bin_=bin_)
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
    """What a phone received from the local SMS gateway, codes and links included (the demo's subscriber reading
    the phone; the outbox and the console show them masked)."""
    from infra.handset import received
    from rules.identifiers import kz_mobile

    t = Table(title="SMS received (local gateway's stand-in for the phone)")
    for name in ("received", "from", "text"):
        t.add_column(name, overflow="fold")
    try:
        number = kz_mobile(phone)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="PHONE") from None
    for m in received(number):
        t.add_row(when(m.received_at), m.sender, m.text)
    console.print(t)


# --- the procedures' commands: aliases of `case start` / `case send` / `case show` ------------------------


def _started(started: Any, inp: Any) -> Text:
    from workflows.catalogue import by_key

    said = "started" if started.created else f"exists already ({started.answer.value})"
    return Text.assemble("case ", (started.case_id, "bold"), f" {said} ({by_key()[started.procedure].title})")


def _recorded(answer: Any, body: Any) -> str:
    return f"decision recorded: {answer.result}"


def _load_identity(key: Path, cert: Path) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from adapters.local_ca import Identity

    k = serialization.load_pem_private_key(key.read_bytes(), password=None)
    if not isinstance(k, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{key}: not an EC private key")
    return Identity(k, x509.load_pem_x509_certificate(cert.read_bytes()))


def _signed_by(query: str, field: str | None = None) -> Any:
    """Sign the case's payload (the query ``query``, or its ``field``) with the key and certificate given."""

    async def prepare(client: Any, case_id: str, extras: dict[str, Any]) -> dict[str, Any]:
        import base64

        from adapters.local_ca import sign_cms

        answer = await client.get_workflow_handle(case_id).query(query)
        payload = (answer.get(field) if field else answer) or ""
        signature = sign_cms(str(payload).encode(), _load_identity(extras["key"], extras["cert"]))
        return {"signature": base64.b64encode(signature).decode()}

    return prepare


_KEY = opt("key", Path, field=None, help="the EDS private key (PEM)")
_CERT = opt("cert", Path, field=None, help="the EDS certificate (PEM)")
_RECEIVED = opt("received_at", str, default=None, help="ISO instant (without an offset: Asia/Almaty); default now")
_BIOMETRICS = (
    opt("session_id", str),
    opt("passed", bool, "--passed/--failed"),
    opt("reason", str, default=None),
)
_CODE = opt("code", str, prompt=True, hide_input=True, help="the code as received (prompted, never echoed)")

register(
    app,
    (
        Alias(
            "show",
            "",
            "show",
            "A subscriber case (any procedure): status, outcome, pending events, terms and documents.",
            (CASE(),),
        ),
    ),
)
register(
    egov,
    (
        Alias(
            "start",
            "egov_number_connection",
            "start",
            "Request to connect a number; an OTP goes by SMS from 1414 and the "
            f"{term('egov.service_term').amount}-minute term starts.",
            (
                opt("iin", str),
                opt("phone", str),
                opt("channel", str, default="portal", help="portal, mobile_app, bank_app or change_of_number"),
                opt(
                    "previous_phone",
                    str,
                    default=None,
                    help=f"the number replaced (change of number, {cite('58', 'p.8')})",
                ),
                _RECEIVED,
            ),
            made={"received_at": now},
            say=_started,
        ),
        Alias(
            "otp",
            "egov_number_connection",
            "send",
            "Enter the OTP (sent as a keyed digest); a wrong code says how many attempts are left.",
            (CASE(), _CODE),
            event="enter_otp",
        ),
        Alias(
            "sign",
            "egov_number_connection",
            "send",
            "Certify the request with an EDS (key and certificate in PEM): a CMS signature over the request.",
            (CASE(), _KEY, _CERT),
            event="sign_request",
            prepare=_signed_by("egov", "signing_payload"),
        ),
        Alias(
            "biometrics",
            "egov_number_connection",
            "send",
            "The biometric provider's verdict (operator system event).",
            (CASE(), *_BIOMETRICS),
            event="report_biometrics",
        ),
    ),
)
register(
    numbers,
    (
        Alias(
            "apply",
            "individual_numbers",
            "start",
            f"An individual's application for numbers (more than {_LIMIT} in total go to an employee's review).",
            (FILE,),
            say=_started,
        ),
        Alias(
            "decide",
            "individual_numbers",
            "send",
            f"The employee's decision on more than {_LIMIT} numbers; a refusal needs --reason "
            f"({cite('171', 'p.55-4')}).",
            (
                CASE(),
                opt("approve", bool, "--approve/--refuse"),
                opt("reviewer", str),
                opt("reason", str, default=None),
            ),
            event="review_decision",
            say=_recorded,
        ),
    ),
)


def _step(name: str, event: str, help: str, *params: Any) -> Alias:
    return Alias(name, "contract_eds_signing", "send", help, (CASE(), *params), event=event)


_DECLINE = opt("decline", bool, "--decline", field="accepted", default=False, to_field=lambda d: not d)
register(
    signing,
    (
        Alias(
            "start",
            "contract_eds_signing",
            "start",
            "After the service is connected: the 1414 code goes by SMS and step 1 starts.",
            (FILE,),
            say=_started,
        ),
        _step(
            "technician-code",
            "technician_code_received",
            "Step 1: the technician confirms the subscriber gave the 1414 code.",
            opt("technician", str, field="technician_id"),
        ),
        _step(
            "open-link",
            "open_application",
            "Step 2: the subscriber opens the unique link; the page shows the application.",
            arg("link", str, field="code", help="the link from the 3344 SMS"),
        ),
        _step("signing-page", "open_signing_page", "Step 3: the biometric identification and EDS signing page."),
        _step(
            "privacy-consent", "give_privacy_consent", "Step 4: consent to the Biometric ID privacy policy.", _DECLINE
        ),
        _step("enter-code", "enter_code", "Step 5: the 1414 code (sent as a keyed digest).", _CODE),
        _step(
            "biometrics", "report_biometrics", "Step 6: Biometric ID's verdict (operator system event).", *_BIOMETRICS
        ),
        _step("eds-consent", "give_eds_consent", "Step 7: consent to the issuance of an EDS.", _DECLINE),
        _step(
            "password",
            "choose_eds_password",
            "Step 8: the EDS password (checked, then sealed to the issuer); the EDS is issued and the application "
            "signed.",
            opt(
                "password",
                str,
                prompt=True,
                hide_input=True,
                confirmation_prompt=True,
                help="at least a letter, a digit and one of @$!%*#?& (prompted, never echoed)",
            ),
        ),
    ),
)


@signing.command("download")
@run_async
async def signing_download(case_id: str, out: Path = typer.Option(Path("signed-application.zip"))) -> None:
    """The signed application as a ZIP: the document, its .p7s signature and the certificates."""
    from infra.store import load_document
    from models.contract_eds_signing import SigningView

    view = await (await with_client()).get_workflow_handle(case_id).query("signing", result_type=SigningView)
    doc = load_document(view.zip_doc_id) if view.zip_doc_id else None
    if doc is None:
        raise ValueError(f"the application is not signed yet (step {view.step}: {view.step_name})")
    out.write_bytes(doc.content)
    console.print(f"{out} written (sha256 {doc.sha256}); see README.txt inside for the openssl check")


register(
    mailbox,
    (
        Alias(
            "apply",
            "electronic_mailbox",
            "start",
            "Apply for a mailbox; refused at once when dated after the abolition of act 71 by 305/NK.",
            (
                opt("login", str),
                opt("iin", str, default=None),
                opt("bin_", str, "--bin", field="bin", default=None),
                opt("channel", str, default="online", help="online or postal_facility"),
                opt(
                    "official_correspondence",
                    bool,
                    "--official-correspondence/--no-official-correspondence",
                    default=False,
                    help=f"the mailbox receives official correspondence: an EDS confirmation follows "
                    f"({cite('71', 'p.12')})",
                ),
                _RECEIVED,
            ),
            made={"received_at": now},
            say=_started,
        ),
        Alias(
            "confirm",
            "electronic_mailbox",
            "send",
            f"Confirm the personal-account data with an EDS ({cite('71', 'p.12')}).",
            (CASE(), _KEY, _CERT),
            event="confirm_with_eds",
            prepare=_signed_by("payload_to_sign"),
        ),
    ),
)
