"""``python -m kiosk``: the same as the ``checkin-kiosk`` command."""

from kiosk.main import main

raise SystemExit(main())
