"""The demo visits' walk-arounds: photos, damage marks, belongings and the signed sheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shared import domain
from shared.walkaround_report import assemble
from sync_server.demo.cast import demo_id, to_millis
from sync_server.demo.pictures import (
    car_photo,
    coil_photo,
    signature_png,
    signature_strokes,
    store_picture,
    tyre_photo,
)
from sync_server.sync.blobs import BlobStore


@dataclass(frozen=True)
class DemoWalkaround:
    body: tuple[int, int, int]
    fuel_eighths: int
    warning_lights: tuple[str, ...]
    exterior_notes: str
    interior_notes: str
    belongings: domain.Belongings
    tread_mm: dict[str, float]
    # (caption, picture, damage on a drawing: (view, x, y, type, severity, note, pin x, y))
    photos: tuple[tuple[str, str, tuple | None], ...]  # type: ignore[type-arg]
    signer: str


DAVID_WALKAROUND = DemoWalkaround(
    body=(28, 44, 78),
    fuel_eighths=5,
    warning_lights=("engine",),
    exterior_notes="Scratch on the right rear door; small dent on the rear bumper",
    interior_notes="Clean; dash cam fitted",
    belongings=domain.Belongings(documents=True, keys_count=2, other_note="Umbrella in the boot"),
    tread_mm={"fl": 5.5, "fr": 5.4, "rl": 4.8, "rr": 4.9},
    photos=(
        (
            "Right side",
            "car:scratch",
            ("right", 0.58, 0.62, domain.DamageType.scratch, 2, "Right rear door", 0.58, 0.59),
        ),
        (
            "Rear bumper",
            "car:dent",
            ("rear", 0.7, 0.7, domain.DamageType.dent, 1, "Rear bumper, right", 0.71, 0.61),
        ),
        ("Ignition coils", "coil", None),
    ),
    signer="David Müller",
)
LIU_WALKAROUND = DemoWalkaround(
    body=(186, 190, 196),
    fuel_eighths=2,
    warning_lights=("tyre_pressure",),
    exterior_notes="前左轮胎已磨到磨损标记 Front-left tyre worn to the wear bars",
    interior_notes="",
    belongings=domain.Belongings(spare_wheel=True, jack=True, keys_count=1),
    tread_mm={"fl": 1.6, "fr": 3.1, "rl": 4.2, "rr": 4.0},
    photos=(
        (
            "左侧 Left side",
            "car:scratch",
            (
                "left",
                0.45,
                0.6,
                domain.DamageType.scratch,
                1,
                "驾驶员侧车门 Driver's door",
                0.6,
                0.59,
            ),
        ),
        ("前左轮胎 Front-left tyre", "tyre", None),
    ),
    signer="刘洋",
)


def demo_picture(name: str, body: tuple[int, int, int]) -> bytes:
    if name.startswith("car:"):
        return car_photo(body, name.split(":", 1)[1])
    return {"tyre": tyre_photo, "coil": coil_photo}[name]()


def seed_walkaround(
    session: Session,
    blob_store: BlobStore | None,
    key: str,
    demo: DemoWalkaround,
    mileage: dict[str, int],
    checked_in: datetime,
) -> None:
    """The walk-around done with the customer in the minutes after check-in."""
    from sync_server.sync.records import put_server_record

    visit_id = demo_id("visit", key)
    walkaround = domain.Walkaround(
        id=demo_id("walkaround", key),
        visit_id=visit_id,
        odometer_km=mileage[key] + 1200,
        fuel_eighths=demo.fuel_eighths,
        warning_lights=list(demo.warning_lights),
        belongings=demo.belongings,
        exterior_notes=demo.exterior_notes,
        interior_notes=demo.interior_notes,
        tyre_tread_mm=dict(demo.tread_mm),
    )
    photos, marks = [], []
    for index, (caption, picture, mark) in enumerate(demo.photos):
        image = store_picture(session, blob_store, demo_picture(picture, demo.body), "image/jpeg")
        photos.append(
            domain.VisitPhoto(
                id=demo_id("photo", f"{key}:{index}"),
                visit_id=visit_id,
                walkaround_id=walkaround.id,
                image=image,
                caption=caption,
                taken_at=to_millis(checked_in + timedelta(minutes=4 + index)),
            )
        )
        if mark is not None:
            view, x, y, damage_type, severity, note, pin_x, pin_y = mark
            marks.append(
                domain.DamageMark(
                    id=demo_id("damage_mark", f"{key}:{index}"),
                    walkaround_id=walkaround.id,
                    view=domain.DiagramView(view),
                    x=x,
                    y=y,
                    damage_type=damage_type,
                    severity=severity,
                    note=note,
                    pins=[domain.PhotoPin(image.sha256, pin_x, pin_y)],
                    created_at=to_millis(checked_in + timedelta(minutes=5 + index)),
                )
            )
    # Put together as the tablet does before the customer signs (shared.walkaround_report).
    assemble(visit_id, [walkaround], marks, photos, [])
    strokes = signature_strokes(len(key))
    image = store_picture(session, blob_store, signature_png(strokes), "image/png")
    signature = domain.Signature(
        id=demo_id("signature", f"{key}:sheet"),
        visit_id=visit_id,
        purpose=domain.SignaturePurpose.checkin_sheet,
        strokes=strokes,
        image=image,
        signed_sha256=walkaround.report_sha256(),
        signer_name=demo.signer,
        signed_at=to_millis(checked_in + timedelta(minutes=11)),
    )
    put_server_record(session, "walkaround", walkaround)
    for photo in photos:
        put_server_record(session, "photo", photo)
    for mark in marks:
        put_server_record(session, "damage_mark", mark)
    put_server_record(session, "signature", signature)
