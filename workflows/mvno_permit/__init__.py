"""Permit for a mobile virtual network operator (665/NK): the workflow ``MvnoPermit`` and its catalogue entry.

Modules follow the Rules: ``workflow`` (``run``, registration p.6, the service term), ``completeness`` (p.6),
``qualification`` (p.7), ``hearing`` (p.7), ``life`` (the permit, Annex 5, and its ten years), ``reopening``
(p.10), ``documents``, ``base`` (the case's state and shared steps), ``spec`` (the catalogue entry).
"""

from __future__ import annotations

from workflows.mvno_permit.base import ACT, PROCEDURE, permit_case_id
from workflows.mvno_permit.spec import SPEC
from workflows.mvno_permit.workflow import MvnoPermit

__all__ = ["ACT", "PROCEDURE", "SPEC", "MvnoPermit", "permit_case_id"]
