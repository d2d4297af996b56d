"""The thin Kivy layer: the app, its screens (one ``.kv`` each) and shared widgets.

Logic lives in ``kiosk.services``; code here only shows state and forwards touches.
"""
