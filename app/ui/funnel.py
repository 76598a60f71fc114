"""Names of the sales funnel's stages and of history events, as people read them."""

from __future__ import annotations

from app.ui.i18n import N_

# The `funnel_stage` property values of the shipped models (docs/sales-process.md), in funnel order.
STAGES: dict[str, str] = {
    "lead": N_("Lead"),
    "qualified": N_("Qualified"),
    "proposal": N_("Proposal"),
    "negotiation": N_("Negotiation"),
    "contract": N_("Contract"),
    "invoiced": N_("Invoiced"),
    "paid": N_("Paid"),
    "fulfilled": N_("Fulfilled"),
    "retained": N_("Retained"),
}

STATUSES: dict[str, str] = {
    "running": N_("In progress"),
    "completed": N_("Completed"),
    "terminated": N_("Terminated"),
    "failed": N_("Incident"),
}

EVENTS: dict[str, str] = {
    "instance_started": N_("Deal started"),
    "instance_completed": N_("Deal finished"),
    "instance_terminated": N_("Deal terminated"),
    "instance_failed": N_("Deal failed"),
    "instance_migrated": N_("Moved to a new regulation version"),
    "task_created": N_("Task opened"),
    "task_claimed": N_("Task claimed"),
    "task_unclaimed": N_("Task released"),
    "task_assigned": N_("Task reassigned"),
    "task_completed": N_("Task completed"),
    "task_cancelled": N_("Task cancelled"),
    "element_completed": N_("Step passed"),
    "gateway_taken": N_("Decision taken"),
    "timer_fired": N_("Timer fired"),
    "message_correlated": N_("Message received"),
    "message_thrown": N_("Message sent"),
    "external_task_completed": N_("External task done"),
    "external_task_failed": N_("External task failed"),
    "incident_created": N_("Incident"),
    "incident_resolved": N_("Incident resolved"),
    "variables_changed": N_("Data changed"),
    "document_added": N_("Document attached"),
    "document_deleted": N_("Document deleted"),
    "note_added": N_("Note added"),
}

# History events whose element has been passed (drawn as completed on the diagram).
COMPLETED_KINDS = frozenset({"element_completed", "gateway_taken", "task_completed", "timer_fired",
                             "message_correlated", "message_thrown", "external_task_completed"})
