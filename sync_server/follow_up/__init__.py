"""Reminders and greetings (issue 14): see ``rules``, ``run`` and ``opt_out``."""
