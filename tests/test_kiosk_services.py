"""The kiosk's Kivy-free core: settings file, pairing code, server client, pairing, status."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.services import server_client
from kiosk.services.connection import ConnectionChecker, ConnectionState
from kiosk.services.device_store import DeviceSettings, DeviceStore
from kiosk.services.launch import LaunchOptions, resolve_settings
from kiosk.services.pairing import PairingError, PairingService
from kiosk.services.pairing_code import code_problem, display_code, normalize_code
from kiosk.services.server_client import ServerClient, ServerMessage, ServerProblem

REPO = Path(__file__).resolve().parents[1]


# -- device.json ---------------------------------------------------------------------------


def test_settings_round_trip(kiosk_store: DeviceStore) -> None:
    settings = DeviceSettings(
        server_url="http://shop.local:5000",
        mode="tablet",
        device_id="0b6f…",
        device_name="前台平板",
        token="secret-token",
        role="tablet",
        shop_name="明亮汽修",
        plate_region="京",
        language="zh_CN",
    )
    kiosk_store.save(settings)
    assert kiosk_store.load() == settings
    assert json.loads(kiosk_store.path.read_text("utf-8"))["shop_name"] == "明亮汽修"


def test_nothing_stored_means_unpaired_defaults(kiosk_store: DeviceStore) -> None:
    settings = kiosk_store.load()
    assert settings == DeviceSettings()
    assert not settings.is_paired


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_token_file_is_private(kiosk_store: DeviceStore) -> None:
    kiosk_store.save(DeviceSettings(token="secret"))
    assert stat.S_IMODE(kiosk_store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(kiosk_store.data_dir.stat().st_mode) == 0o700


def test_crash_during_save_leaves_old_file_intact(
    kiosk_store: DeviceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    kiosk_store.save(DeviceSettings(token="old-token", shop_name="Old name"))
    before = kiosk_store.path.read_bytes()

    def power_cut(*_args: object) -> None:
        raise OSError("power cut during rename")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError, match="power cut"):
        kiosk_store.save(DeviceSettings(token="new-token", shop_name="New name"))
    monkeypatch.undo()

    assert kiosk_store.path.read_bytes() == before
    assert kiosk_store.load().token == "old-token"
    assert sorted(p.name for p in kiosk_store.data_dir.iterdir()) == ["device.json"]


def test_unreadable_file_starts_unpaired_and_is_kept(kiosk_store: DeviceStore) -> None:
    kiosk_store.data_dir.mkdir(parents=True)
    kiosk_store.path.write_text('{"token": "abc", "shop_na', "utf-8")
    assert kiosk_store.load() == DeviceSettings()
    assert (kiosk_store.data_dir / "device.json.unreadable").exists()


def test_unknown_keys_from_a_newer_version_are_ignored(kiosk_store: DeviceStore) -> None:
    kiosk_store.data_dir.mkdir(parents=True)
    kiosk_store.path.write_text(json.dumps({"token": "t", "future_field": 1}), "utf-8")
    assert kiosk_store.load().token == "t"


def test_forget_pairing_only_drops_the_refused_token(kiosk_store: DeviceStore) -> None:
    kiosk_store.save(DeviceSettings(token="new", role="kiosk", shop_name="Shop"))
    assert kiosk_store.forget_pairing(token="old").token == "new"
    left = kiosk_store.forget_pairing(token="new")
    assert (left.token, left.role, left.shop_name) == (None, None, "Shop")
    assert kiosk_store.load().token is None


# -- pairing code format -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [("k7qm-4xpd", "K7QM4XPD"), (" K7QM 4XPD ", "K7QM4XPD"), ("k7qm–4xpd", "K7QM–4XPD")],
)
def test_normalize_code(typed: str, normalized: str) -> None:
    assert normalize_code(typed) == normalized


def test_display_code_groups_by_four() -> None:
    assert display_code("k7qm4xpd") == "K7QM-4XPD"


@pytest.mark.parametrize("typed", ["K7QM4XPD", "k7qm-4xpd", "2345 6789"])
def test_well_formed_codes_pass(typed: str) -> None:
    assert code_problem(typed) is None


@pytest.mark.parametrize(
    ("typed", "english", "chinese"),
    [
        ("", "Type the 8-character pairing code.", "请输入 8 位配对码。"),
        ("K7QM", "this one has 4", "当前输入了 4 位"),
        ("K7QM4XPDA", "this one has 9", "当前输入了 9 位"),
        ("K7QM4XP0", "never use 0, O, 1, I or L", "不会出现 0、O、1、I 或 L"),
        ("KOQM4XPD", "never use 0, O, 1, I or L", "不会出现 0、O、1、I 或 L"),
        ("K7QM4XP!", "Not allowed: !", "不能使用：!"),
    ],
)
def test_malformed_codes_are_explained_in_both_languages(
    typed: str, english: str, chinese: str
) -> None:
    problem = code_problem(typed)
    assert problem is not None
    assert english in problem.render("en")
    assert chinese in problem.render("zh_CN")


# -- server client against a real loopback HTTP server -------------------------------------


def test_pair_sends_normalized_code_and_returns_token(shop_server) -> None:
    code = shop_server.issue_code(role="kiosk")
    with ServerClient(shop_server.url) as client:
        result = client.pair(f"{code[:4].lower()}-{code[4:]}", "Lobby kiosk")
    assert shop_server.requests[-1]["body"] == {"code": code, "device_name": "Lobby kiosk"}
    assert result.token in shop_server.devices
    assert (result.role, result.device_name, result.shop_name, result.plate_region) == (
        "kiosk",
        "Lobby kiosk",
        "Bright Auto Service",
        "京",
    )


@pytest.mark.parametrize(
    ("state", "code", "chinese"),
    [
        (None, "pairing_code_unknown", "无法识别此配对码"),
        ("expired", "pairing_code_expired", "已过期"),
        ("used", "pairing_code_used", "已被使用"),
    ],
)
def test_refused_codes_map_to_typed_problems(shop_server, state, code, chinese) -> None:
    typed = shop_server.issue_code(state=state) if state else "23456789"
    with ServerClient(shop_server.url) as client, pytest.raises(ServerProblem) as caught:
        client.pair(typed, "Lobby kiosk")
    assert caught.value.code == code
    assert caught.value.status == 400
    assert chinese in caught.value.message.render("zh_CN")
    assert not caught.value.needs_pairing


def test_unreachable_server_names_the_url(unreachable_url: str) -> None:
    with ServerClient(unreachable_url) as client, pytest.raises(ServerProblem) as caught:
        client.whoami()
    assert caught.value.is_offline
    assert caught.value.message.render("en") == (
        f"Cannot reach the shop server at {unreachable_url}. Check the network and try again."
    )
    assert unreachable_url in caught.value.message.render("zh_CN")


def test_slow_server_times_out(shop_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_client, "READ_TIMEOUT_S", 0.2)
    shop_server.delay_s = 1.0
    with ServerClient(shop_server.url, token="t") as client, pytest.raises(ServerProblem) as c:
        client.whoami()
    assert c.value.code == "server_unreachable"


def test_whoami_with_a_known_token(shop_server) -> None:
    token = shop_server.add_device("tablet", name="Advisor tablet 1")
    with ServerClient(shop_server.url, token=token) as client:
        info = client.whoami()
    assert (info.role, info.device_name, info.shop_name) == (
        "tablet",
        "Advisor tablet 1",
        "Bright Auto Service",
    )
    assert shop_server.requests[-1]["headers"]["Authorization"] == f"Bearer {token}"


def test_revoked_token_means_pair_again(shop_server) -> None:
    token = shop_server.add_device()
    shop_server.revoke(token)
    with ServerClient(shop_server.url, token=token) as client, pytest.raises(ServerProblem) as c:
        client.whoami()
    assert c.value.needs_pairing
    assert c.value.status == 401
    assert "新的配对码" in c.value.message.render("zh_CN")


def test_server_error_is_reported_with_status(shop_server) -> None:
    shop_server.fail_status = 503
    with ServerClient(shop_server.url, token="t") as client, pytest.raises(ServerProblem) as c:
        client.whoami()
    assert (c.value.code, c.value.status) == ("server_error", 503)
    assert "error 503" in c.value.message.render("en")


def test_answer_that_is_not_json_is_unexpected(shop_server) -> None:
    token = shop_server.add_device()
    shop_server.garbage_body = True
    with ServerClient(shop_server.url, token=token) as client, pytest.raises(ServerProblem) as c:
        client.whoami()
    assert c.value.code == "unexpected_response"
    assert shop_server.url in c.value.message.render("en")


def test_other_refusals_show_the_servers_own_message() -> None:
    message = ServerMessage("Too many attempts", "尝试次数过多")
    assert message.render("zh_CN") == "尝试次数过多"
    assert message.render("en") == "Too many attempts"
    assert ServerMessage("Only English", "").render("zh_CN") == "Only English"


# -- pairing service -----------------------------------------------------------------------


def test_malformed_code_is_refused_before_any_request(kiosk_store: DeviceStore) -> None:
    def no_network(*_args: object, **_kwargs: object) -> ServerClient:
        raise AssertionError("the server must not be asked")

    with pytest.raises(PairingError) as caught:
        PairingService(kiosk_store, no_network).pair("K7QM-4XP", "Lobby")
    assert "this one has 7" in caught.value.message.render("en")
    assert not kiosk_store.path.exists()


def test_pairing_stores_token_and_role(kiosk_store: DeviceStore, shop_server) -> None:
    kiosk_store.save(DeviceSettings(server_url=shop_server.url, mode="kiosk"))
    code = shop_server.issue_code(role="tablet")
    settings = PairingService(kiosk_store).pair(code.lower(), "  ")
    assert kiosk_store.load() == settings
    assert settings.token in shop_server.devices
    assert (settings.role, settings.mode, settings.shop_name) == (
        "tablet",
        "tablet",
        "Bright Auto Service",
    )
    # An empty name is replaced by the host name, so the manager can tell devices apart.
    assert settings.device_name == server_client.default_device_name()


# -- connection status ---------------------------------------------------------------------


def test_status_online_refreshes_shop_settings(paired_store: DeviceStore, shop_server) -> None:
    shop_server.shop["name"] = "Bright Auto Service Pudong"
    report = ConnectionChecker(paired_store).check()
    assert report.state is ConnectionState.ONLINE
    assert paired_store.load().shop_name == "Bright Auto Service Pudong"


def test_status_revoked_forgets_token(paired_store: DeviceStore, shop_server) -> None:
    shop_server.revoke(paired_store.load().token)
    report = ConnectionChecker(paired_store).check()
    assert report.state is ConnectionState.NOT_PAIRED
    assert paired_store.load().token is None


def test_status_offline_keeps_token(paired_store: DeviceStore, unreachable_url: str) -> None:
    token = paired_store.update(server_url=unreachable_url).token
    report = ConnectionChecker(paired_store).check()
    assert report.state is ConnectionState.OFFLINE
    assert paired_store.load().token == token


# -- start-up options ----------------------------------------------------------------------


def test_new_server_url_drops_token(paired_store: DeviceStore, tmp_path: Path) -> None:
    options = LaunchOptions(data_dir=tmp_path, server_url="http://other-shop:5000/")
    settings = resolve_settings(options, paired_store)
    assert settings.server_url == "http://other-shop:5000"
    assert settings.token is None
    assert paired_store.load() == settings


def test_paired_role_wins_over_mode_option(paired_store: DeviceStore, tmp_path: Path) -> None:
    options = LaunchOptions(data_dir=tmp_path, mode="tablet", language="zh_CN")
    settings = resolve_settings(options, paired_store)
    assert (settings.mode, settings.language, settings.is_paired) == ("kiosk", "zh_CN", True)


def test_mode_option_applies_before_pairing(kiosk_store: DeviceStore, tmp_path: Path) -> None:
    settings = resolve_settings(LaunchOptions(data_dir=tmp_path, mode="tablet"), kiosk_store)
    assert settings.mode == "tablet"


# -- process boundaries --------------------------------------------------------------------


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )


def test_services_and_entry_point_import_no_kivy() -> None:
    result = _run_python(
        "import sys, pkgutil, importlib, kiosk.services as s, kiosk.main\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('kiosk.services.' + m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'kivy'))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_is_quick_and_lists_the_options() -> None:
    result = _run_python(
        "import sys; from kiosk.main import main; sys.argv[0]='x'; main(['--help'])"
    )
    assert result.returncode == 0, result.stderr
    for option in ("--mode", "--server", "--data-dir", "--lang", "--windowed", "--pair-code"):
        assert option in result.stdout
    assert "Kivy" not in result.stderr
