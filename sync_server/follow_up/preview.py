"""A preview of the daily run as lines of text (the CLI's ``--preview``), in English."""

from __future__ import annotations

from collections.abc import Iterator

from shared.masking import mask_name
from sync_server.follow_up.run import Plan
from sync_server.follow_up.texts import HELD_NAMES, KIND_NAMES


def preview_lines(plan: Plan, language: str = "en") -> Iterator[str]:
    yield (
        f"Reminders for {plan.today.isoformat()}: {len(plan.to_send)} to send, "
        f"{len(plan.held)} held back."
    )
    for item in plan.to_send:
        candidate = item.candidate
        yield (
            f"SEND  {mask_name(item.customer.name)} ({item.channel}): "
            f"{KIND_NAMES[candidate.kind].render(language)} — {candidate.work or '-'}, "
            f"due {candidate.due_on.isoformat()}: {candidate.reason.render(language)}"
        )
    for held in plan.held:
        candidate = held.candidate
        yield (
            f"HELD  {mask_name(held.customer.name)}: {KIND_NAMES[candidate.kind].render(language)} "
            f"— {candidate.work or '-'}, due {candidate.due_on.isoformat()}: "
            f"{HELD_NAMES[held.why].render(language)}"
        )
