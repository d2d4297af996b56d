"""The check-in app for the lobby kiosk and the advisor tablet.

``kiosk.services`` holds the logic and imports no Kivy; ``kiosk.ui`` is the thin Kivy
layer over it; ``kiosk.main`` is the ``checkin-kiosk`` entry point.
"""
