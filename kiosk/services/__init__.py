"""The kiosk's logic without any Kivy import: settings, server client, pairing, status.

Everything here runs in plain Python (tests, scripts, background threads); the UI in
``kiosk.ui`` calls it and shows the results.
"""
