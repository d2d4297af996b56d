"""Advisor tablet's first screen once paired: shop, language and connection status.

Advisor sign-in and the check-in queue come in a later issue.
"""

from __future__ import annotations

from kivy.uix.screenmanager import Screen


class TabletWelcomeScreen(Screen):
    """The advisor tablet's home while nobody is signed in."""
