"""The managers' reports over the typed tables: each one query with ``GROUP BY`` (or a
few), the same on SQLite and PostgreSQL — a report is a query, not a loop over records.

Every month and week is the shop's (``periods``). The reports:

* ``approvals``: approved totals per advisor and shop month, from the monthly summary
  the approvals' projection keeps (``sync_server.approval_months``);
* satisfaction and NPS by month, advisor ratings and the service star: the surveys
  area's figures (``sync_server.surveys.figures``), drawn and exported here;
* reminders sent and the appointments and visits they brought within 30 days: the
  follow-up area's figures (``sync_server.follow_up.report``);
* ``complaint_times``: first response and resolution against their deadlines, per month
  (a missed deadline stays missed);
* ``complaint_causes``: complaints by category and root cause over a period;
* ``forward_load``: cars coming due per week against the bookable technician hours.

``tables`` turns each into a table in the reader's language (the page, CSV and XLSX
read the same table), ``charts`` draws it as SVG on the server (pygal, no script).
"""

from sync_server.reports.approvals import (
    AdvisorMonth,
    approved_totals_by_advisor_month,
    approved_totals_from_approvals,
)
from sync_server.reports.periods import MonthRange, last_months, shop_months

__all__ = [
    "AdvisorMonth",
    "MonthRange",
    "approved_totals_by_advisor_month",
    "approved_totals_from_approvals",
    "last_months",
    "shop_months",
]
