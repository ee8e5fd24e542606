"""README.md's command examples as a test runs them: extraction from the ```bash blocks, placeholders, the
answers to prompts, a shell that remembers the variables the README sets, and running the commands in order
(``run_readme``, for ``tests/test_readme.py`` and ``tests/e2e/test_readme_on_dev_server.py``).

The conventions (README.md and the tests that run it keep to them):

- A command is a logical line of a ```bash block (a trailing ``\\`` continues it); a ``cat > FILE <<…``
  here-document is one command. Commented-out lines are prose, not commands. Every command runs in one of the two
  tests (``runs_where``) or is in ``NOT_RUN`` with the reason; ``tests/test_readme.py`` checks that.
- A block that calls the API (``localhost:8000``) runs against ``scripts/up.py``'s stack in the dev-server test:
  ``localhost:8000`` stands for that stack's API, and ``curl`` gets ``--fail-with-body`` (an error answer fails).
- ``$VAR`` is set by an earlier README line ``VAR=$(…)``, as in a shell.
- Placeholders in capitals stand for what a reader copies from earlier output: ``CASE_ID`` the latest case
  id printed, ``OTHER_CASE_ID`` the one before it, ``KEY_ID`` the id of the latest key created, ``SMS_LINK``
  the link of the latest 3344 SMS, ``DOC_ID`` the latest document id printed (``"doc_id": …`` of the API).
- A command that prompts is answered from ``PROMPTS`` (the latest 1414 code read with ``subscriber sms``, a
  valid EDS password).
- A command whose comment, or the comment line right under it, starts with "refused" must be refused: exit
  code 1 and a refusal's words. Every other command must exit 0. No command may print a traceback.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import sys
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from tests.forkserver import SHIM, enabled, forkserver
from tests.subscribers import until

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PROCEDURES = (
    "mvno_permit",
    "fraud_check",
    "complaint",
    "egov_number_connection",
    "individual_numbers",
    "contract_eds_signing",
    "electronic_mailbox",
)
CASE_ID = re.compile(rf"\b(?:{'|'.join(PROCEDURES)})-[0-9a-f]{{20}}\b")
REFUSALS = ("refused:", "not possible now:", "invalid:", "closed:", "not found:")
PHONE = "+77011234567"  # the README's subscriber
PASSWORD = "Str0ng!Passw0rd"


@dataclass(frozen=True)
class Command:
    """One command of the README: its text (continuations joined), where it is, and what it must do."""

    text: str
    line: int
    refused: bool
    block: int = 0
    """The number of the ```bash block it is in (commands of one block share their files and variables)."""

    @property
    def words(self) -> list[str]:
        """The command's words after the program (``python starter.py`` / ``kz-starter`` / ``audit``)."""
        first = re.sub(r"^\w+=\$\(", "", self.text.split("\n", 1)[0])
        tokens = shlex.split(first.split("|", 1)[0].rstrip(") "))
        for i, t in enumerate(tokens):
            if t.endswith("starter.py") or t in ("kz-starter", "audit"):
                return tokens[i + 1 :]
        return []

    @property
    def program(self) -> str:
        if re.match(r"^(\S+=\S+ )?python3 scripts/", self.text):
            return "script"
        if "starter.py" in self.text or "kz-starter" in self.text:
            return "starter"
        if re.match(r"^(\w+=\$\()?audit ", self.text):
            return "audit"
        return "shell"

    def is_(self, *words: str) -> bool:
        return self.words[: len(words)] == list(words)


def _strip_comment(line: str) -> tuple[str, str]:
    """``(code, comment)`` of a shell line: the comment starts at a ``#`` outside quotes after a blank."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1 :].strip()
    return line.rstrip(), ""


def commands(readme: Path = README) -> list[Command]:
    """Every command of the README's ```bash blocks, in order (see the module's conventions)."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    out: list[Command] = []
    in_block = False
    block = 0
    i = 0
    while i < len(lines):
        raw = lines[i]
        if raw.startswith("```"):
            in_block = raw.strip() == "```bash" and not in_block
            block += in_block
            i += 1
            continue
        if not in_block or not raw.strip() or raw.lstrip().startswith("#"):
            i += 1
            continue
        start = i
        code, comment = _strip_comment(raw)
        heredoc = re.search(r"<<'?(\w+)'?", code)
        if heredoc:
            end = lines.index(heredoc.group(1), i + 1)
            code = "\n".join([code, *lines[i + 1 : end + 1]])
            i = end
        while code.endswith("\\"):
            i += 1
            more, more_comment = _strip_comment(lines[i])
            code = code[:-1].rstrip() + " " + more.strip()
            comment = more_comment or comment
        i += 1
        following = _strip_comment(lines[i])[1] if i < len(lines) and lines[i].lstrip().startswith("#") else ""
        refused = comment.startswith("refused") or following.lstrip("→ ").startswith("refused")
        out.append(Command(code, start + 1, refused, block))
    return out


@dataclass
class Shell:
    """Runs README commands with ``bash`` in ``cwd``, remembering the variables they set and the ids they print."""

    cwd: Path
    env: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    case_ids: list[str] = field(default_factory=list)
    key_id: str = ""
    doc_id: str = ""
    api: str = ""
    """The stack's API (``http://127.0.0.1:PORT``) that the README's ``localhost:8000`` stands for."""
    transcript: list[str] = field(default_factory=list)

    async def bash(self, script: str, stdin: str = "") -> tuple[int, str, str]:
        """``(exit code, stdout, stderr)`` of ``script`` under ``bash -o pipefail`` with the variables set so far.

        The script ends with ``exit $?`` so that bash stays the commands' parent, as the reader's shell is (bash
        would otherwise exec a lone command, and ``--install-completion`` finds the shell among its parents)."""
        proc = await asyncio.create_subprocess_exec(
            "bash",
            "--noprofile",
            "--norc",
            "-o",
            "pipefail",
            "-c",
            f"{script}\nexit $?",
            cwd=self.cwd,
            env={**self.env, **self.variables},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), timeout=240)
        return proc.returncode or 0, out.decode(), err.decode()

    def placeholders(self, text: str) -> str:
        """``text`` with the README's placeholders replaced by real values (see the module's conventions)."""
        values = {
            "OTHER_CASE_ID": self.case_ids[-2] if len(self.case_ids) > 1 else "",
            "CASE_ID": self.case_ids[-1] if self.case_ids else "",
            "KEY_ID": self.key_id,
            "DOC_ID": self.doc_id,
        }
        for name, value in values.items():
            if re.search(rf"\b{name}\b", text):
                assert value, f"no value yet for the placeholder {name}"
                text = re.sub(rf"\b{name}\b", value, text)
        if "localhost:8000" in text:
            assert self.api, "the README calls the API: run it against scripts/up.py's stack"
            text = text.replace("http://localhost:8000", self.api).replace("localhost:8000", self.api)
            text = re.sub(r"\bcurl -sS\b", "curl -sS --fail-with-body", text)
        return text

    async def sms_text(self) -> str:
        """What the README's subscriber phone received, as ``subscriber sms`` shows it."""
        code, out, err = await self.bash(f"python starter.py subscriber sms {PHONE}")
        assert code == 0, out + err
        return out

    async def latest(self, pattern: str, wait: float = 30.0) -> str:
        """The last match of ``pattern`` in the phone's messages, waiting for one as a subscriber waits for the SMS:
        the command that opened the step returns before the case has sent it (on a loaded host the README's next
        command came first and found none)."""
        text = await until(self.sms_text, lambda t: re.search(pattern, t) is not None, seconds=wait)
        return str(re.findall(pattern, text)[-1])

    async def run(self, command: Command, stdin: str = "") -> tuple[int, str]:
        """Run ``command``; remember the ids it prints and the variable it sets. ``(exit code, output)``."""
        text = self.placeholders(command.text)
        if "SMS_LINK" in text:
            text = text.replace("SMS_LINK", await self.latest(r"https://almatel\.kz/sign/[A-Za-z0-9_\-]+"))
        assignment = re.fullmatch(r"([A-Za-z_]\w*)=\$\((.*)\)", text, re.DOTALL)
        code, out, err = await self.bash(assignment.group(2) if assignment else text, stdin)
        if assignment:
            self.variables[assignment.group(1)] = out.strip()
        for case_id in CASE_ID.findall(out + err):
            if case_id in self.case_ids:
                self.case_ids.remove(case_id)
            self.case_ids.append(case_id)
        if m := re.search(r"key id (\S+) for", out):
            self.key_id = m.group(1)
        if docs := re.findall(r'"doc_id":\s*"([^"]+)"', out):
            self.doc_id = docs[-1]
        self.transcript.append(f"$ {text}\n{out}{err}[exit {code}]")
        return code, out + err


