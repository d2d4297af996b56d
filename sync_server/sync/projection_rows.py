"""The columns of each kind's typed row, from the merged record: plain values, no
session. ``projections`` writes them; migration 0006 filled the tables with them.

Each builder names its columns itself: a record's field that is not written here is not
a column, on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from shared import domain
from shared.wire import to_wire
from sync_server.record_tables import (
    ApprovalDecisionRow,
    ApprovalSafetyAcknowledgementRow,
    QuoteLineRow,
    QuoteOptionRow,
)
from sync_server.table_base import Base


def _plain(value: Any) -> Any:
    """A column value: enums by their value (the typed columns take either)."""
    return value.value if isinstance(value, Enum) else value


def _image_columns(image: domain.PhotoRef | None) -> dict[str, Any]:
    return {
        "image_sha256": image.sha256 if image else None,
        "image_size_bytes": image.size_bytes if image else None,
        "image_content_type": _plain(image.content_type) if image else None,
        "image_width": image.width if image else None,
        "image_height": image.height if image else None,
    }


def _customer(record: domain.Customer) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "phone": record.phone,
        "email": record.email,
        "preferred_channel": _plain(record.preferred_channel),
        "reminders_opt_in": record.reminders_opt_in,
        "tier": _plain(record.tier),
        "birthday": record.birthday,
        "notes": record.notes,
    }


def _vehicle(record: domain.Vehicle) -> dict[str, Any]:
    return {
        "id": record.id,
        "customer_id": record.customer_id,
        "plate": record.plate,
        "plate_region": _plain(record.plate_region),
        "vin": record.vin,
        "make": record.make,
        "model": record.model,
        "year": record.year,
        "purchase_date": record.purchase_date,
        "last_mileage_km": record.last_mileage_km,
    }


def _appointment(record: domain.Appointment) -> dict[str, Any]:
    return {
        "id": record.id,
        "code": record.code,
        "customer_id": record.customer_id,
        "vehicle_id": record.vehicle_id,
        "expected_arrival": record.expected_arrival,
        "requested_work": record.requested_work,
        "concern_codes": [_plain(code) for code in record.concern_codes],
        "expected_duration_minutes": record.expected_duration_minutes,
        "channel": _plain(record.channel),
    }


def _visit(record: domain.Visit) -> dict[str, Any]:
    return {
        "id": record.id,
        "ticket_number": record.ticket_number,
        "customer_id": record.customer_id,
        "vehicle_id": record.vehicle_id,
        "appointment_id": record.appointment_id,
        "status": _plain(record.status),
        "concern_codes": [_plain(code) for code in record.concern_codes],
        "concern_text": record.concern_text,
        "mileage_in_km": record.mileage_in_km,
        "contact_channel": _plain(record.contact_channel),
        "reminders_opt_in": record.reminders_opt_in,
        "checked_in_at": record.checked_in_at,
        "checked_in_device_id": record.checked_in_device_id,
        "advisor_user_id": record.advisor_user_id,
        "expected_ready_at": record.expected_ready_at,
        "status_token": record.status_token,
    }


def _consent(record: domain.Consent) -> dict[str, Any]:
    return {
        "id": record.id,
        "visit_id": record.visit_id,
        "text_version": record.text_version,
        "text_sha256": record.text_sha256,
        "language": record.language,
        "accepted_at": record.accepted_at,
    }


def _signature(record: domain.Signature) -> dict[str, Any]:
    return {
        "id": record.id,
        "visit_id": record.visit_id,
        "purpose": _plain(record.purpose),
        "strokes": to_wire(record)["strokes"],
        "signed_sha256": record.signed_sha256,
        "signer_name": record.signer_name,
        "signed_at": record.signed_at,
        **_image_columns(record.image),
    }


def _walkaround(record: domain.Walkaround) -> dict[str, Any]:
    belongings = record.belongings
    return {
        "id": record.id,
        "visit_id": record.visit_id,
        "version": record.version,
        "odometer_km": record.odometer_km,
        "fuel_eighths": record.fuel_eighths,
        "warning_lights": list(record.warning_lights),
        "spare_wheel": belongings.spare_wheel,
        "jack": belongings.jack,
        "documents": belongings.documents,
        "valuables": belongings.valuables,
        "child_seat": belongings.child_seat,
        "keys_count": belongings.keys_count,
        "belongings_note": belongings.other_note,
        "exterior_notes": record.exterior_notes,
        "interior_notes": record.interior_notes,
        "tyre_tread_mm": dict(record.tyre_tread_mm),
    }


def _damage_mark(record: domain.DamageMark) -> dict[str, Any]:
    return {
        "id": record.id,
        "walkaround_id": record.walkaround_id,
        "view": _plain(record.view),
        "x": record.x,
        "y": record.y,
        "damage_type": _plain(record.damage_type),
        "severity": record.severity,
        "note": record.note,
        "pins": to_wire(record)["pins"],
        "created_at": record.created_at,
        "deleted": record.deleted,
    }


def _photo(record: domain.VisitPhoto) -> dict[str, Any]:
    return {
        "id": record.id,
        "visit_id": record.visit_id,
        "walkaround_id": record.walkaround_id,
        "caption": record.caption,
        "taken_at": record.taken_at,
        **_image_columns(record.image),
    }


def _note(record: domain.VisitNote) -> dict[str, Any]:
    return {"id": record.id, "visit_id": record.visit_id, "text": record.text}


def _quote(record: domain.Quote) -> dict[str, Any]:
    totals = record.totals()
    return {
        "id": record.id,
        "visit_id": record.visit_id,
        "version": record.version,
        "option_label": record.option_label,
        "currency": record.currency,
        "notes": record.notes,
        "tax_rate": record.tax_rate,
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "tax": totals.tax,
        "total": totals.total,
    }


def _approval(record: domain.Approval) -> dict[str, Any]:
    """Without ``approved_total``, which needs the quote (:func:`approved_total`)."""
    return {
        "id": record.id,
        "quote_id": record.quote_id,
        "quote_version": record.quote_version,
        "option_id": record.option_id,
        "signature_id": record.signature_id,
        "approved_at": record.approved_at,
        "ip_address": record.ip_address,
        "user_agent": record.user_agent,
    }


ROWS: Mapping[str, Callable[[Any], dict[str, Any]]] = {
    "customer": _customer,
    "vehicle": _vehicle,
    "appointment": _appointment,
    "visit": _visit,
    "consent": _consent,
    "signature": _signature,
    "walkaround": _walkaround,
    "damage_mark": _damage_mark,
    "photo": _photo,
    "note": _note,
    "quote": _quote,
    "approval": _approval,
}


def quote_lines(record: domain.Quote) -> list[dict[str, Any]]:
    return [
        {
            "quote_id": record.id,
            "line_id": line.id,
            "position": position,
            "kind": _plain(line.kind),
            "description": line.description,
            "hours": line.hours,
            "labour_rate": line.labour_rate,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "part_number": line.part_number,
            "urgency": _plain(line.urgency),
            "photo_sha256s": list(line.photo_sha256s),
            "option_id": line.option_id,
            "amount": line.amount,
        }
        for position, line in enumerate(record.lines)
    ]


def quote_options(record: domain.Quote) -> list[dict[str, Any]]:
    options = []
    for position, option in enumerate(record.options):
        totals = record.totals(option.id)
        options.append(
            {
                "quote_id": record.id,
                "option_id": option.id,
                "position": position,
                "label": option.label,
                "notes": option.notes,
                "subtotal": totals.subtotal,
                "discount_total": totals.discount_total,
                "tax": totals.tax,
                "total": totals.total,
            }
        )
    return options


def approval_decisions(record: domain.Approval) -> list[dict[str, Any]]:
    return [
        {"approval_id": record.id, "line_id": line_id, "decision": _plain(decision)}
        for line_id, decision in sorted(record.decisions.items())
    ]


def approval_safety_acknowledgements(record: domain.Approval) -> list[dict[str, Any]]:
    return [
        {"approval_id": record.id, "line_id": line_id}
        for line_id in sorted(set(record.safety_acknowledged))
    ]


# A record's rows of its own in other tables: (table, parent column, own id column, rows).
CHILDREN: Mapping[str, tuple[tuple[type[Base], str, str, Callable[[Any], list[dict]]], ...]] = {
    "quote": (
        (QuoteLineRow, "quote_id", "line_id", quote_lines),
        (QuoteOptionRow, "quote_id", "option_id", quote_options),
    ),
    "approval": (
        (ApprovalDecisionRow, "approval_id", "line_id", approval_decisions),
        (
            ApprovalSafetyAcknowledgementRow,
            "approval_id",
            "line_id",
            approval_safety_acknowledgements,
        ),
    ),
}


def approved_total(approval: domain.Approval, quote: domain.Quote | None) -> Decimal | None:
    """What the customer agreed to pay, tax included; None without the very version."""
    if quote is None or quote.id != approval.quote_id or quote.version != approval.quote_version:
        return None
    return approval.approved_total(quote)
