"""Complaints, closed loop: intake at the desk or by phone, the steps of a case from
received to the customer's confirmation (and reopened), and the deadlines in business
hours over the shop's calendar, paused while the shop waits for the customer.

``tables`` holds the typed tables, ``cases`` the rules and the queries, ``labels`` the
categories, root causes and deadline settings.
"""
