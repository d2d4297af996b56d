"""Job presets the desk books from: the work's name, estimated hours and speciality."""

from __future__ import annotations

from dataclasses import dataclass

from shared.i18n import Text


@dataclass(frozen=True)
class JobPreset:
    key: str
    label: Text
    minutes: int
    speciality: str


JOB_PRESETS: tuple[JobPreset, ...] = (
    JobPreset("oil_service", Text("Oil and filter service", "server"), 60, "engine"),
    JobPreset("minor_service", Text("Scheduled maintenance", "server"), 120, "engine"),
    JobPreset("diagnosis", Text("Diagnosis of a fault", "server"), 60, "engine"),
    JobPreset("brakes", Text("Brake pads and discs", "server"), 90, "brakes"),
    JobPreset("tyres", Text("Tyre change and balancing", "server"), 60, "tyres"),
    JobPreset("body", Text("Body and paint repair", "server"), 240, "body"),
)
PRESETS = {preset.key: preset for preset in JOB_PRESETS}