async def _code(shell: Shell) -> str:
    return await shell.latest(r"код (\d{6})") + "\n"


async def _password(shell: Shell) -> str:
    return f"{PASSWORD}\n{PASSWORD}\n"


PROMPTS: dict[tuple[str, ...], Callable[[Shell], Awaitable[str]]] = {
    ("subscriber", "egov", "otp"): _code,
    ("subscriber", "signing", "enter-code"): _code,
    ("subscriber", "signing", "password"): _password,
}
"""The answers to the commands that prompt (hidden input), by the command's words."""


async def answer(shell: Shell, command: Command) -> str:
    """What a reader types at ``command``'s prompt (nothing when it does not prompt)."""
    for words, prompt in PROMPTS.items():
        if command.is_(*words):
            return await prompt(shell)
    return ""


def check(command: Command, code: int, output: str) -> str | None:
    """Why ``command``'s outcome breaks the README's conventions, or ``None``."""
    if "Traceback" in output:
        return "printed a traceback"
    if command.refused:
        if code != 1 or not any(word in output for word in REFUSALS):
            return f"should be refused (exit 1 and one of {REFUSALS}), exit {code}"
        return None
    return None if code == 0 else f"exit {code}"


def environment(**extra: str) -> dict[str, str]:
    """The environment of the README's commands: this venv's ``python`` first on the path (its ``starter.py`` and
    ``audit`` forked from the tests' pre-imported process, ``tests/forkserver.py``), wide output."""
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}", "COLUMNS": "300", "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    if enabled():
        env.update(forkserver().shell_env(), PATH=f"{SHIM}:{env['PATH']}")
    return {**env, **extra}


