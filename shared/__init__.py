"""Code common to the kiosk, the advisor tablet and the sync server.

Nothing in this package imports Flask or Kivy: it is the shop's domain in plain Python
(customers, vehicles, visits, walk-arounds, quotes), its validation rules, the visit
status machine and the JSON wire format both sides speak.
"""
