"""The state system of permits and notifications (665/NK p.9): permits are entered, terminated,
extended and expire there.

Locally: the ``permits`` and ``permit_changes`` tables. Entry is idempotent per case (a retry returns the
permit already entered, with its number); a change is idempotent per ``change_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.db import session
from models.mvno_permit import PermitChange, PermitChangeRequest, PermitEntryRequest, PermitRecordView
from models.tables import PermitRecord, PermitRecordChange
from rules.calendar import ALMATY

__all__ = [
    "LocalPermitsRegistry",
    "PermitsRegistry",
    "PermitsRegistryActivities",
    "load_permit",
    "permit_changes",
]


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _view(r: PermitRecord) -> PermitRecordView:
    # Valid through the day before the anniversary: the due instant is 00:00 of the anniversary (Asia/Almaty).
    return PermitRecordView(
        permit_number=r.permit_number,
        case_id=r.case_id,
        application_number=r.application_number,
        holder_name=r.holder_name,
        holder_id=r.holder_id,
        issued_on=_aware(r.issued_at).astimezone(ALMATY).date(),
        valid_through=(_aware(r.valid_until).astimezone(ALMATY) - timedelta(days=1)).date(),
        status=r.status,
        basis=r.basis,
    )


def load_permit(permit_number: str) -> PermitRecordView | None:
    """A permit as the registry holds it."""
    with session() as s:
        r = s.get(PermitRecord, permit_number)
        return _view(r) if r else None


def permit_changes(permit_number: str) -> list[str]:
    """The changes recorded for a permit, oldest first."""
    with session() as s:
        rows = s.exec(
            select(PermitRecordChange)
            .where(PermitRecordChange.permit_number == permit_number)
            .order_by(col(PermitRecordChange.recorded_at))
        ).all()
        return [r.change for r in rows]


def _existing(case_id: str) -> PermitRecord | None:
    with session() as s:
        return s.exec(select(PermitRecord).where(PermitRecord.case_id == case_id)).first()


class PermitsRegistry(Protocol):
    """The state system of permits and notifications: entering a permit (once per case) and its changes."""

    def enter(self, req: PermitEntryRequest) -> PermitRecordView: ...

    def change(self, req: PermitChangeRequest) -> PermitRecordView: ...


class LocalPermitsRegistry:
    """The ``permits`` and ``permit_changes`` tables."""

    def enter(self, req: PermitEntryRequest) -> PermitRecordView:
        for _ in range(5):
            existing = _existing(req.case_id)
            if existing is not None:
                return _view(existing)
            year = req.issued_at.astimezone(ALMATY).year
            try:
                with session() as s:
                    count = s.exec(
                        select(func.count())
                        .select_from(PermitRecord)
                        .where(PermitRecord.permit_number.startswith(f"MVNO-{year}-"))
                    ).one()  # type: ignore[attr-defined]
                    s.add(
                        PermitRecord(
                            permit_number=f"MVNO-{year}-{count + 1:05d}",
                            case_id=req.case_id,
                            application_number=req.application_number,
                            holder_name=req.holder_name,
                            holder_id=req.holder_id,
                            holder_kind=req.holder_kind,
                            head_name=req.head_name,
                            issued_at=req.issued_at.astimezone(UTC),
                            valid_until=req.valid_until.astimezone(UTC),
                            basis=req.basis,
                        )
                    )
            except IntegrityError:
                continue  # another entry took the number (or this case's entry raced): look again
        existing = _existing(req.case_id)
        if existing is None:
            raise ApplicationError("could not allocate a permit number", type="PermitNumber")
        return _view(existing)

    def change(self, req: PermitChangeRequest) -> PermitRecordView:
        with session() as s:
            permit = s.get(PermitRecord, req.permit_number)
            if permit is None:
                raise ApplicationError(
                    f"permit {req.permit_number} is not in the registry", type="PermitMissing", non_retryable=True
                )
            if s.get(PermitRecordChange, req.change_id) is None:
                s.add(
                    PermitRecordChange(
                        change_id=req.change_id,
                        permit_number=req.permit_number,
                        change=req.change.value,
                        effective_at=req.effective_at.astimezone(UTC),
                        valid_until=req.valid_until.astimezone(UTC) if req.valid_until else None,
                        reason=req.reason,
                        cite=req.cite,
                    )
                )
                if req.change is PermitChange.EXTENDED:
                    assert req.valid_until is not None
                    permit.valid_until = req.valid_until.astimezone(UTC)
                    permit.status = "valid"
                else:
                    permit.status = req.change.value
                permit.updated_at = datetime.now(UTC)
                s.add(permit)
            s.flush()
            return _view(permit)


class PermitsRegistryActivities:
    """The permits registry's activities."""

    def __init__(self, registry: PermitsRegistry) -> None:
        self.registry = registry

    @activity.defn(name="enter_permit")
    def enter_permit(self, req: PermitEntryRequest) -> PermitRecordView:
        """Enter the permit and give it its number ``MVNO-<year>-<sequence>``; once per case."""
        return self.registry.enter(req)

    @activity.defn(name="record_permit_change")
    def record_permit_change(self, req: PermitChangeRequest) -> PermitRecordView:
        """Terminate, extend or expire a permit in the registry; a retried change is recorded once."""
        return self.registry.change(req)
