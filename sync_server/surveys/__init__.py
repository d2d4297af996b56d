"""Satisfaction after the hand-back: the survey the system sends (``sending``), the
customer's one answer and the hot alert it may raise (``answers``), the call-back tasks
(``callbacks``), the settings (``settings``) and the monthly figures reports read —
satisfaction by month and the service star (``figures``). ``tables`` holds the tables.
"""
