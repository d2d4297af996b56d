"""The demo shop's cast: people, customers with English and Chinese names, their cars,
today's appointments and the visits under way, with ids fixed so a second run refreshes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time

from shared.validation import check_vin
from sync_server.shop_tables import UserRole

DEMO_NAMESPACE = uuid.UUID("5b0f3c52-7f57-4a4e-9d0e-1f3b7a0c9d11")
DEMO_PASSWORD = "demo-pass-2026"
DEMO_PIN = "2026"  # the advisors' tablet PIN


def demo_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{key}"))


def vin_with_check_digit(first_eight: str, last_eight: str) -> str:
    """A VIN whose 9th character is the right ISO 3779 check digit."""
    for digit in "0123456789X":
        vin = f"{first_eight}{digit}{last_eight}"
        checked = check_vin(vin)
        if checked.ok and not checked.warnings:
            return vin
    raise ValueError(f"no check digit fits {first_eight}?{last_eight}")


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    name: str
    phone: str
    tier: str
    channel: str
    plate: str
    vin_head: str
    vin_tail: str
    make: str
    model: str
    year: int
    mileage: int


CUSTOMERS = (
    DemoCustomer(
        "zhang-wei",
        "张伟",
        "+8613812345678",
        "vip",
        "sms",
        "京A12345",
        "LVGBE40K",
        "KG118422",
        "Toyota",
        "Camry",
        2019,
        48210,
    ),
    DemoCustomer(
        "wang-fang",
        "王芳",
        "+8613912345601",
        "regular",
        "phone",
        "沪BD12345",
        "LGXCE4CB",
        "NC034517",
        "BYD",
        "Han EV",
        2022,
        21540,
    ),
    DemoCustomer(
        "emily-carter",
        "Emily Carter",
        "+8618600001111",
        "regular",
        "email",
        "粤B88K21",
        "LSVAX60E",
        "LN204418",
        "Volkswagen",
        "Tiguan L",
        2020,
        63005,
    ),
    DemoCustomer(
        "li-qiang",
        "李强",
        "+8615012345602",
        "regular",
        "sms",
        "浙A5G7H2",
        "LHGCV163",
        "HA051236",
        "Honda",
        "Accord",
        2017,
        112873,
    ),
    DemoCustomer(
        "chen-jing",
        "陈静",
        "+8617712345603",
        "vip",
        "sms",
        "苏ED56789",
        "LRW3E7FA",
        "MC190032",
        "Tesla",
        "Model 3",
        2021,
        35790,
    ),
    DemoCustomer(
        "david-mueller",
        "David Müller",
        "+491701234567",
        "regular",
        "email",
        "京B6Y2Q3",
        "WBAJA510",
        "JG882163",
        "BMW",
        "530Li",
        2018,
        89440,
    ),
    DemoCustomer(
        "liu-yang",
        "刘洋",
        "+8613612345604",
        "regular",
        "phone",
        "川A7K8M9",
        "L6T78Y4E",
        "LN402251",
        "Geely",
        "Boyue",
        2020,
        57312,
    ),
    DemoCustomer(
        "zhao-min",
        "赵敏",
        "+8618912345605",
        "regular",
        "sms",
        "鄂A3N2P8",
        "LGBH52E0",
        "KY310987",
        "Nissan",
        "Sylphy",
        2019,
        70126,
    ),
)

# (customer key, code, local arrival time, requested work, concern codes, minutes)
APPOINTMENTS = (
    ("zhang-wei", "Q7M4KX", time(8, 30), "Scheduled 50,000 km maintenance", ["maintenance"], 90),
    ("wang-fang", "H3PZ9D", time(9, 15), "Air conditioning not cooling", ["air_conditioning"], 60),
    ("emily-carter", "T8VN2R", time(10, 0), "Brake noise when stopping", ["brakes", "noise"], 120),
    (
        "li-qiang",
        "C5WJ6G",
        time(13, 30),
        "Oil change and tyre rotation",
        ["oil_change", "tyres"],
        60,
    ),
    ("chen-jing", "R2XF8B", time(15, 0), "Annual inspection", ["inspection"], 45),
)

# (customer key, ticket, status, minutes since check-in, concern codes, concern text)
VISITS = (
    (
        "david-mueller",
        "A-001",
        "in_progress",
        150,
        ["warning_light"],
        "Engine light on since Monday",
    ),
    (
        "liu-yang",
        "A-002",
        "quote_sent",
        95,
        ["noise", "tyres"],
        "低速时前左有异响 Knocking from front left at low speed",
    ),
    ("zhao-min", "A-003", "checked_in", 12, ["maintenance"], ""),
)

# Visits handed back earlier, each with the customer's survey answer:
# (customer key, ticket, days ago, concern codes, concern text, work done,
#  (overall, advisor, work, would recommend), comment)
PAST_VISITS = (
    (
        "liu-yang",
        "B-031",
        20,
        ["maintenance"],
        "定期保养 Scheduled service",
        "更换机油机滤，20项检查 Oil and filter changed, 20-point check",
        (5, 5, 5, 10),
        "很快，车也洗干净了。Quick, and the car came back clean.",
    ),
    (
        "emily-carter",
        "B-047",
        2,
        ["brakes"],
        "Brake pedal feels soft",
        "Front brake pads replaced 更换前刹车片",
        (2, 3, 2, 4),
        "The brakes squeal again since the day after the service.",
    ),
)

# A complaint in progress, phoned in about Liu Yang's visit of today: its steps as
# (action, minutes ago, notes); received ``COMPLAINT_MINUTES_AGO`` minutes ago.
COMPLAINT_CATEGORY = ("Waiting time", "等待时间")
COMPLAINT_SUMMARY = (
    "承诺30分钟内报价，等了一个多小时。"
    "Was promised the quote within 30 minutes, waited more than an hour."
)
COMPLAINT_MINUTES_AGO = 50
COMPLAINT_STEPS = (
    (
        "acknowledge",
        45,
        "已致电客户致歉。Called back and apologised.",
    ),
    (
        "investigate",
        40,
        "车间诊断异响超时。Diagnosis of the noise ran long.",
    ),
)
# The shop's complaint categories and root causes: (kind, English, Chinese).
COMPLAINT_LABELS = (
    ("category", "Waiting time", "等待时间"),
    ("category", "Workmanship", "维修质量"),
    ("category", "Cleanliness", "车辆清洁"),
    ("category", "Communication", "沟通"),
    ("root_cause", "Diagnosis took longer than planned", "诊断超时"),
    ("root_cause", "Part quality", "配件质量"),
    ("root_cause", "Process not followed", "未按流程操作"),
)

PEOPLE = (
    ("manager", "Manager Zhou 周经理", UserRole.MANAGER),
    ("li.na", "Li Na 李娜", UserRole.ADVISOR),
    ("tom", "Tom Becker", UserRole.ADVISOR),
)

TECHNICIANS = (
    ("Chen Gang 陈刚", ["brakes", "tyres"]),
    ("Wu Lei 吴磊", ["engine", "electrics"]),
    ("Zhou Ming 周明", ["maintenance", "air_conditioning"]),
)
# The language each demo customer chose at the kiosk (their consent).
LANGUAGES = {
    "david-mueller": "en",
    "liu-yang": "zh_CN",
    "zhao-min": "zh_CN",
    "emily-carter": "en",
}


def to_millis(moment: datetime) -> datetime:
    """A time cut to the millisecond, as the wire format carries it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
