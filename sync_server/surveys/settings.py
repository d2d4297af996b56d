"""The shop's survey settings: when the survey goes out after the hand-back, what makes an
answer a hot alert, how soon its call-back is due, where the alert is e-mailed, and what the
service star asks for. Checked field by field; a refused form keeps what was typed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.surveys.tables import SurveySettings

# No survey goes out between these shop-local hours (across midnight).
QUIET_FROM, QUIET_UNTIL = time(21), time(9)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELDS = (
    "send_after_days",
    "send_at",
    "hot_score_max",
    "hot_recommend_max",
    "callback_business_hours",
    "manager_email",
    "star_min_surveys",
    "comeback_days",
)


class SurveySettingsRefused(ValueError):
    """The settings form refused, with a message per field."""

    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(", ".join(text.render("en") for text in errors.values()))
        self.errors = errors


DEFAULTS = {
    "send_after_days": 1,
    "send_at_minute": 19 * 60,
    "hot_score_max": 2,
    "hot_recommend_max": 6,
    "callback_business_hours": 24,
    "manager_email": "",
    "star_min_surveys": 5,
    "comeback_days": 30,
}


def survey_settings(session: Session) -> SurveySettings:
    """The one settings row (the migration makes it), made with the defaults if it is
    missing — the next evening at 19:00, scores of 2 or less and would-recommend of 6 or
    less are hot, 24 business hours to call back, 5 surveys for the star, comebacks within
    30 days. Two processes making it at once make one."""
    row = session.get(SurveySettings, 1)
    if row is None:
        dialect = session.get_bind().dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        session.execute(
            module.insert(SurveySettings)
            .values(id=1, **DEFAULTS)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        row = session.get(SurveySettings, 1)
        assert row is not None
    return row


def is_quiet_time(moment: time) -> bool:
    return moment >= QUIET_FROM or moment < QUIET_UNTIL


def send_at_text(row: SurveySettings) -> str:
    return f"{row.send_at_minute // 60:02d}:{row.send_at_minute % 60:02d}"


def form_values(row: SurveySettings) -> dict[str, str]:
    """The settings as the form shows them."""
    return {
        "send_after_days": str(row.send_after_days),
        "send_at": send_at_text(row),
        "hot_score_max": str(row.hot_score_max),
        "hot_recommend_max": str(row.hot_recommend_max),
        "callback_business_hours": str(row.callback_business_hours),
        "manager_email": row.manager_email,
        "star_min_surveys": str(row.star_min_surveys),
        "comeback_days": str(row.comeback_days),
    }


def _whole(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.isdigit() or not low <= int(text) <= high:
        return None
    return int(text)


def _send_time(text: str) -> time | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def save_settings(session: Session, typed: Mapping[str, str]) -> SurveySettings:
    """Save the settings form; refused with a message per field, nothing saved."""
    errors: dict[str, Text] = {}
    ranges = {
        "send_after_days": (0, 14, Text("Write the days after the hand-back, 0 to 14.", "server")),
        "hot_score_max": (1, 4, Text("Write a score from 1 to 4.", "server")),
        "hot_recommend_max": (0, 9, Text("Write a number from 0 to 9.", "server")),
        "callback_business_hours": (
            1,
            200,
            Text("Write whole business hours, 1 to 200.", "server"),
        ),
        "star_min_surveys": (1, 100, Text("Write a number of surveys, 1 to 100.", "server")),
        "comeback_days": (1, 180, Text("Write a number of days, 1 to 180.", "server")),
    }
    numbers: dict[str, int] = {}
    for field, (low, high, message) in ranges.items():
        value = _whole(typed.get(field, ""), low, high)
        if value is None:
            errors[field] = message
        else:
            numbers[field] = value
    send_at = _send_time(typed.get("send_at", ""))
    if send_at is None:
        errors["send_at"] = Text("Write the time as hours and minutes, e.g. 19:00.", "server")
    elif is_quiet_time(send_at):
        errors["send_at"] = Text(
            "Choose a time outside the quiet hours (21:00 to 09:00).", "server"
        )
    email = typed.get("manager_email", "").strip()
    if email and (len(email) > 254 or not EMAIL_PATTERN.match(email)):
        errors["manager_email"] = Text("Write an e-mail address like name@example.com.", "server")
    if errors:
        raise SurveySettingsRefused(errors)
    assert send_at is not None
    row = survey_settings(session)
    row.send_after_days = numbers["send_after_days"]
    row.send_at_minute = send_at.hour * 60 + send_at.minute
    row.hot_score_max = numbers["hot_score_max"]
    row.hot_recommend_max = numbers["hot_recommend_max"]
    row.callback_business_hours = numbers["callback_business_hours"]
    row.manager_email = email
    row.star_min_surveys = numbers["star_min_surveys"]
    row.comeback_days = numbers["comeback_days"]
    return row
