"""The visit status machine: the service cycle's allowed steps and the refused ones."""

import pytest

from shared.visit_status import (
    ORDER,
    TERMINAL,
    TransitionRefused,
    VisitEvent,
    VisitStatus,
    allowed_events,
    can,
    is_terminal,
    next_status,
    status_label,
)

S = VisitStatus
E = VisitEvent

# The service cycle as the requirements describe it, written out independently of the
# module's table so that a slip in either shows up.
SERVICE_CYCLE = {
    (S.checked_in, E.complete_walkaround): S.walkaround_done,
    (S.walkaround_done, E.diagnose): S.diagnosed,
    (S.diagnosed, E.send_quote): S.quote_sent,
    (S.quote_sent, E.approve): S.approved,
    (S.quote_sent, E.revise_quote): S.diagnosed,
    (S.approved, E.start_work): S.in_progress,
    (S.in_progress, E.problem_found): S.diagnosed,
    (S.in_progress, E.finish_work): S.quality_check,
    (S.quality_check, E.pass_check): S.ready,
    (S.quality_check, E.fail_check): S.in_progress,
    (S.ready, E.deliver): S.delivered,
} | {(status, E.cancel): S.cancelled for status in S if status not in (S.delivered, S.cancelled)}

REFUSED = [(status, event) for status in S for event in E if (status, event) not in SERVICE_CYCLE]


@pytest.mark.parametrize(("status", "event"), list(SERVICE_CYCLE))
def test_every_step_of_the_service_cycle_is_allowed(status: S, event: E) -> None:
    assert can(status, event)
    assert next_status(status, event) is SERVICE_CYCLE[(status, event)]
    assert event in allowed_events(status)


@pytest.mark.parametrize(("status", "event"), REFUSED)
def test_every_other_step_is_refused(status: S, event: E) -> None:
    assert not can(status, event)
    assert event not in allowed_events(status)
    with pytest.raises(TransitionRefused) as refused:
        next_status(status, event)
    assert (refused.value.status, refused.value.event) == (status, event)


def test_work_cannot_start_on_a_quote_the_customer_has_not_approved() -> None:
    with pytest.raises(TransitionRefused) as refused:
        next_status(S.quote_sent, E.start_work)
    message = refused.value.message
    assert message.render("en") == "Work cannot start before the customer has approved the quote."
    assert str(refused.value) == message.render("en")
    assert message.render("zh_CN") == "客户确认报价之前不能开始维修。"


def test_a_car_still_being_repaired_cannot_be_handed_back() -> None:
    with pytest.raises(TransitionRefused) as refused:
        next_status(S.in_progress, E.deliver)
    assert "quality check" in refused.value.message.render("en")


@pytest.mark.parametrize("event", list(E))
def test_nothing_happens_to_a_delivered_visit(event: E) -> None:
    assert allowed_events(S.delivered) == []
    with pytest.raises(TransitionRefused) as refused:
        next_status(S.delivered, event)
    assert "already been handed back" in refused.value.message.render("en")


def test_a_cancelled_visit_explains_why_it_cannot_move() -> None:
    with pytest.raises(TransitionRefused) as refused:
        next_status(S.cancelled, E.start_work)
    assert refused.value.message.render("en") == (
        "This visit was cancelled; it cannot change any more."
    )


def test_a_problem_found_during_work_needs_a_new_quote_and_a_new_approval() -> None:
    status = S.checked_in
    for event in (E.complete_walkaround, E.diagnose, E.send_quote, E.approve, E.start_work):
        status = next_status(status, event)
    status = next_status(status, E.problem_found)
    assert status is S.diagnosed
    # The earlier approval does not cover the new work.
    assert not can(status, E.start_work)
    assert not can(status, E.approve)
    status = next_status(status, E.send_quote)
    assert not can(status, E.start_work)
    status = next_status(next_status(status, E.approve), E.start_work)
    assert status is S.in_progress


def test_a_failed_quality_check_goes_back_to_the_workshop() -> None:
    assert next_status(S.quality_check, E.fail_check) is S.in_progress
    assert not can(S.in_progress, E.deliver)


def test_events_are_listed_in_the_order_of_the_cycle() -> None:
    assert allowed_events(S.quote_sent) == [E.approve, E.revise_quote, E.cancel]
    assert allowed_events(S.in_progress) == [E.problem_found, E.finish_work, E.cancel]


def test_plain_strings_from_storage_are_accepted() -> None:
    assert next_status("approved", "start_work") is S.in_progress  # type: ignore[arg-type]
    assert can("ready", "deliver")  # type: ignore[arg-type]


def test_only_delivered_and_cancelled_are_terminal() -> None:
    assert {status for status in S if is_terminal(status)} == {S.delivered, S.cancelled}
    assert frozenset({S.delivered, S.cancelled}) == TERMINAL


def test_board_order_has_every_status_once_in_cycle_order() -> None:
    assert sorted(ORDER) == sorted(S)
    assert len(ORDER) == len(set(ORDER))
    assert ORDER.index(S.checked_in) < ORDER.index(S.approved) < ORDER.index(S.delivered)


@pytest.mark.parametrize("status", list(S))
def test_every_status_has_a_chinese_label(status: S) -> None:
    label = status_label(status)
    assert label.render("en")
    assert label.render("zh_CN") != label.render("en")


@pytest.mark.parametrize(("status", "event"), REFUSED)
def test_every_refusal_is_explained_in_chinese_too(status: S, event: E) -> None:
    message = TransitionRefused(status, event).message
    assert message.render("zh_CN") != message.render("en")
