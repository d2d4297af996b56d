"""Damage: the car diagram with its five views; a tap places a mark, a mark editor sets
its kind, grade and note; earlier visits' damage is shown apart and can be carried over.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, DictProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.services.walkaround import EarlierMark
from kiosk.ui.diagram import CarDiagram  # noqa: F401  (kv class)
from kiosk.ui.screens.walkaround_common import WalkaroundStepScreen
from shared.domain import DamageMark, DamageType, DiagramView, damage_label, label
from shared.i18n import Text

VIEWS: tuple[str, ...] = tuple(view.value for view in DiagramView)
DAMAGE_TYPES: tuple[str, ...] = tuple(kind.value for kind in DamageType)
RECORDED_ON = Text("Recorded at the visit of {date}", "kiosk")
SEVERITY: dict[int, Text] = {
    1: Text("1 light", "kiosk"),
    2: Text("2 clearly visible", "kiosk"),
    3: Text("3 severe", "kiosk"),
}


class MarkRow(ButtonBehavior, BoxLayout):
    """A mark in the panel's list: its coded badge and what it is; touch to open it."""

    code = StringProperty("")
    text = StringProperty("")
    earlier = BooleanProperty(False)
    mark_id = StringProperty("")


class WalkaroundDamageScreen(WalkaroundStepScreen):
    """The diagram on the left; on the right the mark editor, or the lists of marks."""

    page_min_dp = ((0, 760), (0, 1400))  # one column when narrow: taller

    view = StringProperty(DiagramView.left.value)
    # Today's mark in the editor, or the earlier visit's mark looked at (not both).
    selected_mark = StringProperty("")
    selected_earlier = StringProperty("")
    # What the next mark placed starts as: the last kind and grade chosen.
    next_type = StringProperty(DamageType.scratch.value)
    view_tiles = DictProperty()
    type_tiles = DictProperty()
    severity_tiles = DictProperty()

    def on_kv_post(self, base_widget: Widget) -> None:
        diagram = self.ids.diagram
        diagram.bind(
            on_place_mark=lambda _w, x, y: self.place(x, y),
            on_move_mark=lambda _w, mark_id, x, y: self.move(mark_id, x, y),
            on_pick_mark=lambda _w, mark_id, earlier: self.pick(mark_id, earlier),
        )
        for view in VIEWS:
            tile = Factory.WalkaroundTile(text="", value=view)
            tile.bind(on_release=lambda _t, v=view: self.show_view(v))
            self.ids.view_tabs.add_widget(tile)
            self.view_tiles[view] = tile
        for code in DAMAGE_TYPES:
            tile = Factory.WalkaroundTile(text="", value=code, halign="center")
            tile.bind(on_release=lambda _t, c=code: self.set_type(c))
            self.ids.type_grid.add_widget(tile)
            self.type_tiles[code] = tile
        for grade in (1, 2, 3):
            tile = Factory.WalkaroundTile(text="", value=str(grade))
            tile.bind(on_release=lambda _t, g=grade: self.set_severity(g))
            self.ids.severity_row.add_widget(tile)
            self.severity_tiles[grade] = tile
        # Both panels are kept; only the one in use is in the tree (touches go nowhere else).
        self._editor = self.ids.editor.__self__
        self._lists = self.ids.lists.__self__
        self._earlier_panel = self.ids.earlier_panel.__self__
        self.ids.panel.clear_widgets()
        self.ids.panel.add_widget(self._lists)
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.refresh())

    # -- what the advisor does ---------------------------------------------------------

    def show_view(self, view: str) -> None:
        self.view = view
        self.close_editor()

    def place(self, x: float, y: float) -> None:
        """A tap on the drawing: a new mark of the last kind, opened in the editor."""
        flow = self.controller
        severity = int(getattr(self, "_next_severity", 1))
        flow.edit(
            lambda: flow.sheet.add_mark(self.view, x, y, self.next_type, severity),
            screen=self,
            done=lambda mark: self.open_editor(mark.id),
        )

    def move(self, mark_id: str, x: float, y: float) -> None:
        flow = self.controller
        flow.edit(lambda: flow.sheet.move_mark(mark_id, x, y), screen=self)

    def pick(self, mark_id: str, earlier: bool) -> None:
        if earlier:
            self.selected_mark = ""
            self.selected_earlier = mark_id
            self._show_panel(self._earlier_panel)
            self.refresh()
        else:
            self.open_editor(mark_id)

    def open_editor(self, mark_id: str) -> None:
        self.selected_earlier = ""
        self.selected_mark = mark_id
        mark = self.controller.sheet.mark(mark_id)
        self.ids.note.text = mark.note
        self._show_panel(self._editor)
        self.refresh()

    def close_editor(self) -> None:
        self.commit()
        self.selected_mark = ""
        self.selected_earlier = ""
        self._show_panel(self._lists)
        self.refresh()

    def set_type(self, code: str) -> None:
        self.next_type = code
        self._edit_selected(damage_type=code)

    def set_severity(self, grade: int) -> None:
        self._next_severity = grade
        self._edit_selected(severity=grade)

    def delete_selected(self) -> None:
        mark_id = self.selected_mark
        if not mark_id:
            return
        flow = self.controller
        flow.edit(
            lambda: flow.sheet.delete_mark(mark_id),
            screen=self,
            done=lambda _result: self.close_editor(),
        )

    def carry_over(self, mark_id: str = "") -> None:
        """The damage seen at an earlier visit is still there: put it on today's sheet."""
        earlier = self._earlier(mark_id or self.selected_earlier)
        if earlier is None:
            return
        flow = self.controller
        flow.edit(
            lambda: flow.sheet.carry_over(earlier),
            screen=self,
            done=lambda mark: self.open_editor(mark.id),
        )

    def commit(self) -> None:
        """The note typed in the editor goes on the mark."""
        mark_id = self.selected_mark
        flow = self.controller
        if not mark_id or flow is None or flow.sheet is None:
            return
        note = self.ids.note.text
        try:
            current = flow.sheet.mark(mark_id).note
        except ValueError:
            return
        if note.strip() != current:
            flow.edit(
                lambda: flow.sheet.edit_mark(mark_id, note=note),
                screen=self,
                cancelled=lambda: setattr(self.ids.note, "text", current),
            )

    def reset(self) -> None:
        super().reset()
        self.view = DiagramView.left.value
        self.selected_mark = self.selected_earlier = ""
        self.ids.note.text = ""
        self._show_panel(self._lists)

    # -- showing -----------------------------------------------------------------------

    def on_view(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        sheet = flow.sheet
        lang = _lang()
        diagram = self.ids.diagram
        diagram.view = self.view
        diagram.locked = flow.locked
        diagram.show_marks(sheet.marks_on(self.view), [e.mark for e in sheet.earlier_on(self.view)])
        diagram.selected_mark = self.selected_mark or self.selected_earlier
        for view, tile in self.view_tiles.items():
            count = len(sheet.marks_on(view))
            name = label(DiagramView(view)).render(lang)
            tile.text = f"{name} ({count})" if count else name
            tile.selected = view == self.view
        mark = self._mark(self.selected_mark)
        if self.selected_mark and mark is None:  # taken back (here or by another tablet)
            self.selected_mark = ""
            self._show_panel(self._lists)
        for code, tile in self.type_tiles.items():
            tile.text = f"{code}  {damage_label(code).render(lang)}"
            tile.selected = mark is not None and mark.damage_type == code
        for grade, tile in self.severity_tiles.items():
            tile.text = _severity_text(grade, lang)
            tile.selected = mark is not None and mark.severity == grade
        self.ids.editor_title.text = _mark_title(mark, lang) if mark is not None else ""
        self._fill_lists(lang)
        self._fill_earlier(lang)

    def _fill_lists(self, lang: str) -> None:
        sheet = self.controller.sheet
        rows = self.ids.mark_rows
        rows.clear_widgets()
        for mark in sheet.marks:
            row = Factory.MarkRow(
                code=mark.condition_code,
                text=_mark_line(mark, lang),
                earlier=False,
                mark_id=mark.id,
            )
            row.bind(on_release=lambda _r, m=mark: self._go_to(m.view, m.id, False))
            rows.add_widget(row)
        old_rows = self.ids.earlier_rows
        old_rows.clear_widgets()
        for item in sheet.earlier:
            row = Factory.MarkRow(
                code=item.mark.condition_code,
                text=f"{_mark_line(item.mark, lang)} · {item.checked_in_at[:10]}",
                earlier=True,
                mark_id=item.mark.id,
            )
            row.bind(on_release=lambda _r, m=item.mark: self._go_to(m.view, m.id, True))
            old_rows.add_widget(row)
        self.ids.no_marks.opacity = 0 if sheet.marks else 1
        self.ids.earlier_heading.opacity = 1 if sheet.earlier else 0

    def _fill_earlier(self, lang: str) -> None:
        item = self._earlier(self.selected_earlier)
        if item is None:
            self.ids.earlier_text.text = ""
            return
        seen = replace(RECORDED_ON, params={"date": item.checked_in_at[:10]})
        self.ids.earlier_text.text = (
            f"{item.mark.condition_code}  {_mark_line(item.mark, lang)}\n{seen.render(lang)}"
        )

    def _go_to(self, view: str, mark_id: str, earlier: bool) -> None:
        self.commit()
        self.view = view
        self.pick(mark_id, earlier)

    def _show_panel(self, panel: Widget) -> None:
        holder = self.ids.panel
        if panel.parent is holder:
            return
        holder.clear_widgets()
        holder.add_widget(panel)

    def _mark(self, mark_id: str) -> DamageMark | None:
        if not mark_id:
            return None
        return next((m for m in self.controller.sheet.marks if m.id == mark_id), None)

    def _earlier(self, mark_id: str) -> EarlierMark | None:
        sheet = self.controller.sheet
        return next((item for item in sheet.earlier if item.mark.id == mark_id), None)

    def _edit_selected(self, **changes: Any) -> None:
        mark_id = self.selected_mark
        if not mark_id:
            return
        flow = self.controller
        flow.edit(lambda: flow.sheet.edit_mark(mark_id, **changes), screen=self)


def _lang() -> str:
    app: Any = App.get_running_app()
    return str(app.lang) if app is not None else "en"


def _severity_text(grade: int, lang: str) -> str:
    return SEVERITY[grade].render(lang)


def _mark_line(mark: DamageMark, lang: str) -> str:
    kind = damage_label(mark.damage_type).render(lang)
    text = f"{kind} · {label(DiagramView(mark.view)).render(lang)}"
    return f"{text} · {mark.note}" if mark.note else text


def _mark_title(mark: DamageMark, lang: str) -> str:
    return Text("Damage mark {code}", "kiosk", {"code": mark.condition_code}).render(lang)
