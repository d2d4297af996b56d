"""Every server table, by the module that defines it: importing this module puts all of
them on ``Base.metadata`` (what Alembic compares and a merge over all tables walks).

Code that needs a table imports it from its own module; the names below stay importable
from here for the benchmarks and scripts that read many tables at once.
"""

from __future__ import annotations

from sync_server import (  # noqa: F401  (their tables join Base.metadata)
    appointment_tables,
    approval_month_tables,
    customer_file_tables,
    job_tables,
    record_tables,
    secret_tables,
    work_tables,
)
from sync_server.back_office_tables import (
    ApprovalRow,
    JobAssignment,
    OutboundMessage,
    QuoteRow,
    Technician,
)
from sync_server.complaints import tables as complaint_tables  # noqa: F401
from sync_server.follow_up import tables as follow_up_tables  # noqa: F401
from sync_server.shop_tables import Device, DeviceRole, PairingCode, Shop, User, UserRole
from sync_server.surveys import tables as survey_tables  # noqa: F401
from sync_server.sync.tables import (
    AppliedChange,
    AppointmentLookup,
    Blob,
    FieldConflict,
    ServerIdentity,
    SyncCounter,
    SyncRecord,
)
from sync_server.table_base import Base, JsonType, UTCDateTime, utcnow
from sync_server.visit_tables import (
    Appointment,
    Customer,
    CustomerContactChange,
    Vehicle,
    Visit,
    WalkaroundOverride,
)

__all__ = [
    "AppliedChange",
    "Appointment",
    "AppointmentLookup",
    "ApprovalRow",
    "Base",
    "Blob",
    "Customer",
    "CustomerContactChange",
    "Device",
    "DeviceRole",
    "FieldConflict",
    "JobAssignment",
    "JsonType",
    "OutboundMessage",
    "PairingCode",
    "QuoteRow",
    "ServerIdentity",
    "Shop",
    "SyncCounter",
    "SyncRecord",
    "Technician",
    "UTCDateTime",
    "User",
    "UserRole",
    "Vehicle",
    "Visit",
    "WalkaroundOverride",
    "utcnow",
]
