"""Fixtures of the API tests: the app built with the test-only procedure, a worker, and one key per role;
on the dev server (listing, browser) the real MVNO permit runs beside it, and the browser tests reach that app
over HTTP (``console_url``)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from api.temporal import Gateway
from infra.client import data_converter
from tests.api.procedures import ANTIFRAUD, BANK, SPEC, DemoCheck
from worker import make_worker
from workflows.complaint import SPEC as COMPLAINT
from workflows.complaint import Complaint
from workflows.mvno_permit import SPEC as PERMIT
from workflows.mvno_permit import MvnoPermit

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from tests.api.browser import FreshBrowser

TASK_QUEUE = "api-tests"
BANK_BIN = "051140004562"


@dataclass(frozen=True)
class Keys:
    staff: str
    auditor: str
    supervisor: str
    bank: str
    antifraud: str


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        staff=create_key("back office (test)", ["staff"])[0],
        auditor=create_key("auditor (test)", ["auditor"])[0],
        supervisor=create_key("supervisor (test)", ["supervisor"])[0],
        bank=create_key("bank (test)", [BANK], BANK_BIN)[0],
        antifraud=create_key("antifraud centre (test)", [ANTIFRAUD], "990340001230")[0],
    )


@pytest.fixture(scope="module")
def env(module_env: WorkflowEnvironment) -> WorkflowEnvironment:
    """The module's one server: its module-scoped fixtures start a worker on it."""
    return module_env


@pytest.fixture(scope="module")
async def api_worker(env: WorkflowEnvironment) -> AsyncIterator[None]:
    async with make_worker(env.client, task_queue=TASK_QUEUE, workflows=[DemoCheck]):
        yield


@pytest.fixture(scope="module")
def api_app(env: WorkflowEnvironment) -> FastAPI:
    return create_app(
        procedures={SPEC.key: SPEC}, gateway=Gateway(client=env.client), task_queue=TASK_QUEUE, secret="test-secret"
    )


@pytest.fixture
async def http(api_app: FastAPI, api_worker: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=api_app)
    # https: the console's cookie is Secure (the default), and a client keeps it to HTTPS
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal dev server (full visibility, our search attributes), for listing and the browser."""
    from models import search_attributes
    from tests.conftest import SERVER_STARTUP, binary

    e = await WorkflowEnvironment.start_local(
        dev_server_startup_timeout=SERVER_STARTUP,
        dev_server_existing_path=binary("temporal"),
        data_converter=data_converter(),
        search_attributes=search_attributes.ALL,
        dev_server_extra_args=["--headless"],
    )
    try:
        yield e
    finally:
        await e.shutdown()


@pytest.fixture(scope="session")
async def dev_worker(dev_env: WorkflowEnvironment) -> AsyncIterator[None]:
    async with make_worker(dev_env.client, task_queue=TASK_QUEUE, workflows=[DemoCheck, MvnoPermit, Complaint]):
        yield


@pytest.fixture(scope="session")
def dev_app(dev_env: WorkflowEnvironment) -> FastAPI:
    return create_app(
        procedures={SPEC.key: SPEC, PERMIT.key: PERMIT, COMPLAINT.key: COMPLAINT},
        gateway=Gateway(client=dev_env.client),
        task_queue=TASK_QUEUE,
        secret="test-secret-dev",
        secure_cookie=False,  # the browser test serves it over plain HTTP on 127.0.0.1, as scripts/up.py does
    )


@pytest.fixture
async def dev_http(dev_app: FastAPI, dev_worker: None) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=dev_app), base_url="https://testserver") as c:
        yield c


@pytest.fixture(scope="session")
async def shared_chromium(chromium: str) -> AsyncIterator[Browser]:
    """The test process's chromium, started for its first browser test (``tests/api/browser.py``)."""
    from playwright.async_api import async_playwright

    from tests.api.browser import FLAGS

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def browser(shared_chromium: Browser) -> AsyncIterator[FreshBrowser]:
    """A browser as fresh as a new one: the process's chromium, every page of the test in a context of its own."""
    from tests.api.browser import FreshBrowser

    fresh = FreshBrowser(shared_chromium)
    try:
        yield fresh
    finally:
        await fresh.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed by the project's setup when missing (as root on Debian)."""
    from tests.api.browser import ensure_chromium

    path = ensure_chromium()
    if path is None:
        pytest.skip(
            "browser test skipped: /usr/bin/chromium is missing and cannot be installed here "
            "(needs root on Debian: apt-get install -y chromium)"
        )
    return path


@pytest.fixture
async def console_url(dev_app: FastAPI, dev_worker: None) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(dev_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
