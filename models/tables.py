"""SQLModel tables of the local outside world. Never imported by workflow code (DESIGN pitfalls)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column as SAColumn
from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "CaseActor",
    "CaseAssignment",
    "CaseIndexEntry",
    "CaseIndexKey",
    "ComplaintForward",
    "ConsoleSession",
    "Document",
    "OutsideWait",
    "PersonalAccountDelivery",
    "SmsOutbox",
    "SupervisorNotification",
]


def _now() -> datetime:
    return datetime.now(UTC)


class SupervisorNotification(SQLModel, table=True):
    """A breached legal term, or a step an outside system refused (``deadline_key`` ``blocked:…``), reported to a
    supervisor; one row per case and deadline. The console's inbox shows it until a supervisor acknowledges it."""

    __tablename__ = "supervisor_notifications"
    __table_args__ = (UniqueConstraint("case_id", "deadline_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    procedure: str
    deadline_key: str
    cite: str
    due: datetime
    breached_at: datetime
    created_at: datetime = Field(default_factory=_now)
    detail: str | None = None
    """The term's text, or for a blocked step the system and its refusal (rows written before: none)."""
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    """The supervisor who acknowledged it: the key holder's name and the key's id."""


# --- the console's search index and work queue ------------------------------------------------


class CaseIndexEntry(SQLModel, table=True):
    """A case as the console finds it, written at start by the one start path (``infra.case_index``): only fields
    that are not personal data in clear (procedure, the application's own number, who started it)."""

    __tablename__ = "case_index"

    case_id: str = Field(primary_key=True)
    procedure: str = Field(index=True)
    application_number: str | None = Field(default=None, index=True)
    """The number the portal, office or order system gave the application (upper case), if the input has one."""
    started_by_key: str | None = Field(default=None, index=True)
    """The API key (its public id) that started the case from the console or the API."""
    indexed_at: datetime = Field(default_factory=_now)


class CaseIndexKey(SQLModel, table=True):
    """A keyed hash (HMAC under the installation's pseudonym key) of one normalised identifier, phone number or name
    word of a case's parties: exact-match search without the value in clear."""

    __tablename__ = "case_index_keys"

    case_id: str = Field(primary_key=True)
    kind: str = Field(primary_key=True)  # "id" (IIN/BIN), "phone", "name" (one word of a name)
    digest: str = Field(primary_key=True, index=True)


class CaseActor(SQLModel, table=True):
    """A console user (API key) who started a case or recorded a decision in it: the work queue's "my cases"."""

    __tablename__ = "case_actors"

    case_id: str = Field(primary_key=True)
    key_id: str = Field(primary_key=True, index=True)
    last_at: datetime = Field(default_factory=_now)


class CaseAssignment(SQLModel, table=True):
    """A case given to a staff member: who holds it (their key), who assigned it and when. One row per assignment,
    never updated: the latest row of a case is its assignment now, the others its history."""

    __tablename__ = "case_assignments"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    assignee_key: str = Field(index=True)
    assignee_name: str
    assigned_by_key: str
    assigned_by_name: str
    assigned_at: datetime = Field(default_factory=_now)


class OutsideWait(SQLModel, table=True):
    """An activity of a case whose last attempt failed and that is being retried (the worker's interceptor,
    ``infra.outside_waits``): the work queue's "waiting on an outside system". Removed when an attempt succeeds
    or the failure is permanent (the case then shows ``blocked``)."""

    __tablename__ = "outside_waits"

    case_id: str = Field(primary_key=True)
    activity_id: str = Field(primary_key=True)
    activity: str
    attempt: int
    error_type: str = ""
    """The exception's class only: its message may carry what the call was about."""
    since: datetime = Field(default_factory=_now)
    last_failed_at: datetime = Field(default_factory=_now)


# --- documents and their delivery -------------------------------------------------------------


class Document(SQLModel, table=True):
    """A document a case produced: its bytes, hash, and (once signed) the detached CMS signature."""

    __tablename__ = "documents"

    doc_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    kind: str
    title: str
    cite: str = ""
    media_type: str = "text/html; charset=utf-8"
    content: bytes = Field(sa_column=SAColumn(LargeBinary, nullable=False))
    sha256: str
    signature: bytes | None = Field(default=None, sa_column=SAColumn(LargeBinary, nullable=True))
    signer_cert_pem: bytes | None = Field(default=None, sa_column=SAColumn(LargeBinary, nullable=True))
    signer_subject: str | None = None
    created_at: datetime = Field(default_factory=_now)


class PersonalAccountDelivery(SQLModel, table=True):
    """A document put in an applicant's personal account on the portal (one row per document)."""

    __tablename__ = "personal_account_deliveries"

    doc_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    recipient: str = Field(index=True)  # pseudonym of the applicant
    delivered_at: datetime = Field(default_factory=_now)


# --- SMS gateway (local) ----------------------------------------------------------------------


class SmsOutbox(SQLModel, table=True):
    """What the local SMS gateway "sent": one row per message id."""

    __tablename__ = "sms_outbox"

    message_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    to: str
    sender: str
    text: str
    accepted_at: datetime = Field(default_factory=_now, index=True)


# --- complaints -------------------------------------------------------------------------------


class ComplaintForward(SQLModel, table=True):
    """A complaint handed with its administrative case to the body considering it (one per complaint)."""

    __tablename__ = "complaint_forwards"

    case_id: str = Field(primary_key=True)
    body: str
    doc_ids: str  # comma-separated document ids (the administrative case bundle)
    forwarded_at: datetime = Field(default_factory=_now)


# --- fraud (171 ch.3 p.116–120): subscriber registry, network orders, antifraud centre, intake ---


class Subscriber(SQLModel, table=True):
    """A subscriber of the local subscriber registry (personal data: stays in our tables)."""

    __tablename__ = "subscribers"

    id: int | None = Field(default=None, primary_key=True)
    iin: str = Field(unique=True)
    surname: str
    name: str
    patronymic: str | None = None


class SubscriberNumber(SQLModel, table=True):
    """A number registered to a subscriber, with the state of its communication services."""

    __tablename__ = "subscriber_numbers"

    number: str = Field(primary_key=True)
    subscriber_id: int = Field(foreign_key="subscribers.id", index=True)
    services_suspended: bool = False
    changed_by_case: str | None = None
    changed_at: datetime | None = None


class NetworkOrderRow(SQLModel, table=True):
    """A suspension or restoration order carried out on the network; one row per order id."""

    __tablename__ = "network_orders"

    order_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    number: str
    action: str
    reason: str
    number_known: bool
    done_at: datetime = Field(default_factory=_now)


class AntifraudCentreMessage(SQLModel, table=True):
    """The local antifraud centre's inbox: one row per message id, whatever the retries."""

    __tablename__ = "antifraud_centre_messages"

    message_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    kind: str
    payload: str  # the message as JSON (holds personal data for detection messages, p.118)
    received_at: datetime = Field(default_factory=_now)


class StartLedger(SQLModel, table=True):
    """Every message that started or joined a case (update-with-start), by its Update id, the keyed hash of its
    sender's reference (``infra.cases.message_id``; rows written before 2026-12-04 hold the reference itself):
    sending it again creates nothing, also after its case closed (``infra.cases.start_case``)."""

    __tablename__ = "start_ledger"

    procedure: str = Field(primary_key=True)
    message_id: str = Field(primary_key=True)
    event: str
    case_id: str = Field(index=True)
    answer: str
    source: str = ""  # e.g. "bulk:sweep-2026-11.csv line 17"
    recorded_at: datetime = Field(default_factory=_now)


# --- outside systems' outages (rehearsals) ----------------------------------------------------


class OutsideSystemOutage(SQLModel, table=True):
    """A window in which a local outside system refuses connections, or refuses for good."""

    __tablename__ = "outside_system_outages"

    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(index=True)
    down_from: datetime
    down_until: datetime
    permanent: bool = False
    reason: str = ""


# --- HTTP API and console -----------------------------------------------------------------------


class ApiKey(SQLModel, table=True):
    """A client of the API or a console user: only the SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"

    key_id: str = Field(primary_key=True)  # public part of the key, e.g. "k3f9a..."
    secret_sha256: str
    name: str  # who holds it: "back office: A. Seitkali", "antifraud centre"
    roles: str  # comma-separated: staff, auditor, supervisor, operator:<system>
    bin: str | None = None  # an operator system's organisation (BIN); keys without one act on no case
    created_at: datetime = Field(default_factory=_now)
    revoked_at: datetime | None = None


class IdempotencyRecord(SQLModel, table=True):
    """A request sent with an ``Idempotency-Key``: its digest, and once it succeeded, where its answer lies.

    Never a body, neither the request's nor the response's (both carry personal data): a retry's answer is
    rebuilt from the case (the Update's outcome, the start's answer). Purged after ``KZ_IDEMPOTENCY_HOURS``.
    """

    __tablename__ = "idempotency_records"

    key_sha256: str = Field(primary_key=True)  # hash of (client key id, method, route, client's key)
    request_sha256: str  # hash of the body: the same key with another body is refused
    status_code: int | None = None  # None while no attempt has succeeded (refusals are never kept)
    case_id: str | None = None
    run_id: str | None = None  # the case's run that took the Update (or that the start opened)
    update_id: str | None = None  # the Update whose outcome is the answer (an event; a start with an Update)
    answer: str | None = None  # a start's answer: opened, joined, existing, closed, duplicate
    created_at: datetime = Field(default_factory=_now, index=True)


class ConsoleSession(SQLModel, table=True):
    """A signed-in console user. The session cookie carries a random id; only its SHA-256 is kept here, so a
    reader of the table cannot sign in as anyone. Signing out deletes the row; a row past its idle or absolute
    limit, or of a revoked key, opens nothing (``api.sessions``)."""

    __tablename__ = "console_sessions"

    session_sha256: str = Field(primary_key=True)
    key_id: str = Field(index=True)
    created_at: datetime = Field(default_factory=_now)
    last_seen_at: datetime = Field(default_factory=_now)


# --- MVNO permit (665/NK): state registries, monitoring, permits registry ---------------------


class RegistryIndividual(SQLModel, table=True):
    """The state register of individuals as the e-government gateway answers it (local seed): 665/NK p.6,
    58 Annex items 8-9 (identity document, consent to restricted data)."""

    __tablename__ = "registry_individuals"

    iin: str = Field(primary_key=True)
    full_name: str
    address: str = ""
    document_valid_until: datetime | None = None  # identity document, end of validity (58 Annex item 9(1))
    consent_restricted_data: bool = True  # consent to access restricted personal data (Law on personal data art. 8)


class RegistryLegalEntity(SQLModel, table=True):
    """The state register of legal entities (local seed)."""

    __tablename__ = "registry_legal_entities"

    bin: str = Field(primary_key=True)
    name: str
    head_name: str = ""
    location: str = ""
    active: bool = True


class RegistryCourtRestriction(SQLModel, table=True):
    """A court decision or verdict in force restricting a person or entity (665/NK Annex 1 item 10(4), (5))."""

    __tablename__ = "registry_court_restrictions"
    __table_args__ = (UniqueConstraint("subject_id", "decision_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: str = Field(index=True)  # IIN or BIN
    kind: str  # activity_ban | special_right_deprivation
    court: str
    decision_ref: str
    in_force_on: datetime


class MonitoringStageReport(SQLModel, table=True):
    """A stage of a public service as sent to the monitoring system (665/NK p.8); one row per report id."""

    __tablename__ = "monitoring_stage_reports"

    report_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    procedure: str
    stage: str
    status: str
    at: datetime
    cite: str
    detail: str = ""
    received_at: datetime = Field(default_factory=_now)


class PermitRecord(SQLModel, table=True):
    """A permit in the state system of permits and notifications (665/NK p.9); one per case."""

    __tablename__ = "permits"

    permit_number: str = Field(primary_key=True)
    case_id: str = Field(unique=True, index=True)
    application_number: str
    holder_name: str
    holder_id: str
    holder_kind: str
    head_name: str | None = None
    issued_at: datetime
    valid_until: datetime
    status: str = "valid"
    basis: str
    updated_at: datetime = Field(default_factory=_now)


class PermitRecordChange(SQLModel, table=True):
    """A termination, extension or expiry of a permit; one row per change id."""

    __tablename__ = "permit_changes"

    change_id: str = Field(primary_key=True)
    permit_number: str = Field(index=True)
    change: str
    effective_at: datetime
    valid_until: datetime | None = None
    reason: str
    cite: str
    recorded_at: datetime = Field(default_factory=_now)


# --- subscriber procedures (acts 58, 171 p.55-1…55-6, almatel-eds, 71) --------------------------


class OneTimeSecret(SQLModel, table=True):
    """A one-time code (OTP) or signing link: only its keyed hash is kept, with its expiry and attempts."""

    __tablename__ = "one_time_secrets"

    secret_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    kind: str  # "otp" or "link"
    digest: str  # HMAC-SHA256 of "<secret_id>:<secret>" under the server key
    expires_at: datetime
    max_attempts: int
    attempts_used: int = 0
    used_at: datetime | None = None
    sms_message_id: str | None = None  # the SMS that carries the secret
    sms_accepted_at: datetime | None = None  # when the SMS gateway accepted that SMS
    created_at: datetime = Field(default_factory=_now)


class MobileCitizenNumber(SQLModel, table=True):
    """The Mobile Citizens Database: a number connected to a person's e-government account (act 58)."""

    __tablename__ = "mobile_citizens"

    phone: str = Field(primary_key=True)
    iin: str = Field(index=True)
    case_id: str = Field(index=True)
    channel: str
    connected_at: datetime = Field(default_factory=_now)


class BiometricCheckRecord(SQLModel, table=True):
    """A verdict of the biometric provider ("Biometric ID"), one row per provider session."""

    __tablename__ = "biometric_checks"

    session_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    passed: bool
    reason: str | None = None
    checked_at: datetime = Field(default_factory=_now)


class IndividualNumberRegistration(SQLModel, table=True):
    """The basis of a number registered to an individual (171 p.55-1…55-6): the case and the contract.

    The number itself is in the operator's one register (``subscriber_numbers`` above).
    """

    __tablename__ = "individual_number_registrations"

    phone: str = Field(primary_key=True)
    iin: str = Field(index=True)
    case_id: str = Field(index=True)
    contract_case_id: str
    registered_at: datetime = Field(default_factory=_now)


class NumbersApplicationRecord(SQLModel, table=True):
    """The outcome of an application for numbers, so that a re-application can refer to a refusal."""

    __tablename__ = "numbers_applications"

    case_id: str = Field(primary_key=True)
    applicant: str = Field(index=True)  # pseudonym of the applicant
    outcome: str
    reason: str | None = None
    refers_to_case_id: str | None = None
    decided_at: datetime = Field(default_factory=_now)


class SubscriberKey(SQLModel, table=True):
    """A subscriber's EDS issued in the signing procedure: certificate and PKCS#12 under the subscriber's password."""

    __tablename__ = "subscriber_keys"

    case_id: str = Field(primary_key=True)
    serial: str = Field(index=True)
    subject: str
    cert_pem: bytes = Field(sa_column=SAColumn(LargeBinary, nullable=False))
    pkcs12: bytes = Field(sa_column=SAColumn(LargeBinary, nullable=False))
    issued_at: datetime = Field(default_factory=_now)


class SignedContract(SQLModel, table=True):
    """An application to join the public contract signed with an EDS (almatel-eds): the ZIP to download."""

    __tablename__ = "signed_contracts"

    case_id: str = Field(primary_key=True)
    iin: str = Field(index=True)
    zip_doc_id: str
    cert_serial: str
    signed_at: datetime = Field(default_factory=_now)


class Mailbox(SQLModel, table=True):
    """An electronic subscriber mailbox (act 71): the login is unique among all users (p.11)."""

    __tablename__ = "mailboxes"

    login: str = Field(primary_key=True)
    case_id: str = Field(unique=True)
    holder_id: str  # IIN or BIN
    created_at: datetime = Field(default_factory=_now)
    confirmed_at: datetime | None = None
    included_at: datetime | None = None  # entry in the single database (p.13)
