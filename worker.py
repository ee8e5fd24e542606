"""The Temporal worker: every procedure of the catalogue with its activities, on one task queue.

Outside systems are activity classes with an injected port (``activities.sms.SmsActivities(gateway)``, …).
``outside_systems`` builds one instance of each class with the implementation its settings choose (local
tables, or HTTP where a real protocol exists); ``bind`` turns the catalogue's unbound activity methods into
those instances' methods. Run: ``python worker.py`` (connection from Temporal's environment configuration,
default localhost:7233).

In production (``docs/PRODUCTION.md``): Prometheus metrics on ``KZ_METRICS_ADDRESS`` (``infra.telemetry``, the
cases' counters of ``workflows.metrics``), traces when an OTLP endpoint is configured, a graceful shutdown on
SIGTERM or SIGINT (``KZ_GRACEFUL_SHUTDOWN_SECONDS``), and ``python worker.py --check``, the health check: exit 0
when Temporal answers and a worker of this host polls the task queue.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError
from temporalio.worker import Interceptor, Worker, WorkerDeploymentConfig, WorkflowRunner

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
from infra.client import connect, connect_config, strict_client
from infra.keys import require_keys
from infra.outside_waits import OutsideWaits
from infra.receipts import WORKER_INTERCEPTORS
from infra.sandbox import worker_sandbox
from infra.settings import Settings, settings
from infra.telemetry import metrics_runtime, trace_provider
from workflows.catalogue import ACTIVITIES, WORKFLOWS
from workflows.metrics import CaseMetrics
from workflows.refusals import SaidRefusals

__all__ = ["ACTIVITIES", "WORKFLOWS", "bind", "check", "main", "make_worker", "outside_systems", "serve"]

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
    interceptors: Sequence[Interceptor] = (),
    max_cached_workflows: int = 1000,
    workflow_runner: WorkflowRunner | None = None,
) -> Worker:
    """A worker configured as in production; tests use it with their own client and task queue.

    ``activities`` (default: the catalogue's) may name unbound activity methods; they are bound to the
    instances of ``outside_systems()``, where an instance in ``systems`` replaces the one of its class
    (e.g. an activity class over a fake port in a test). ``interceptors`` come after production's (the
    benchmark's clock of activities). ``max_cached_workflows`` is the SDK's default, 1000; 0 keeps no case between
    its tasks: the next task of a case goes to any worker of the queue at once, none waits on a sticky queue.
    ``workflow_runner`` replaces the sandbox ``KZ_WORKFLOW_SANDBOX`` chooses (the benchmark's, which shares its floor's
    module as production shares ours).
    """
    instances = {type(i): i for i in outside_systems()}
    instances.update({type(i): i for i in systems})
    s = settings()
    versioning = None
    if s.build_id:
        # every case moves to the deployment's current build at its next task (docs/PRODUCTION.md, "Rolling out")
        versioning = WorkerDeploymentConfig(
            version=WorkerDeploymentVersion(deployment_name=s.deployment_name, build_id=s.build_id),
            use_worker_versioning=True,
            default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
        )
    return Worker(
        strict_client(client),  # a payload that comes in clear (not through our codec) is refused, never acted on
        task_queue=task_queue or s.task_queue,
        workflows=list(WORKFLOWS if workflows is None else workflows),
        activities=bind(ACTIVITIES if activities is None else activities, list(instances.values())),
        activity_executor=ThreadPoolExecutor(max_workers=ACTIVITY_THREADS),
        max_concurrent_activities=ACTIVITY_THREADS,
        # workflow modules imported once (replays are strict: infra/sandbox.py)
        workflow_runner=workflow_runner or worker_sandbox(),
        # the edge's receipt of each Update reaches the case; the console's "waiting on an outside system"; metrics
        interceptors=[*WORKER_INTERCEPTORS, OutsideWaits(), CaseMetrics(), SaidRefusals(), *interceptors],
        graceful_shutdown_timeout=timedelta(seconds=s.graceful_shutdown_seconds),
        deployment_config=versioning,
        max_cached_workflows=max_cached_workflows,
    )


async def serve(worker: Worker) -> None:
    """Run ``worker`` until SIGTERM or SIGINT, then shut it down gracefully.

    It stops polling; workflow tasks in flight complete; activities in flight get the worker's
    ``graceful_shutdown_timeout`` (``KZ_GRACEFUL_SHUTDOWN_SECONDS``) to finish, then are cancelled and retried by
    another worker under their retry policy. A second signal restores the default (stop at once).
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(sig: signal.Signals) -> None:
        grace = settings().graceful_shutdown_seconds
        log.info("%s: shutting down, activities in flight get %s s to finish", sig.name, grace)
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(s)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    running = asyncio.create_task(worker.run())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not running.done():
        await worker.shutdown()
    stopping.cancel()
    await running  # a worker that failed fails the process
    log.info("worker stopped")


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
    s = settings()
    try:
        runtime = metrics_runtime(s.metrics_address) if s.metrics_address else None
        client = await connect(wait_seconds=60, runtime=runtime)
    except (RuntimeError, ValueError) as exc:  # each names the setting or the address: no traceback to read
        raise SystemExit(f"worker not started: {exc}") from None
    worker = make_worker(client)
    log.info("worker on task queue %s, metrics on %s", s.task_queue, s.metrics_address or "(off)")
    await serve(worker)


POLLED_WITHIN = timedelta(minutes=2)
"""A worker polls at least once a minute (a long poll lasts up to 70 s): one seen within this is alive."""


async def check(timeout: float = 10.0) -> tuple[bool, str]:
    """The health check: Temporal answers, and a worker of this host polled the task queue for workflow and for
    activity tasks within ``POLLED_WITHIN``. Returns (healthy, what was found)."""
    s = settings()
    target = connect_config()["target_host"]
    try:
        client = await asyncio.wait_for(connect(), timeout)
    except RuntimeError as exc:  # connect() names the address
        return False, str(exc)
    except TimeoutError:
        return False, f"cannot reach Temporal at {target}: no answer within {timeout:g} s"
    host = f"@{socket.gethostname()}"
    now = datetime.now(UTC)
    found = []
    queue = f"task queue {s.task_queue} at {target}"
    kinds = (("workflow", TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), ("activity", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY))
    for kind, queue_type in kinds:
        try:
            answer = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace, task_queue=TaskQueue(name=s.task_queue), task_queue_type=queue_type
                ),
                timeout=timedelta(seconds=timeout),
            )
        except RPCError as exc:
            return False, f"cannot describe {queue} (namespace {client.namespace}): {exc.message}"
        ours = [
            p
            for p in answer.pollers
            if p.identity.endswith(host) and now - p.last_access_time.ToDatetime(tzinfo=UTC) <= POLLED_WITHIN
        ]
        if not ours:
            return False, f"no worker of this host ({host[1:]}) polls {kind} tasks of {queue}"
        found.append(f"{len(ours)} {kind} poller(s)")
    return True, f"ok: {queue}, namespace {client.namespace}: {', '.join(found)}"


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: run the worker, or with ``--check`` the health check (exit 0 healthy, 1 not)."""
    parser = argparse.ArgumentParser(prog="worker.py", description="The Temporal worker of every procedure.")
    parser.add_argument(
        "--check",
        action="store_true",
        help="health check: exit 0 when Temporal answers and a worker of this host polls the task queue",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    require_keys("worker")  # exits naming the missing setting when a key is neither configured nor generated
    if args.check:
        healthy, message = asyncio.run(check())
        print(message, file=sys.stdout if healthy else sys.stderr)
        _exit(0 if healthy else 1)
    asyncio.run(run())
    _exit(0)


def _exit(code: int) -> NoReturn:
    """Exit with ``code`` without the interpreter's finalisation, after flushing what we own: the SDK's native
    runtime has been seen to abort the process at finalisation (SIGABRT, exit 134 or -6, DESIGN "Known
    pitfalls"), which would turn a healthy check or a clean shutdown into a failure for the orchestrator."""
    flush = getattr(trace_provider(), "shutdown", None)
    if flush is not None:
        flush()  # the batched spans go out before the process does
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
