"""``starter.py complaint``: file a complaint, the provider's satisfaction or forwarding, the considering
body's decision, withdrawal, and showing a complaint (58 p.10; 665/NK p.10; Law on public services art. 25)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import console, load_json_model, run_async, show_case, with_client
from infra.cases import start_case
from models.complaint import ComplaintInput, ForwardRequest, ReviewDecision, ReviewOutcome, Satisfaction, Withdrawal
from workflows.complaint import SPEC

app = typer.Typer(no_args_is_help=True)


@app.command("file")
@run_async
async def file_complaint(path: Path = typer.Argument(..., help="the complaint as JSON (see demo/complaint/)")) -> None:
    """Register a complaint; the same complaint filed twice gives the same case."""
    inp = load_json_model(path, ComplaintInput)
    started = await start_case(await with_client(), SPEC, inp)
    console.print(f"{'filed' if started.created else 'already filed'}: [bold]{started.case_id}[/bold]")


@app.command("satisfy")
@run_async
async def satisfy(
    case_id: str,
    action: str = typer.Option(..., help="the decision or action taken"),
    by: str = typer.Option(..., help="who decided"),
) -> None:
    """The provider fully satisfies the complaint within its 3 working days; it is not forwarded."""
    client = await with_client()
    answer = await client.get_workflow_handle(case_id).execute_update(
        "satisfy", Satisfaction(decided_by=by, action_taken=action), result_type=str
    )
    console.print(answer)


@app.command("forward")
@run_async
async def forward(
    case_id: str,
    by: str = typer.Option(...),
    body: str = typer.Option("higher administrative body", help="the body considering it"),
) -> None:
    """Forward the complaint and the administrative case now (otherwise it happens by itself)."""
    client = await with_client()
    answer = await client.get_workflow_handle(case_id).execute_update(
        "forward", ForwardRequest(forwarded_by=by, body=body), result_type=str
    )
    console.print(answer)


@app.command("decide")
@run_async
async def decide(
    case_id: str,
    outcome: ReviewOutcome = typer.Option(...),
    reasons: str = typer.Option(...),
    by: str = typer.Option(...),
    instruction: str | None = typer.Option(None, help="reopen | lift_suspension | reconsider"),
) -> None:
    """The considering body's decision; an upheld one instructs the appealed case."""
    client = await with_client()
    answer = await client.get_workflow_handle(case_id).execute_update(
        "review_decision",
        ReviewDecision(outcome=outcome, reasons=reasons, decided_by=by, instruction=instruction),
        result_type=str,
    )
    console.print(answer)


@app.command("withdraw")
@run_async
async def withdraw(case_id: str, reason: str = typer.Option(...)) -> None:
    """The complainant withdraws the complaint."""
    client = await with_client()
    answer = await client.get_workflow_handle(case_id).execute_update(
        "withdraw", Withdrawal(reason=reason), result_type=str
    )
    console.print(answer)


@app.command("show")
@run_async
async def show(case_id: str) -> None:
    """Status, terms with their explanation, documents, outside calls waiting, and what can be done now."""
    await show_case(await with_client(), case_id, "Complaint")
