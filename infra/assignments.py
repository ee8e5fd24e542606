"""Who holds a case: assignments of cases to staff members, in our own tables (``case_assignments``).

A supervisor assigns any case to a staff member or another supervisor (named by key id or by the key holder's
name); a staff member takes a case nobody holds, or hands on one they hold, and never reassigns a case someone else
holds. Every assignment is a row of its own (who, by whom, when): the latest one is the case's holder now. The work
queue's "mine" counts the cases a key holds besides those it started or decided in (``infra.case_index.cases_of``).
Nothing of a case's content is written here, only its id and key ids and holders' names.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from infra.db import session
from models.procedure import Role
from models.tables import ApiKey, CaseAssignment

__all__ = ["AssignmentRefused", "Person", "assign", "assigned_to", "current", "history", "people"]

ASSIGNABLE = frozenset({Role.STAFF, Role.SUPERVISOR})
"""Roles whose holders are given cases (and who assign them)."""


class AssignmentRefused(Exception):
    """An assignment the rules refuse: ``status`` 403 (not this key's to make) or 422 (no such person)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Person:
    """A staff member or supervisor a case can be given to: their key's id and holder's name."""

    key_id: str
    name: str


def _roles(row: ApiKey) -> set[str]:
    return {r.strip() for r in row.roles.split(",") if r.strip()}


def people() -> list[Person]:
    """Everyone a case can be assigned to: holders of active staff and supervisor keys, by name."""
    with session() as s:
        rows = s.exec(select(ApiKey).where(col(ApiKey.revoked_at).is_(None))).all()
    return sorted((Person(r.key_id, r.name) for r in rows if _roles(r) & ASSIGNABLE), key=lambda p: (p.name, p.key_id))


def _person(named: str) -> Person:
    """The person ``named`` (a key id, or a key holder's name, any case); refused when nobody or several fit."""
    text = named.strip()
    everyone = people()
    by_id = [p for p in everyone if p.key_id == text]
    if by_id:
        return by_id[0]
    by_name = [p for p in everyone if p.name.casefold() == text.casefold()]
    if not by_name:
        raise AssignmentRefused(422, "no staff member or supervisor holds an active key of that name or id")
    if len(by_name) > 1:
        raise AssignmentRefused(422, "several keys are held by that name: name the staff member by key id")
    return by_name[0]


def _current(s: Session, case_id: str) -> CaseAssignment | None:
    q = select(CaseAssignment).where(CaseAssignment.case_id == case_id).order_by(col(CaseAssignment.id).desc())
    return s.exec(q.limit(1)).first()


def current(case_id: str) -> CaseAssignment | None:
    """The case's assignment now, if it has one."""
    with session() as s:
        return _current(s, case_id)


def history(case_id: str) -> list[CaseAssignment]:
    """Every assignment of the case, oldest first."""
    with session() as s:
        return list(
            s.exec(select(CaseAssignment).where(CaseAssignment.case_id == case_id).order_by(col(CaseAssignment.id)))
        )


def may_assign(key_id: str, roles: frozenset[str], holder: CaseAssignment | None, to: str | None = None) -> bool:
    """Whether the key may (re)assign a case held by ``holder`` (to the key ``to``, when known): a supervisor always,
    a staff member a case they hold (to anyone), or one nobody holds to themselves: a clerk takes a free case, and
    does not give one to a colleague, who could not give it back (an adversarial run, 2026-12-04)."""
    if Role.SUPERVISOR in roles:
        return True
    if Role.STAFF not in roles:
        return False
    if holder is None:
        return to is None or to == key_id
    return holder.assignee_key == key_id


def assign(case_id: str, assignee: str, *, by_key: str, by_name: str, roles: frozenset[str]) -> CaseAssignment:
    """Give the case to ``assignee`` (key id or holder's name), recorded as done by the key ``by_key``."""
    if not roles & ASSIGNABLE:
        raise AssignmentRefused(403, "this key may not assign cases")
    person = _person(assignee)
    with session() as s:
        holder = _current(s, case_id)
        if holder is None and not may_assign(by_key, roles, holder, person.key_id):
            raise AssignmentRefused(403, "a case nobody holds is taken by a clerk, not given: a supervisor assigns it")
        if not may_assign(by_key, roles, holder, person.key_id):
            raise AssignmentRefused(403, "the case is assigned to someone else: only a supervisor reassigns it")
        if holder is not None and holder.assignee_key == person.key_id:
            return holder  # already theirs: nothing new to record
        row = CaseAssignment(
            case_id=case_id,
            assignee_key=person.key_id,
            assignee_name=person.name,
            assigned_by_key=by_key,
            assigned_by_name=by_name,
        )
        s.add(row)
        s.commit()
        s.refresh(row)
        return row


def assigned_to(key_id: str) -> set[str]:
    """The cases the key holds now (its latest assignment is to this key)."""
    latest = select(func.max(CaseAssignment.id)).group_by(CaseAssignment.case_id)
    with session() as s:
        q = select(CaseAssignment.case_id).where(
            CaseAssignment.assignee_key == key_id, col(CaseAssignment.id).in_(latest)
        )
        return set(s.exec(q))
