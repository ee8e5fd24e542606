"""Settings from the environment (prefix ``KZ_``) or a ``.env`` file; one place, read once.

Reading the settings also secures the data directory (``secure_data_dir``): it is made owner-only (0700) and
the process's umask is narrowed to 077, so every file the process creates there afterwards (our SQLite file and
the ``-wal``/``-shm`` files SQLite makes itself, key files, logs, the demo keys) is 0600, on Linux and macOS.
"""

from __future__ import annotations

import os
import re
import stat
from functools import cache
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from models.timings import CaseTimings

__all__ = ["Settings", "SettingsInvalid", "secure_data_dir", "settings"]

ROOT = Path(__file__).resolve().parent.parent

OWNER_ONLY_UMASK = 0o077
"""Files made after it is set get no group or other permission bits (0600 files, 0700 directories)."""


class Settings(BaseSettings):
    """Runtime configuration. Temporal's own address, namespace and TLS come from ``temporalio.envconfig``."""

    model_config = SettingsConfigDict(env_prefix="KZ_", env_file=".env", extra="ignore", env_nested_delimiter="__")

    task_queue: str = "kz-procedures"
    data_dir: Path = Field(default=ROOT / "data")
    database_url: str = ""  # default: SQLite file in data_dir
    calendar_overrides: Path = Field(default=ROOT / "rules" / "data" / "calendar_overrides.toml")
    pseudonym_key: SecretStr = SecretStr("")
    """``KZ_PSEUDONYM_KEY``: the key of the keyed hashes that stand in for personal data in workflow ids and search
    attributes, and (derived) of the one-time-code digests. Unset: the installation's own key in
    ``<data dir>/pseudonym-key``, generated at random on first use unless key generation is off
    (``infra.pseudonym``). There is no default value: a public key would let anyone recover a number from its
    case id by enumeration."""
    ca_key: SecretStr = SecretStr("")
    """``KZ_CA_KEY``: the private key of the certification authority that signs the provider's documents and
    issues subscribers' EDS certificates (``adapters.local_ca``), PEM or base64 of the PEM. Set with
    ``KZ_CA_CERT``; unset: ``<data dir>/ca/ca.key.pem``, generated on first use while key generation is on.
    Every host of an installation needs the same CA, or a signature made on one does not verify on another."""
    ca_cert: str = ""
    """``KZ_CA_CERT``: the CA's certificate (PEM or base64 of the PEM), the pair of ``KZ_CA_KEY``."""
    eds_issuer_key: SecretStr = SecretStr("")
    """``KZ_EDS_ISSUER_KEY``: the RSA key EDS passwords are sealed to at the API's edge and unsealed with in the
    worker (``activities.eds``), PEM or base64 of the PEM; unset: ``<data dir>/ca/eds_issuer.key.pem``, generated
    on first use while key generation is on. The API and every worker need the same key."""
    key_generation: bool = True
    """``KZ_KEY_GENERATION``: whether a process that finds no key generates one into the data directory (the dev
    setup: the payload codec's keys, the pseudonym key, the CA, the EDS issuer key, the console's session
    secret). Production sets ``false``: every key comes from the secret
    store, and a process without one refuses to start instead of inventing a key nobody else has."""

    # Outside systems over HTTP (``adapters/``); a system whose URL is unset runs on our local tables.
    sms_gateway_url: str = ""
    """``KZ_SMS_GATEWAY_URL``: the operator's SMS gateway (``adapters.sms_gateway``); unset: the local outbox."""
    sms_gateway_token: SecretStr = SecretStr("")
    """``KZ_SMS_GATEWAY_TOKEN``: the bearer token the gateway expects."""
    ncanode_url: str = ""
    """``KZ_NCANODE_URL``: NCANode's base URL for EDS verification (``adapters.ncanode``); unset: the local
    test CA verifies."""
    http_timeout_seconds: float = Field(default=20.0, gt=0)
    """``KZ_HTTP_TIMEOUT_SECONDS``: one HTTP request to an outside system (within one activity attempt)."""
    query_timeout_seconds: float = Field(default=10.0, gt=0)
    """``KZ_QUERY_TIMEOUT_SECONDS``: how long the API, the console and the commands wait for a case to answer a query
    (its view, what to sign) before they say it cannot answer now (503, ``Retry-After``). A case answers in
    milliseconds while a worker runs it; without one the server would hold the question about 30 s."""
    metrics_address: str = "127.0.0.1:9464"
    """``KZ_METRICS_ADDRESS``: where the worker serves Prometheus metrics (``host:port``, path ``/metrics``); empty:
    no metrics endpoint. Two workers on one host need two addresses."""
    graceful_shutdown_seconds: float = Field(default=30.0, ge=0)
    """``KZ_GRACEFUL_SHUTDOWN_SECONDS``: on SIGTERM or SIGINT the worker stops taking tasks and gives the
    activities in flight this long to finish before it cancels them (they are then retried by another worker).
    The orchestrator's grace period (e.g. Kubernetes' ``terminationGracePeriodSeconds``) must be longer."""
    build_id: str = ""
    """``KZ_BUILD_ID``: the build of this worker (e.g. the image's git commit) for Worker Deployment Versioning;
    set, the worker joins deployment ``KZ_DEPLOYMENT_NAME`` as that version and takes the cases the deployment
    routes to it (docs/PRODUCTION.md, "Rolling out"); empty: unversioned."""
    deployment_name: str = "kz-procedures"
    """``KZ_DEPLOYMENT_NAME``: the Worker Deployment the workers of this task queue belong to."""
    workflow_sandbox: Literal["shared", "strict"] = "shared"
    """``KZ_WORKFLOW_SANDBOX``: ``shared`` (the worker imports our workflow modules once and every case runs the same
    ones) or ``strict`` (each case re-imports them under the sandbox's restrictions, 2–4× the memory per open case).
    The replayer, and so ``audit replay`` before a deploy, is always strict (``infra/sandbox.py``)."""
    future_tolerance_seconds: float = Field(default=300.0, ge=0)
    """``KZ_FUTURE_TOLERANCE_SECONDS``: how far a receipt may lie in the future of the edge's clock (clock skew
    between the sender and us) before the edge refuses it. The test suite raises it: the time-skipping test
    server's clock runs years ahead of the wall clock."""

    timings: CaseTimings = Field(default_factory=CaseTimings)
    """``KZ_TIMINGS__<FIELD>`` (ISO 8601 durations or seconds): timeouts, margins and checkpoints that are not law
    (``models.timings``); a case keeps the values of its registration day."""

    @field_validator("timings", mode="before")
    @classmethod
    def _known_timings(cls, value: Any) -> Any:
        """A duration the cases do not have (``KZ_TIMINGS__OUTSIDE_TIMOUT``) is refused, not ignored: a misspelt
        timeout would leave the default in force with nothing said. Only here: a case's recorded timings keep
        reading whatever fields they were written with."""
        if isinstance(value, dict):
            unknown = sorted(str(k) for k in value if k not in CaseTimings.model_fields)
            if unknown:
                raise PydanticCustomError(
                    "unknown_timing",
                    "no such duration: {unknown} (known: {known})",
                    {
                        "unknown": ", ".join(f"KZ_TIMINGS__{k.upper()}" for k in unknown),
                        "known": ", ".join(k.upper() for k in CaseTimings.model_fields),
                    },
                )
        return value

    # The HTTP API and the console (``api/``).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    """``KZ_MAX_BODY_BYTES``: a request body over this is refused with 413 before anything reads it (1 MiB)."""
    idempotency_hours: float = Field(default=24.0, gt=0)
    """``KZ_IDEMPOTENCY_HOURS``: how long an ``Idempotency-Key`` is remembered (its record is purged after)."""
    session_idle_seconds: int = Field(default=30 * 60, gt=0)
    """``KZ_SESSION_IDLE_SECONDS``: a console session unused this long is over (30 minutes)."""
    session_max_seconds: int = Field(default=8 * 3600, gt=0)
    """``KZ_SESSION_MAX_SECONDS``: a console session is over this long after sign-in, used or not (8 hours)."""
    session_cookie_secure: bool = True
    """``KZ_SESSION_COOKIE_SECURE``: the console's cookie is sent over HTTPS only. ``scripts/up.py`` sets it to
    false for its plain-HTTP console on localhost; never in production."""

    def db_url(self) -> str:
        """The SQLAlchemy URL of our own tables."""
        if self.database_url:
            return self.database_url
        if self.data_dir not in _SECURED or not self.data_dir.is_dir():  # each session asks: one stat, not a walk
            secure_data_dir(self.data_dir)
        return f"sqlite:///{self.data_dir / 'engine.db'}"


