"""A stolen lobby kiosk gives away no phone number, plate or key (issue 10, item 6).

The kiosk's copy of today's appointments holds slow salted hashes only; look-ups by
phone, plate and code still work offline. The cost of guessing one phone number is
measured in ``benchmarks/lookup_attack.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kiosk_flow_fixtures import DEVICE_ID, appointment_entry
from live_server import LiveServer, live_server_fixture  # noqa: F401

from kiosk.services.checkin_flow import CheckinFlow, KioskSetup, LookupKind
from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.local_store import LocalStore
from kiosk.services.pairing import PairingService
from kiosk.services.sync import SyncEngine, SyncTransport
from shared.lookup import lookup_hash, matching

# What the demo shop knows of Zhang Wei, booked today with code Q7M4KX: none of it, in
# no form (clear, masked, UTF-8), may be on the kiosk's disk.
ZHANG_SECRETS = (
    "13812345678",
    "138 1234 5678",
    "138****5678",
    "京A12345",
    "京A·12345",
    "京A·***45",
    "A12345",
    "张伟",
    "张*",
    "Q7M4KX",
)


def every_byte_on_the_kiosk(data_dir: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(data_dir.rglob("*")) if path.is_file())


def test_a_stolen_kiosk_holds_no_phone_plate_or_key_yet_finds_appointments_offline(
    live_server: LiveServer, tmp_path: Path
) -> None:
    live_server.cli("demo")
    data_dir = tmp_path / "kiosk"
    devices = DeviceStore(data_dir)
    devices.save(DeviceSettings(server_url=live_server.url, mode="kiosk"))
    code = live_server.pairing_code("kiosk")
    settings = PairingService(devices).pair(code, "Lobby kiosk")
    assert settings.device_id
    with (
        LocalStore(data_dir, settings.device_id) as store,
        SyncTransport(live_server.url, settings.token or "") as transport,
    ):
        SyncEngine(store, transport).sync_once()
        assert len(store.find("appointment")) == 5
    live_server.stop()  # the thief walks off with the kiosk: no server from here on

    stolen = every_byte_on_the_kiosk(data_dir)
    for secret in ZHANG_SECRETS:
        assert secret.encode() not in stolen, secret
    assert b"lookup_key" not in stolen and b"phone_masked" not in stolen

    flow = CheckinFlow(KioskSetup(device_id=settings.device_id))
    with LocalStore(data_dir, settings.device_id) as store:
        for kind, typed in (
            (LookupKind.phone, "138 1234 5678"),
            (LookupKind.plate, "京a12345"),
            (LookupKind.code, "q7m4-kx"),
        ):
            result = flow.find_appointments(store, kind, typed)
            assert [match.vehicle for match in result.matches] == ["Toyota Camry"], kind
            assert result.matches[0].requested_work == "Scheduled 50,000 km maintenance"
        wrong = flow.find_appointments(store, LookupKind.phone, "138 1234 5679")
        assert [issue.code for issue in wrong.issues] == ["appointment_not_found"]


def test_one_salt_per_appointment_so_no_guess_serves_two(tmp_path: Path) -> None:
    """The same phone booked twice hashes differently each time; a look-up finds both."""
    first = appointment_entry("AAAAAA", "", "+8613812345678", "京A11111", "BYD", "Han", "", [])
    second = appointment_entry("BBBBBB", "", "+8613812345678", "京A22222", "BYD", "Qin", "", [])
    assert first["fields"]["lookup_salt"] != second["fields"]["lookup_salt"]
    assert first["fields"]["phone_hash"] != second["fields"]["phone_hash"]
    with LocalStore(tmp_path, DEVICE_ID) as store:
        store.replace_snapshot({"appointment"}, [first, second])
        result = CheckinFlow().find_appointments(store, LookupKind.phone, "13812345678")
    assert sorted(match.vehicle for match in result.matches) == ["BYD Han", "BYD Qin"]
    assert {match.shown_as for match in result.matches} == {"138****5678"}


@pytest.mark.parametrize("stored", ["", "zz", "00" * 16])
def test_a_damaged_hash_or_salt_never_matches(stored: str) -> None:
    salt = "00" * 16
    assert matching([(salt, stored), ("not hex", lookup_hash(salt, "code", "Q7M4KX"))], "code",
                    "Q7M4KX") == [False, False]  # fmt: skip
