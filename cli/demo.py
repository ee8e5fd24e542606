"""``starter.py demo``: demo keys and one case of each procedure, so the console has something to show.

Idempotent: keys are created once (kept in ``<data dir>/demo-keys.json``, readable by the owner only),
and every demo case has a fixed application/complaint/report number, so re-running creates nothing new.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import demo as demo_files
from cli.common import console, load_json_model, run_async, with_client
from rules.law import cite

DEMO = Path(demo_files.__file__).resolve().parent
DEMO_PERMIT_NUMBER = "DEMO-MVNO-0001"
"""The demo permit's application number: ``demo/complaint/complaint.json`` names the appealed case by it."""
DEMO_PERSON = "850615400026"  # seeded in the local state registry (activities/state_registry.py)
KEY_ROLES = {
    "staff": ["staff"],
    "supervisor": ["staff", "supervisor"],
    "auditor": ["auditor"],
    "antifraud_centre": ["operator:antifraud_centre"],
}
DEMO_BINS = {"antifraud_centre": "990340001230"}
"""The organisation each demo operator-system key acts for (a made-up BIN with a valid check digit)."""


def demo_keys_file() -> Path:
    """Where the demo's keys are kept: ``demo-keys.json`` in the data directory."""
    from infra.settings import settings

    return settings().data_dir / "demo-keys.json"


def demo_keys() -> dict[str, str]:
    """The demo's API keys, created on first use; kept ones must still be the demo's working keys."""
    from api.auth import create_key

    path = demo_keys_file()
    if path.exists() or path.is_symlink():
        return _kept_keys(path)
    keys = {name: create_key(f"demo {name}", roles, DEMO_BINS.get(name))[0] for name, roles in KEY_ROLES.items()}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # owner-only from the first byte; never through a link planted where the file goes
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(keys, indent=1))
    return keys


def _kept_keys(path: Path) -> dict[str, str]:
    """The keys of an earlier demo in ``path``, each one the API still accepts; else a ``ValueError`` naming the
    file and what to do."""
    from api.auth import verify_key

    def refused(why: str) -> ValueError:
        return ValueError(
            f"{path} {why}: move it away and run `starter.py demo` again for new keys (keys made before stay valid "
            "until revoked)"
        )

    if path.is_symlink():
        raise refused("is a symbolic link, not the demo's keys file")
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise refused(f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    except ValueError as exc:  # not JSON (or not text)
        raise refused(f"does not hold the demo keys ({exc.__class__.__name__})") from None
    if not isinstance(kept, dict) or set(kept) != set(KEY_ROLES) or not all(isinstance(k, str) for k in kept.values()):
        raise refused(f"does not hold the demo keys (one for each of {', '.join(KEY_ROLES)})")
    dead = [name for name, key in kept.items() if verify_key(key) is None]
    if dead:
        raise refused(f"holds keys the API no longer accepts ({', '.join(dead)}: revoked, or of another database)")
    return dict(kept)


@run_async
async def demo() -> None:
    """Create the demo keys and cases (safe to re-run)."""
    from cli.fraud_intake import submit
    from infra.cases import start_case
    from infra.settings import settings
    from models.complaint import ComplaintInput
    from models.egov_number_connection import Channel, EgovConnectionInput
    from models.electronic_mailbox import MailboxApplicationInput
    from models.fraud_check import SubscriberReport
    from models.mvno_permit import PermitApplication
    from workflows import complaint as complaint_wf
    from workflows import egov_number_connection as egov_wf
    from workflows import electronic_mailbox as mailbox_wf
    from workflows import mvno_permit as permit_wf

    client = await with_client(wait_seconds=60)
    tq = settings().task_queue
    now = datetime.now(UTC)
    created: list[tuple[str, str]] = []

    permit_app = load_json_model(DEMO / "mvno_permit" / "application.json", PermitApplication)
    permit_app = permit_app.model_copy(update={"received_at": now, "application_number": DEMO_PERMIT_NUMBER})
    permit = await start_case(client, permit_wf.SPEC, permit_app, task_queue=tq, source="demo")
    created.append(("MVNO permit (665/NK)", permit.case_id))

    report = SubscriberReport(
        ref="demo:report-0001",
        suspect_number="+77010000101",
        reporter_number="+77011234567",
        received_at=now,
        description="SMS asking for a bank card code (demo)",
    )
    ack = await submit(client, report, task_queue=tq, source="demo")
    created.append((f"fraud check ({cite('171', 'p.119')})", ack.case_id))

    comp = load_json_model(DEMO / "complaint" / "complaint.json", ComplaintInput)
    # the file names the demo permit by its application number, as a user would; the start resolves it to the case
    comp = comp.model_copy(
        update={
            "received_at": now,
            "appealed_application_number": DEMO_PERMIT_NUMBER,
            "complaint_number": "DEMO-C-0001",
        }
    )
    handle = await start_case(client, complaint_wf.SPEC, comp, task_queue=tq, source="demo")
    created.append((f"complaint about the permit ({cite('665/NK', 'p.10')})", handle.case_id))

    # Act 58: a number to connect to the e-government account (its 10-minute term runs from now, so it is
    # created once per data directory), and act 71: a mailbox applied for while the act was in force.
    marker = settings().data_dir / "demo-egov-case.txt"
    if marker.exists():
        egov_id = marker.read_text().strip()
    else:
        egov = EgovConnectionInput(iin=DEMO_PERSON, phone="+77015550177", channel=Channel.PORTAL, received_at=now)
        egov_id = (await start_case(client, egov_wf.SPEC, egov, task_queue=tq, source="demo")).case_id
        marker.write_text(egov_id)
    created.append(("number to the e-gov account (58)", egov_id))
    mailbox = MailboxApplicationInput(
        iin=DEMO_PERSON,
        login="dana.sadykova",
        channel="online",
        received_at=datetime(2024, 5, 2, 10, 0, tzinfo=UTC),
        official_correspondence=True,
    )
    mailbox_case = await start_case(client, mailbox_wf.SPEC, mailbox, task_queue=tq, source="demo")
    created.append(("electronic mailbox (71, before 305/NK)", mailbox_case.case_id))

    for title, case_id in created:
        console.print(f"{title}: {case_id}")
    keys = demo_keys()
    console.print(
        f"\nDemo API keys (also in {demo_keys_file()}; sign in to the console with the staff key):",
        soft_wrap=True,
        markup=False,
    )
    for name, key in keys.items():
        console.print(f"  {name:17} {key}")
