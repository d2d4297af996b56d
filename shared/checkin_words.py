"""The words of the walk-around and of the check-in sheet, defined once (``shared`` domain).

The vocabularies the tablet offers and every page shows — warning lights, tyres,
belongings — and every word printed on the check-in sheet (接车单), whether the server
prints it (``sync_server.sheets``) or the tablet does offline (``kiosk.services
.printing``). The visit page names lights and tyres with these words too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.i18n import Text
from shared.walkaround_report import SignatureState

__all__ = [
    "BELONGINGS",
    "SHEET_WORDS",
    "SIGNATURE_STATES",
    "TYRES",
    "WARNING_LIGHTS",
    "sheet_labels",
]

# Codes of the warning lights the sheet offers (the tablet shows a symbol for each).
WARNING_LIGHTS: Mapping[str, Text] = MappingProxyType(
    {
        "engine": Text("Check engine"),
        "abs": Text("ABS"),
        "airbag": Text("Airbag"),
        "oil": Text("Oil pressure"),
        "battery": Text("Battery"),
        "brake": Text("Brake system"),
        "tyre_pressure": Text("Tyre pressure"),
        "coolant": Text("Coolant temperature"),
    }
)

# The tyres by position, in ``TYRE_POSITIONS`` order.
TYRES: Mapping[str, Text] = MappingProxyType(
    {
        "fl": Text("Front left"),
        "fr": Text("Front right"),
        "rl": Text("Rear left"),
        "rr": Text("Rear right"),
    }
)

# What may be left in the car, by its field of ``Belongings``.
BELONGINGS: Mapping[str, Text] = MappingProxyType(
    {
        "spare_wheel": Text("Spare wheel"),
        "jack": Text("Jack and tools"),
        "documents": Text("Vehicle documents"),
        "valuables": Text("Valuables"),
        "child_seat": Text("Child seat"),
    }
)

# Whether the customer's signature covers the sheet as it is now.
SIGNATURE_STATES: Mapping[str, Text] = MappingProxyType(
    {
        SignatureState.signed_unchanged: Text(
            "Signed by the customer; the sheet is unchanged since it was signed."
        ),
        SignatureState.changed_after_signing: Text(
            "Changed after the customer signed: the customer must sign this version again."
        ),
        SignatureState.unsigned: Text("Not signed by the customer yet."),
    }
)

# Every word of the sheet; ``page`` holds a ``{number}`` placeholder.
SHEET_WORDS: Mapping[str, Text] = MappingProxyType(
    {
        "title": Text("Vehicle check-in sheet"),
        "ticket": Text("Ticket"),
        "checked_in": Text("Checked in at"),
        "customer": Text("Customer"),
        "phone": Text("Phone"),
        "vehicle": Text("Vehicle"),
        "plate": Text("Plate"),
        "vin": Text("VIN"),
        "model": Text("Make and model"),
        "concern": Text("What the customer came for"),
        "diagram": Text("Condition of the car"),
        "legend": Text(
            "Red: damage recorded today (code: letter and grade). Grey outline: damage "
            "recorded at an earlier visit."
        ),
        "codes": Text(
            "A scratch · U dent · G stone chip · Y crack · S rust · M missing · B broken · "
            "O other; 1 light, 2 clearly visible, 3 severe"
        ),
        "marks": Text("Damage marks"),
        "no_marks": Text("No damage recorded."),
        "photos": Text("Photos"),
        "photo_pending": Text("Photo not received yet"),
        "odometer": Text("Odometer"),
        "fuel": Text("Fuel"),
        "lights": Text("Warning lights on"),
        "belongings": Text("Items left in the car"),
        "keys": Text("Keys handed over"),
        "other": Text("Other"),
        "exterior": Text("Exterior notes"),
        "interior": Text("Interior notes"),
        "tread": Text("Tyre tread (mm)"),
        "none": Text("None"),
        "no_walkaround": Text("The walk-around has not been recorded yet."),
        "consent": Text("Confirmation"),
        "consent_text": Text(
            "I walked around the car with the service advisor and confirm that this sheet "
            "records its condition, the fuel level, the odometer reading and the items left "
            "in it when I handed it over. My data is used only for service and communication "
            "and is kept strictly confidential."
        ),
        "privacy_agreed": Text("Privacy notice accepted"),
        "signature": Text("Customer's signature"),
        "signed_at": Text("Signed at"),
        "not_signed": Text("Not signed"),
        "verification": Text("Signature check"),
        "version": Text("Sheet version"),
        "fingerprint": Text("Fingerprint of the signed content"),
        "page": Text("Page {number}"),
    }
)


def sheet_labels(lang: str) -> dict[str, str]:
    """Every word of the sheet in ``lang``, keyed as ``shared.checkin_sheet`` reads them.

    Rendered without parameters, "Page {number}" keeps its placeholder for each page.
    """
    labels = {key: text.render(lang) for key, text in SHEET_WORDS.items()}
    for prefix, words in (
        ("belonging", BELONGINGS),
        ("light", WARNING_LIGHTS),
        ("tyre", TYRES),
        ("state", SIGNATURE_STATES),
    ):
        labels.update({f"{prefix}.{key}": text.render(lang) for key, text in words.items()})
    return labels
