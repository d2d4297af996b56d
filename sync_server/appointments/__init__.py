"""Appointments planned against the shop's real capacity (``capacity``) and booked,
moved and cancelled without ever double-booking a bay or a technician (``booking``)."""
