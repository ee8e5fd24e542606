"""The API and console built from the real registry: every registered procedure gets its routes, its
OpenAPI bodies and usable forms (so a procedure that lands needs no API code)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.forms import build_form, parse_form
from models.procedure import ProcedureSpec
from workflows.catalogue import PROCEDURES

SPECS = list(PROCEDURES)


@pytest.fixture(scope="module")
def real_app() -> FastAPI:
    return create_app(secret="real")


def test_the_registry_is_not_empty() -> None:
    assert SPECS, "the catalogue lists no procedure"


async def test_every_procedure_and_event_has_a_documented_route(real_app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=real_app), base_url="http://t") as c:
        schema = (await c.get("/v1/openapi.json")).json()
    for spec in SPECS:
        start = schema["paths"][f"/v1/procedures/{spec.key}/cases"]["post"]
        assert spec.input_model.__name__ in str(start["requestBody"])
        for event in spec.events:
            op = schema["paths"][f"/v1/procedures/{spec.key}/cases/{{case_id}}/events/{event.name}"]["post"]
            assert ("requestBody" in op) == (event.model is not None)


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_every_input_and_event_model_has_a_form(spec: ProcedureSpec) -> None:
    models = [spec.input_model, *(e.model for e in spec.events if e.model is not None)]
    for model in models:
        form = build_form(model)
        fields = form.fields()
        assert fields, model.__name__
        assert len({f.name for f in fields}) == len(fields), f"{model.__name__}: two fields share a name"
        data, problems = parse_form(form, {})  # an empty form parses (and then fails validation by field)
        assert problems == [] and isinstance(data, dict)
