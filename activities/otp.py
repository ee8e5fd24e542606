"""One-time codes (OTP by SMS from 1414) and unique signing links (SMS from 3344).

The secret is generated with ``secrets``, sent inside the same activity through the SMS gateway port
(``activities.sms.SmsGateway``) and stored only as a keyed hash (HMAC-SHA256 under a key derived from the
installation's own pseudonym key, ``infra.pseudonym.pseudonym_key``, with a label of its own; salted by the
secret's unique id). The activity returns only the id, so the code never
enters a workflow history. The subscriber's entry
reaches the workflow as the same keyed digest, computed at the edge by ``secret_digest``; the
verification activity compares digests in constant time, counts attempts and honours the expiry
given by the case (the case's own instant, so time-skipping tests and replays agree).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime
from functools import cache

from temporalio import activity

from activities.sms import SmsGateway, render_sms
from infra.db import session
from infra.pseudonym import pseudonym_key
from models.identification import IssuedSecret, IssueSecretRequest, SecretCheck, VerifySecretRequest
from models.sms import SmsRequest
from models.tables import OneTimeSecret

__all__ = ["LINK_BASE", "OtpActivities", "secret_digest"]

log = logging.getLogger(__name__)
LINK_BASE = "https://almatel.kz/sign/"


@cache
def _key() -> bytes:
    """The digest key: derived from the installation's pseudonym key under a label of its own (never the key
    itself, so a digest and a pseudonym are never comparable)."""
    return hmac.new(pseudonym_key(), b"one-time-secret-digest/v1", hashlib.sha256).digest()


def secret_digest(secret_id: str, secret: str) -> str:
    """The keyed digest of an entered code or link token; the edge sends this, never the code."""
    token = secret.strip().removeprefix(LINK_BASE)
    return hmac.new(_key(), f"{secret_id}:{token}".encode(), hashlib.sha256).hexdigest()


_MASK = "••••••"


PURPOSES: dict[str, tuple[str, str]] = {
    "EGOV: connecting the number to your e-government account": (
        "EGOV: нөмірді электрондық үкімет кабинетіне қосу",
        "EGOV: подключение номера к кабинету электронного правительства",
    ),
    "EGOV: temporary access to your digital identity document for AlmaTel": (
        "EGOV: AlmaTel үшін цифрлық құжатыңызға уақытша қолжетімділік",
        "EGOV: временный доступ AlmaTel к вашему цифровому документу",
    ),
    "AlmaTel: your application to join the public contract": (
        "AlmaTel: жария шартқа қосылу туралы өтінішіңіз",
        "AlmaTel: ваше заявление о присоединении к публичному договору",
    ),
}
"""The purposes the cases give (in English, as their histories hold them), in Kazakh and Russian for the SMS."""


def _text(req: IssueSecretRequest, secret: str) -> str:
    """The SMS to the citizen, in Kazakh then Russian (``activities.sms.render_sms``); a purpose without a
    translation is given as the case wrote it."""
    kk, ru = PURPOSES.get(req.purpose, (req.purpose, req.purpose))
    if req.kind == "otp":
        return render_sms("one_time_code", {"purpose_kk": kk, "purpose_ru": ru, "code": secret})
    return render_sms("signing_link", {"purpose_kk": kk, "purpose_ru": ru, "link": f"{LINK_BASE}{secret}"})


def _masked(req: IssueSecretRequest) -> str:
    """What the outbox (and so the console) keeps of the SMS: that a code or link was sent, never which."""
    if req.kind == "otp":
        return f"{req.purpose}: code sent ({_MASK}; the code is not kept)"
    return f"{req.purpose}: signing link sent ({LINK_BASE}{_MASK}; the link is not kept)"


def _issued(req: IssueSecretRequest, message_id: str) -> IssuedSecret:
    return IssuedSecret(
        secret_id=req.secret_id, expires_at=req.expires_at, max_attempts=req.max_attempts, sms_message_id=message_id
    )


def _aware(v: datetime) -> datetime:
    return v if v.tzinfo else v.replace(tzinfo=UTC)


class OtpActivities:
    """Issuing and verifying one-time codes and links; the codes go out through ``gateway``."""

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    @activity.defn(name="issue_secret")
    def issue_secret(self, req: IssueSecretRequest) -> IssuedSecret:
        """Generate, store (hash only) and send a code or link once per ``secret_id``; returns only the id.

        A retry after the gateway accepted the SMS changes nothing. A retry after a failure before that was
        recorded makes a fresh code and sends it under a fresh message id (a code that may not have gone out
        is never reused, and the gateway's de-duplication cannot swallow the new one).
        """
        with session() as s:
            row = s.get(OneTimeSecret, req.secret_id)
        if row is not None and row.sms_accepted_at is not None:
            return _issued(req, row.sms_message_id or f"{req.secret_id}/sms")
        message_id = f"{req.secret_id}/sms" if row is None else f"{req.secret_id}/sms-{secrets.token_hex(4)}"
        secret = f"{secrets.randbelow(10**6):06d}" if req.kind == "otp" else secrets.token_urlsafe(24)
        with session() as s:
            row = s.get(OneTimeSecret, req.secret_id) or OneTimeSecret(
                secret_id=req.secret_id,
                case_id=req.case_id,
                kind=req.kind,
                digest="",
                expires_at=req.expires_at,
                max_attempts=req.max_attempts,
            )
            row.digest, row.attempts_used, row.sms_message_id = secret_digest(req.secret_id, secret), 0, message_id
            s.add(row)
        receipt = self.gateway.send(
            SmsRequest(
                message_id=message_id,
                case_id=req.case_id,
                to=req.to,
                sender=req.sender,
                text=_text(req, secret),
                masked_text=_masked(req),
            )
        )
        del secret
        with session() as s:
            row = s.get(OneTimeSecret, req.secret_id)
            assert row is not None
            row.sms_accepted_at = receipt.accepted_at
            s.add(row)
        log.info("one-time %s %s issued for case %s", req.kind, req.secret_id, req.case_id)
        return _issued(req, message_id)

    @activity.defn(name="verify_secret")
    def verify_secret(self, req: VerifySecretRequest) -> SecretCheck:
        """Compare an entered digest with the stored one; one attempt used per wrong entry."""
        with session() as s:
            row = s.get(OneTimeSecret, req.secret_id)
            if row is None:
                return SecretCheck(correct=False, attempts_left=0, message="no such code was issued")
            left = row.max_attempts - row.attempts_used
            if row.used_at is not None:
                ok = hmac.compare_digest(row.digest, req.digest)
                return SecretCheck(correct=ok, attempts_left=left, message="already used" if ok else "wrong code")
            if req.at > _aware(row.expires_at):
                return SecretCheck(correct=False, attempts_left=0, expired=True, message="the code has expired")
            if left <= 0:
                return SecretCheck(correct=False, attempts_left=0, message="no attempts left")
            if hmac.compare_digest(row.digest, req.digest):
                row.used_at = req.at
                s.add(row)
                return SecretCheck(correct=True, attempts_left=left, message="correct")
            row.attempts_used += 1
            s.add(row)
            left -= 1
            return SecretCheck(
                correct=False,
                attempts_left=left,
                message=f"wrong code, {left} attempt(s) left" if left else "wrong code, no attempts left",
            )