def _owner_only(path: Path) -> None:
    """Drop group and other permission bits of ``path`` when it is ours and has any. An entry gone since it was
    listed (another process starting on the same directory renamed its temporary key file into place) is left."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid() or not st.st_mode & 0o077:
            return
        path.chmod(stat.S_IMODE(st.st_mode) & ~0o077)
    except FileNotFoundError:
        return


def secure_data_dir(path: Path) -> Path:
    """Make ``path`` the owner's alone and keep it so: umask 077 for this process (and the processes it starts),
    the directory created 0700 (or narrowed to 0700), and the files of a data directory made before this rule (its
    top level and the ``logs``/``ca`` directories in it) narrowed to owner-only."""
    os.umask(os.umask(OWNER_ONLY_UMASK) | OWNER_ONLY_UMASK)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(path)
    for entry in path.iterdir():
        _owner_only(entry)
        if entry.is_dir() and not entry.is_symlink() and entry.name in ("logs", "ca"):
            for inner in entry.iterdir():
                _owner_only(inner)
    _SECURED.add(path)
    return path


_SECURED: set[Path] = set()
"""Data directories this process has secured (the umask stays narrowed; files made since are owner-only)."""


class SettingsInvalid(ValueError):
    """A setting's value is refused; the message names each variable (``KZ_TIMINGS__OUTSIDE_TIMEOUT``) and why,
    never the value (a setting may hold a key)."""


def _variable(loc: tuple[int | str, ...]) -> str:
    return "KZ_" + "__".join(str(part).upper() for part in loc)


_NEAR_TIMINGS = re.compile(r"KZ_TIMING(?!S(__|$))", re.IGNORECASE)
"""A variable meant for the durations with its prefix misspelt (``KZ_TIMING__…``, ``KZ_TIMINGS_…``): the settings
would ignore it as they ignore every variable that is not theirs."""


def _misnamed_durations() -> list[str]:
    env_file = Path(".env")
    names = [*os.environ, *(dotenv_values(env_file) if env_file.is_file() else {})]
    return sorted({n for n in names if _NEAR_TIMINGS.match(n)})


@cache
def settings() -> Settings:
    """The process's settings; the first call secures the data directory (``secure_data_dir``). Raises
    ``SettingsInvalid`` naming the variables whose values are refused."""
    if misnamed := _misnamed_durations():
        raise SettingsInvalid(
            f"invalid setting: {', '.join(misnamed)}: not a setting (durations are KZ_TIMINGS__<NAME>)"
        )
    try:
        s = Settings()
    except ValidationError as exc:
        reasons = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False))
        raise SettingsInvalid(f"invalid setting: {reasons}") from None
    except SettingsError as exc:  # a group's variable that is not JSON (``KZ_TIMINGS=nope``)
        field = re.search(r'field "(\w+)"', str(exc))
        reason = f"KZ_{field.group(1).upper()}: not a JSON object" if field else str(exc)
        raise SettingsInvalid(f"invalid setting: {reason}") from None
    secure_data_dir(s.data_dir)
    return s
