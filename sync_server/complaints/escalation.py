"""Overdue cases escalated to the manager: an e-mail through the outbox, once per missed
deadline (first response, resolution), by a job run before each pass of the message
sender (``messaging.send_due``), like the appointment reminders.

Safe to run twice, or in two processes at once: each escalation is claimed with an
``UPDATE … WHERE *_escalated_at IS NULL`` in the same transaction as its message, so a
second run finds nothing to claim. With no address in the complaints settings nothing is
claimed, and the cases already missed are escalated once one is set. The e-mail is in
both languages (the manager's inbox may be read by either desk), and carries an absolute
link to the case page (``PUBLIC_URL``, else the address ``serve`` listens on); without
either, it names the way there in words.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.i18n import Text
from shared.shop_time import shop_time_text, shop_zone
from sync_server.back_office_tables import OutboundMessage
from sync_server.complaints.cases import record_all_missed
from sync_server.complaints.tables import ComplaintCase, ComplaintSettings
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Customer

ESCALATION_EVENT = "complaint_overdue"
KINDS = {
    "first_response": (
        ComplaintCase.first_response_missed_at,
        ComplaintCase.first_response_escalated_at,
        Text("first response", "server"),
    ),
    "resolution": (
        ComplaintCase.resolution_missed_at,
        ComplaintCase.resolution_escalated_at,
        Text("resolution", "server"),
    ),
}
SUBJECT = Text("Complaint #{case} missed its {deadline} deadline", "server")
BODY = Text(
    "Complaint #{case} from {customer}, received {received}, missed its {deadline} "
    "deadline ({due}). What the customer said: {summary} Open the case: "
    "Complaints → #{case}.",
    "server",
)
BODY_LINKED = Text(
    "Complaint #{case} from {customer}, received {received}, missed its {deadline} "
    "deadline ({due}). What the customer said: {summary} Open the case: {link}",
    "server",
)


def case_path(case_id: int) -> str:
    """The case page in the back office (``sync_server.web.complaints``)."""
    return f"/complaints/{case_id}"


def _both(text: Text, params: dict[str, object], lang_params: dict[str, dict[str, str]]) -> str:
    return "\n\n".join(
        Text(text.message, "server", {**params, **lang_params[lang]}).render(lang)
        for lang in ("en", "zh_CN")
    )


def escalate_overdue(session: Session, now: datetime, base_url: str = "") -> int:
    """Queue one e-mail to the manager for each missed deadline not yet escalated, with a
    link to the case under ``base_url`` when it is known; returns how many; commits."""
    rules = session.get(ComplaintSettings, 1)  # read only: a sender pass makes no row
    address = rules.escalation_email.strip() if rules is not None else ""
    if not address:
        return 0
    record_all_missed(session, now)
    session.flush()
    shop = session.get(Shop, 1)
    zone = shop_zone(shop.timezone if shop else None)
    queued = 0
    for missed, escalated, name in KINDS.values():
        due = session.scalars(
            select(ComplaintCase)
            .where(missed.isnot(None), escalated.is_(None))
            .order_by(ComplaintCase.id)
        ).all()
        for case in due:
            claimed = session.execute(
                update(ComplaintCase)
                .where(ComplaintCase.id == case.id, escalated.is_(None))
                .values({escalated.key: now})
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if not claimed:
                continue
            customer = session.get(Customer, case.customer_id)
            params: dict[str, object] = {
                "case": case.id,
                "customer": customer.name if customer else "",
                "received": shop_time_text(case.received_at, zone, "%Y-%m-%d %H:%M"),
                "due": shop_time_text(getattr(case, missed.key), zone, "%Y-%m-%d %H:%M"),
                "summary": case.summary[:500],
                "link": base_url.rstrip("/") + case_path(case.id),
            }
            names = {lang: {"deadline": name.render(lang)} for lang in ("en", "zh_CN")}
            session.add(
                OutboundMessage(
                    visit_id=case.visit_id,
                    event=ESCALATION_EVENT,
                    channel="email",
                    recipient=address,
                    language="en",
                    subject=" / ".join(
                        Text(SUBJECT.message, "server", {**params, **names[lang]}).render(lang)
                        for lang in ("en", "zh_CN")
                    )[:200],
                    body=_both(BODY_LINKED if base_url else BODY, params, names),
                    state="pending",
                    next_attempt_at=now,
                )
            )
            queued += 1
    session.commit()
    return queued
