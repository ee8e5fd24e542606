"""Every legal term a procedure's code opens is one it declares (``CaseWorkflow.TERMS``): its registration records
those only, so a term left out would be counted with the undated table instead of the law of the case's day."""

from __future__ import annotations

import inspect
import re

from rules import law
from workflows.catalogue import PROCEDURES

_LITERAL = re.compile(r"""["']([a-z_]+\.[a-z_0-9]+)["']""")


def test_every_term_a_procedure_opens_is_among_its_declared_terms() -> None:
    every_term = {k for a in law.acts().values() for k in a.terms}
    for spec in PROCEDURES:
        declared = set(spec.workflow.TERMS)
        act_terms = set(law.act(spec.act_key).terms)
        assert declared and declared <= act_terms, (spec.key, declared - act_terms)
        sources = {
            inspect.getsource(inspect.getmodule(c))
            for c in spec.workflow.__mro__
            if c.__module__.startswith("workflows.")
        }
        used = {m for src in sources for m in _LITERAL.findall(src) if m in every_term}
        assert used and used <= declared, (spec.key, used - declared)  # each names at least one term
