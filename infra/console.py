"""Running a typer application as a command: exit codes, and a clean process exit."""

from __future__ import annotations

import os
import sys

import typer

__all__ = ["run_app"]


def run_app(app: typer.Typer) -> None:
    """Run ``app`` and leave the process with its exit code without interpreter finalisation.

    The Temporal SDK's native runtime has been seen to abort the interpreter at exit (SIGABRT in
    ``PyGILState_Release``) after a client was used; the command's work is complete by then, so the
    process flushes its output and exits directly (DESIGN "Known pitfalls").
    """
    code = 0
    try:
        result = app(standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        code = 130
    except typer.TyperException as exc:  # usage errors and bad parameters (exit code 2)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(exc, file=sys.stderr)
        code = int(getattr(exc, "exit_code", 1))
    except Exception as exc:
        if not _settings_invalid(exc):
            raise
        print(exc, file=sys.stderr)  # a KZ_* variable of the environment or .env, not the command's arguments
        code = 2
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _settings_invalid(exc: Exception) -> bool:
    """Whether ``exc`` is ``infra.settings.SettingsInvalid``: looked up where it was raised from, so that a command
    that reads no setting (``--help``) does not load the settings' stack (issue 18: ≈90 ms of every call)."""
    settings = sys.modules.get("infra.settings")
    return settings is not None and isinstance(exc, settings.SettingsInvalid)