# --- running them in order --------------------------------------------------------------------------------

VISIBILITY = (
    "lists cases through Temporal visibility, which the time-skipping test server does not implement; "
    "tests/e2e/test_readme_on_dev_server.py runs it against the dev server"
)


EXCLUDED: dict[tuple[str, ...], str] = {
    ("cases", "list"): VISIBILITY,
    ("permit", "list"): VISIBILITY,
    ("cases", "calendar-correction"): VISIBILITY,
    ("law", "migrate"): VISIBILITY,
}
"""Starter commands of the README that do not run on the time-skipping server, by their first words, with the
reason."""


def excluded(command: Command) -> str | None:
    return next((why for words, why in EXCLUDED.items() if command.is_(*words)), None)


NOT_RUN: dict[str, str] = {
    "python3 scripts/test.py": "the test command itself: it runs these tests (CI runs exactly it)",
    "python3 scripts/benchmark.py": "the benchmarks: many minutes of load on two cores, run on purpose",
    "python worker.py --check": "the worker's health check against a worker process of its own: "
    "tests/e2e/test_operations.py (idle queue, running worker, unreachable server)",
    "curl -s http://127.0.0.1:9464/metrics": "the worker's metrics endpoint, scraped from a worker process with "
    "metrics switched on by tests/e2e/test_operations.py (the test stacks run with metrics off)",
    "KZ_UI_CODEC_ENDPOINT=": "the stack of the first command with the Temporal UI's codec setting "
    "(`temporal server start-dev --ui-codec-endpoint`); the dev-server test runs that stack and the codec endpoint "
    "through the `temporal workflow show --codec-endpoint` line below it",
}
"""README commands no test runs, by how they start, with the reason."""


def api_blocks(todo: list[Command]) -> set[int]:
    """The ```bash blocks that call the API (``localhost:8000``)."""
    return {c.block for c in todo if "localhost:8000" in c.text and not c.text.startswith("KZ_UI_CODEC_ENDPOINT=")}


def runs_where(command: Command, todo: list[Command]) -> str:
    """Which test runs ``command``: ``time-skipping`` (``tests/test_readme.py``), ``dev-server``
    (``tests/e2e/test_readme_on_dev_server.py``), ``stack`` (the dev-server test's fixture: ``scripts/up.py``), or
    ``not run: <reason>``."""
    for start, why in NOT_RUN.items():
        if command.text.startswith(start):
            return f"not run: {why}"
    if command.text.startswith("python3 scripts/up.py"):
        return "stack"
    if command.block in api_blocks(todo) or command.program == "audit" or excluded(command):
        return "dev-server"
    return "time-skipping"


async def settle(client: Client, case_ids: list[str], seconds: float = 20) -> None:
    """Wait until no case has an activity on its first attempt (retries wait out an outage) or a workflow task."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while loop.time() < give_up:
        busy = False
        for case_id in case_ids:
            with suppress(RPCError):
                desc = await client.get_workflow_handle(case_id).describe()
                raw = desc.raw_description
                if desc.status is WorkflowExecutionStatus.RUNNING and (
                    any(p.attempt < 2 for p in raw.pending_activities) or raw.HasField("pending_workflow_task")
                ):
                    busy = True
                    break
        if not busy:
            return
        await asyncio.sleep(0.1)


def workdir(tmp_path: Path) -> Path:
    """A reader's working directory: ``starter.py`` and ``demo/`` as in the repository, the rest their own."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "starter.py").symlink_to(ROOT / "starter.py")
    (work / "demo").symlink_to(ROOT / "demo")
    return work


async def run_readme(shell: Shell, client: Client, todo: list[Command]) -> None:
    """Run ``todo`` in order; fail with the transcript at the first command that breaks the conventions.

    ``KZ_README_TRANSCRIPT=FILE`` keeps the whole transcript (every command with its output) in FILE.
    """
    try:
        for command in todo:
            await settle(client, shell.case_ids)
            code, output = await shell.run(command, await answer(shell, command))
            problem = check(command, code, output)
            if problem:
                transcript = "\n".join(shell.transcript[-8:])
                pytest.fail(f"README.md line {command.line}: {problem}\n\n{transcript}", pytrace=False)
    finally:
        if keep := os.environ.get("KZ_README_TRANSCRIPT"):
            Path(keep).write_text("\n".join(shell.transcript), encoding="utf-8")
