"""The visit's status machine: where a car is in the service cycle, and what may happen next.

A visit moves through the shop's service cycle (check-in → walk-around → diagnosis →
quote → customer approval → work → quality check → ready → delivered) by *named
events*, never by writing a status directly, so that the rules the sources insist on
hold everywhere: work starts only after the customer's explicit approval, a problem
found during the repair goes back for a new quote and a new approval, and nothing is
handed back before the quality check. The rules are one table, ``TRANSITIONS``; the
kiosk, the tablet and the sync server all ask it.
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from shared.i18n import Text


class VisitStatus(StrEnum):
    """Where a visit stands. The values travel on the wire and are stored as text."""

    checked_in = "checked_in"
    walkaround_done = "walkaround_done"
    diagnosed = "diagnosed"
    quote_sent = "quote_sent"
    approved = "approved"
    in_progress = "in_progress"
    quality_check = "quality_check"
    ready = "ready"
    delivered = "delivered"
    cancelled = "cancelled"


class VisitEvent(StrEnum):
    """Something that happens to a visit and may move it on."""

    complete_walkaround = "complete_walkaround"
    diagnose = "diagnose"
    send_quote = "send_quote"
    approve = "approve"
    revise_quote = "revise_quote"
    start_work = "start_work"
    problem_found = "problem_found"
    finish_work = "finish_work"
    pass_check = "pass_check"
    fail_check = "fail_check"
    deliver = "deliver"
    cancel = "cancel"


_S = VisitStatus
_E = VisitEvent

TERMINAL: frozenset[VisitStatus] = frozenset({_S.delivered, _S.cancelled})

# The board shows one column per status, in the order a car moves through the shop.
ORDER: tuple[VisitStatus, ...] = (
    _S.checked_in,
    _S.walkaround_done,
    _S.diagnosed,
    _S.quote_sent,
    _S.approved,
    _S.in_progress,
    _S.quality_check,
    _S.ready,
    _S.delivered,
    _S.cancelled,
)

_FORWARD: dict[tuple[VisitStatus, VisitEvent], VisitStatus] = {
    (_S.checked_in, _E.complete_walkaround): _S.walkaround_done,
    (_S.walkaround_done, _E.diagnose): _S.diagnosed,
    (_S.diagnosed, _E.send_quote): _S.quote_sent,
    (_S.quote_sent, _E.approve): _S.approved,
    (_S.quote_sent, _E.revise_quote): _S.diagnosed,
    (_S.approved, _E.start_work): _S.in_progress,
    # A problem found during the repair changes the work or the cost, and the customer
    # must agree to that before it is done: back to a new quote and a new approval.
    (_S.in_progress, _E.problem_found): _S.diagnosed,
    (_S.in_progress, _E.finish_work): _S.quality_check,
    (_S.quality_check, _E.pass_check): _S.ready,
    (_S.quality_check, _E.fail_check): _S.in_progress,
    (_S.ready, _E.deliver): _S.delivered,
}

TRANSITIONS: Mapping[tuple[VisitStatus, VisitEvent], VisitStatus] = MappingProxyType(
    _FORWARD | {(status, _E.cancel): _S.cancelled for status in _S if status not in TERMINAL}
)

_STATUS_LABELS: dict[VisitStatus, Text] = {
    _S.checked_in: Text("Checked in"),
    _S.walkaround_done: Text("Walk-around done"),
    _S.diagnosed: Text("Diagnosed"),
    _S.quote_sent: Text("Quote sent"),
    _S.approved: Text("Approved by customer"),
    _S.in_progress: Text("Work in progress"),
    _S.quality_check: Text("Quality check"),
    _S.ready: Text("Ready for pick-up"),
    _S.delivered: Text("Handed back"),
    _S.cancelled: Text("Cancelled"),
}

# Why an event was refused, in words an advisor can repeat to a customer.
_REFUSAL_REASONS: dict[VisitEvent, Text] = {
    _E.complete_walkaround: Text("The walk-around can only be completed right after check-in."),
    _E.diagnose: Text("The car can only be diagnosed once the walk-around is done."),
    _E.send_quote: Text("A quote can only be sent once the car has been diagnosed."),
    _E.approve: Text("The customer can only approve a quote that has been sent to them."),
    _E.revise_quote: Text("Only a quote that has been sent can be revised."),
    _E.start_work: Text("Work cannot start before the customer has approved the quote."),
    _E.problem_found: Text("A problem can only be reported while work is in progress."),
    _E.finish_work: Text("Work can only be finished while it is in progress."),
    _E.pass_check: Text("The quality check can only be passed once the work is finished."),
    _E.fail_check: Text("The quality check can only be failed once the work is finished."),
    _E.deliver: Text("The car can only be handed back after it has passed the quality check."),
    _E.cancel: Text("This visit can no longer be cancelled."),
}

_TERMINAL_REASONS: dict[VisitStatus, Text] = {
    _S.delivered: Text("The car has already been handed back; this visit cannot change any more."),
    _S.cancelled: Text("This visit was cancelled; it cannot change any more."),
}


class TransitionRefused(Exception):
    """An event that the visit's current status does not allow.

    ``message`` explains in plain words why, in either language; ``str()`` gives English
    for logs.
    """

    def __init__(self, status: VisitStatus, event: VisitEvent) -> None:
        self.status = VisitStatus(status)
        self.event = VisitEvent(event)
        self.message: Text = _TERMINAL_REASONS.get(self.status) or _REFUSAL_REASONS[self.event]
        super().__init__(self.message.render("en"))


def status_label(status: VisitStatus) -> Text:
    """The status as the board and the customer see it."""
    return _STATUS_LABELS[VisitStatus(status)]


def is_terminal(status: VisitStatus) -> bool:
    """True when nothing more can happen to the visit (delivered or cancelled)."""
    return VisitStatus(status) in TERMINAL


def can(status: VisitStatus, event: VisitEvent) -> bool:
    """True when ``event`` is allowed for a visit in ``status``."""
    return (VisitStatus(status), VisitEvent(event)) in TRANSITIONS


def allowed_events(status: VisitStatus) -> list[VisitEvent]:
    """The events a visit in ``status`` accepts, in the order of the service cycle."""
    status = VisitStatus(status)
    return [event for event in VisitEvent if (status, event) in TRANSITIONS]


def next_status(status: VisitStatus, event: VisitEvent) -> VisitStatus:
    """The status after ``event``; raises ``TransitionRefused`` when it is not allowed."""
    try:
        return TRANSITIONS[(VisitStatus(status), VisitEvent(event))]
    except KeyError:
        raise TransitionRefused(status, event) from None
