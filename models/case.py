"""What every case records about itself when it is registered (665/NK p.6)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

__all__ = ["Registration", "RegistrationRequest"]


class RegistrationRequest(BaseModel):
    """Register an application received at ``received_at`` under act ``act_key``."""

    act_key: str
    received_at: datetime


class Registration(BaseModel):
    """The registration day by the calendar, and the act version that governs the case."""

    act_key: str
    received_at: datetime
    registered_on: date
    after_hours_roll: str | None = None
    act_version_id: str
    act_basis: str
    act_in_force_from: date
    act_version_assumed: bool
    calendar_version: str
