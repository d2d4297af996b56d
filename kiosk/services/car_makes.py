"""The makes and models offered as tiles on the kiosk's walk-in screen, in both languages.

A make or model is stored under its usual international name ("Toyota", "Camry"), which
the back office, appointments and the board search use; a customer reading Chinese
sees the name Chinese buyers know (丰田, 凯美瑞). Only the best sellers are here: any
other make or model is typed on the on-screen keyboard, and the advisor corrects rare
ones at the walk-around.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CarModel:
    name: str
    name_zh: str = ""

    def label(self, lang: str) -> str:
        """ "凯美瑞 Camry" for a Chinese reader (both names are on the car), "Camry" else."""
        if lang == "zh_CN" and self.name_zh and self.name_zh != self.name:
            return f"{self.name_zh} {self.name}"
        return self.name


@dataclass(frozen=True, slots=True)
class CarMake:
    name: str
    name_zh: str
    models: tuple[CarModel, ...]

    def label(self, lang: str) -> str:
        return self.name_zh if lang == "zh_CN" else self.name

    def model(self, name: str) -> CarModel | None:
        return next((model for model in self.models if model.name == name), None)


def _models(*pairs: tuple[str, str] | str) -> tuple[CarModel, ...]:
    return tuple(CarModel(p) if isinstance(p, str) else CarModel(*p) for p in pairs)


CAR_MAKES: tuple[CarMake, ...] = (
    CarMake("Toyota", "丰田", _models(("Camry", "凯美瑞"), ("Corolla", "卡罗拉"),
        ("Levin", "雷凌"), ("RAV4", "荣放"), ("Highlander", "汉兰达"), ("Prado", "普拉多"))),
    CarMake("Volkswagen", "大众", _models(("Lavida", "朗逸"), ("Sagitar", "速腾"),
        ("Passat", "帕萨特"), ("Magotan", "迈腾"), ("Tiguan L", "途观L"), ("Bora", "宝来"))),
    CarMake("Honda", "本田", _models(("Accord", "雅阁"), ("Civic", "思域"), "CR-V",
        ("Fit", "飞度"), ("Odyssey", "奥德赛"), ("Vezel", "缤智"))),
    CarMake("BYD", "比亚迪", _models(("Qin", "秦"), ("Han EV", "汉EV"), ("Song", "宋"),
        ("Tang", "唐"), ("Yuan", "元"), ("Seal", "海豹"), ("Dolphin", "海豚"))),
    CarMake("Nissan", "日产", _models(("Sylphy", "轩逸"), ("Teana", "天籁"),
        ("X-Trail", "奇骏"), ("Qashqai", "逍客"))),
    CarMake("Buick", "别克", _models(("Excelle", "英朗"), ("Regal", "君威"),
        ("LaCrosse", "君越"), "GL8", ("Envision", "昂科威"))),
    CarMake("Mercedes-Benz", "奔驰", _models(("C-Class", "C级"), ("E-Class", "E级"),
        "GLC", ("S-Class", "S级"))),
    CarMake("BMW", "宝马", _models(("3 Series", "3系"), ("5 Series", "5系"), "X3", "X5")),
    CarMake("Audi", "奥迪", _models("A4L", "A6L", "Q3", "Q5L")),
    CarMake("Geely", "吉利", _models(("Emgrand", "帝豪"), ("Boyue", "博越"),
        ("Xingyue L", "星越L"), ("Binyue", "缤越"))),
    CarMake("Changan", "长安", _models("CS75 PLUS", "CS55 PLUS", ("Eado", "逸动"), "UNI-K")),
    CarMake("Tesla", "特斯拉", _models("Model 3", "Model Y", "Model S", "Model X")),
)  # fmt: skip

MAKES_BY_NAME: dict[str, CarMake] = {make.name: make for make in CAR_MAKES}


def find_make(name: str) -> CarMake | None:
    """The make stored as ``name`` (a typed one is not in the list: None)."""
    return MAKES_BY_NAME.get(name)
