"""The Temporal worker: every procedure of the catalogue with its activities, on one task queue.

Outside systems are activity classes with an injected port (``activities.sms.SmsActivities(gateway)``, …).
``outside_systems`` builds one instance of each class with the implementation its settings choose (local
tables, or HTTP where a real protocol exists); ``bind`` turns the catalogue's unbound activity methods into
those instances' methods. Run: ``python worker.py`` (connection from Temporal's environment configuration,
default localhost:7233).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities.antifraud import AntifraudActivities, LocalAntifraudCentre
from activities.biometrics import BiometricActivities, LocalBiometricVerdicts
from activities.eds import EdsActivities, SignatureVerifier
from activities.mailbox import LocalMailboxSystem, MailboxActivities
from activities.mobile_citizens import LocalMobileCitizensDatabase, MobileCitizensActivities
from activities.monitoring import LocalMonitoringSystem, MonitoringActivities
from activities.network import LocalNetwork, NetworkActivities
from activities.numbers import LocalNumbersRegister, NumbersRegisterActivities
from activities.otp import OtpActivities
from activities.permits_registry import LocalPermitsRegistry, PermitsRegistryActivities
from activities.personal_account import LocalPersonalAccounts, PersonalAccountActivities
from activities.sms import LocalSmsGateway, SmsActivities, SmsGateway
from activities.state_registry import LocalStateRegistries, StateRegistryActivities
from activities.subscriber_registry import LocalSubscriberRegister, SubscriberRegisterActivities
from adapters.local_ca import LocalSignatureVerifier
from infra.client import connect, strict_client
from infra.keys import require_keys
from infra.outside_waits import OutsideWaits
from infra.receipts import WORKER_INTERCEPTORS
from infra.sandbox import SANDBOX
from infra.settings import Settings, settings
from workflows.catalogue import ACTIVITIES, WORKFLOWS

__all__ = ["ACTIVITIES", "WORKFLOWS", "bind", "main", "make_worker", "outside_systems"]

log = logging.getLogger(__name__)

ACTIVITY_THREADS = 32
"""Threads for the sync activities (they block on SQLAlchemy, crypto and HTTP); the worker takes no more
activity tasks at once than it has threads, so no attempt's timeout runs while it waits for one."""


def outside_systems(s: Settings | None = None) -> list[object]:
    """One instance of every activity class, each with the implementation of its port that ``s`` chooses."""
    s = s or settings()
    # The HTTP adapters (and httpx) are imported only when configured: test modules that define workflows
    # import this module, and the workflow sandbox re-imports them.
    sms: SmsGateway = LocalSmsGateway()
    if s.sms_gateway_url:
        from adapters.sms_gateway import HttpSmsGateway

        sms = HttpSmsGateway(s.sms_gateway_url, s.sms_gateway_token.get_secret_value(), timeout=s.http_timeout_seconds)
    verifier: SignatureVerifier = LocalSignatureVerifier()
    if s.ncanode_url:
        from adapters.ncanode import NcaNodeVerifier

        verifier = NcaNodeVerifier(s.ncanode_url, timeout=s.http_timeout_seconds)
    return [
        SmsActivities(sms),
        OtpActivities(sms),
        EdsActivities(verifier),
        BiometricActivities(LocalBiometricVerdicts()),
        StateRegistryActivities(LocalStateRegistries()),
        MobileCitizensActivities(LocalMobileCitizensDatabase()),
        AntifraudActivities(LocalAntifraudCentre()),
        NetworkActivities(LocalNetwork()),
        SubscriberRegisterActivities(LocalSubscriberRegister()),
        NumbersRegisterActivities(LocalNumbersRegister()),
        MonitoringActivities(LocalMonitoringSystem()),
        PermitsRegistryActivities(LocalPermitsRegistry()),
        PersonalAccountActivities(LocalPersonalAccounts()),
        MailboxActivities(LocalMailboxSystem()),
    ]


def _activity_methods(instance: object) -> Iterable[tuple[Callable[..., Any], Callable[..., Any]]]:
    for klass in reversed(type(instance).__mro__):
        for name, attr in vars(klass).items():
            if callable(attr) and hasattr(attr, "__temporal_activity_definition"):
                yield attr, getattr(instance, name)


def _is_unbound_method(fn: Callable[..., Any]) -> bool:
    owner, _, _ = getattr(fn, "__qualname__", "").rpartition(".")
    return bool(owner) and not owner.endswith("<locals>") and not hasattr(fn, "__self__")


def bind(activities: Sequence[Callable[..., Any]], instances: Sequence[object]) -> list[Callable[..., Any]]:
    """What the worker registers: each unbound activity method (``SmsActivities.send_sms``) becomes the method
    of the one instance of its class among ``instances``; plain functions and bound methods stay as they are.

    An unbound method whose class has no instance is a ``ValueError`` (a system the worker was not given).
    """
    bound: dict[Callable[..., Any], Callable[..., Any]] = {}
    for instance in instances:
        for unbound, method in _activity_methods(instance):
            bound[unbound] = method
    out: list[Callable[..., Any]] = []
    for fn in activities:
        if fn in bound:
            out.append(bound[fn])
        elif _is_unbound_method(fn):
            raise ValueError(f"activity {fn.__qualname__}: the worker has no instance of its class")
        else:
            out.append(fn)
    return out


def make_worker(
    client: Client,
    *,
    task_queue: str | None = None,
    workflows: Sequence[type] | None = None,
    activities: Sequence[Callable[..., Any]] | None = None,
    systems: Sequence[object] = (),
) -> Worker:
    """A worker configured as in production; tests use it with their own client and task queue.

    ``activities`` (default: the catalogue's) may name unbound activity methods; they are bound to the
    instances of ``outside_systems()``, where an instance in ``systems`` replaces the one of its class
    (e.g. an activity class over a fake port in a test).
    """
    instances = {type(i): i for i in outside_systems()}
    instances.update({type(i): i for i in systems})
    return Worker(
        strict_client(client),  # a payload that comes in clear (not through our codec) is refused, never acted on
        task_queue=task_queue or settings().task_queue,
        workflows=list(WORKFLOWS if workflows is None else workflows),
        activities=bind(ACTIVITIES if activities is None else activities, list(instances.values())),
        activity_executor=ThreadPoolExecutor(max_workers=ACTIVITY_THREADS),
        max_concurrent_activities=ACTIVITY_THREADS,
        workflow_runner=SANDBOX,
        # the edge's receipt of each Update reaches the case; the console's "waiting on an outside system"
        interceptors=[*WORKER_INTERCEPTORS, OutsideWaits()],
    )


def check_calendar() -> None:
    """Refuse to start on a broken calendar override file (every new case would stop at its registration);
    the message names the file and the line."""
    from infra.calendar import current_calendar

    try:
        current_calendar()
    except ValueError as exc:
        raise SystemExit(f"worker not started: {exc}") from None


async def run() -> None:
    check_calendar()
    client = await connect(wait_seconds=60)
    worker = make_worker(client)
    log.info("worker on task queue %s", settings().task_queue)
    await worker.run()


def main() -> None:
    """Console entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    require_keys("worker")  # exits naming the missing setting when a key is neither configured nor generated
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        log.info("worker stopped")


if __name__ == "__main__":
    main()
