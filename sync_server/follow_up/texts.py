"""What reminders and greetings say, in the customer's language: one subject and body per
kind, the booking link where there is work to book, and how to stop — an e-mail's
footer link, and a text's "reply TD" (the usual words for it in China) with a link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.i18n import Text

TEMPLATES: Mapping[str, tuple[Text, Text]] = {
    "maintenance": (
        Text("{shop}: {work} for {plate} is coming due", "server"),
        Text(
            "Hello {name}, by our records {work} for your car {plate} falls due around "
            "{due}. Ask for an appointment with one tap: {book_link}",
            "server",
        ),
    ),
    "deferred": (
        Text("{shop}: the work we suggested for {plate}", "server"),
        Text(
            "Hello {name}, at your last visit we suggested this work on {plate}: {work}. "
            "It is due around {due}. Ask for an appointment with one tap: {book_link}",
            "server",
        ),
    ),
    "birthday": (
        Text("{shop}: happy birthday", "server"),
        Text("Happy birthday, {name}! All of us at {shop} wish you a wonderful year.", "server"),
    ),
    "holiday": (
        Text("{shop}: season's greetings", "server"),
        Text("Hello {name}, all of us at {shop} wish you a happy {work}.", "server"),
    ),
}
EMAIL_STOP = Text(
    "You get these messages because you said yes to reminders. To stop them: {stop_link}",
    "server",
)
SMS_STOP = Text("Reply TD to stop, or open {stop_link}", "server")

KIND_NAMES: Mapping[str, Text] = {
    "maintenance": Text("Maintenance due", "server"),
    "deferred": Text("Declined work coming due", "server"),
    "birthday": Text("Birthday greeting", "server"),
    "holiday": Text("Holiday greeting", "server"),
}
CHANNEL_NAMES: Mapping[str, Text] = {
    "sms": Text("Text message", "server"),
    "email": Text("Email", "server"),
}
SOURCE_NAMES: Mapping[str, Text] = {
    "email_one_click": Text("one click in the e-mail program", "server"),
    "email_link": Text("the link in an e-mail", "server"),
    "sms_reply": Text("replied TD to a text", "server"),
    "sms_link": Text("the link in a text", "server"),
    "desk": Text("asked the shop", "server"),
}
HELD_NAMES: Mapping[str, Text] = {
    "budget": Text("contact budget: another message goes first or went recently", "server"),
    "quiet_hours": Text("quiet hours: waits for the morning", "server"),
    "appointment": Text("an appointment is already booked", "server"),
    "opt_out": Text("opted out of reminders", "server"),
    "no_contact": Text("no phone number or e-mail address", "server"),
}


def message_text(
    kind: str, channel: str, language: str, params: Mapping[str, Any]
) -> tuple[str, str]:
    """Subject and body of a reminder in ``language``, with the way to stop at the end."""
    subject, body = TEMPLATES[kind]
    stop = EMAIL_STOP if channel == "email" else SMS_STOP
    text = Text(body.message, "server", params).render(language)
    footer = Text(stop.message, "server", params).render(language)
    separator = "\n\n" if channel == "email" else " "
    return Text(subject.message, "server", params).render(language), text + separator + footer
