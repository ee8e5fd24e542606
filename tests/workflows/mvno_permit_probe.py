"""A stand-in for main's ``complaint_instruction`` Update (kept out of the test module: the workflow
sandbox re-imports the module of a workflow class)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.mvno_permit import PermitApplication, PermitLife, PermitOutcome
    from workflows.mvno_permit import MvnoPermit


class ComplaintInstructionStandIn(BaseModel):
    """The fields of main's ``ComplaintInstruction`` that the hook reads."""

    complaint_id: str
    action: str
    reasons: str


@workflow.defn(name="MvnoPermitWithComplaintProbe")
class PermitWithComplaintProbe(MvnoPermit):
    """Delivers an instruction to ``on_complaint_instruction`` the way main's foundation Update does."""

    @workflow.run
    async def run(self, app: PermitApplication, life: PermitLife | None = None) -> PermitOutcome:
        return await super().run(app, life)

    @workflow.update
    async def probe_instruction(self, instruction: ComplaintInstructionStandIn) -> str:
        return await self.on_complaint_instruction(instruction)
