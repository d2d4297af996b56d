"""A realistic demo shop: people, customers with English and Chinese names, their cars,
today's appointments and a few visits already under way; and after the hand-back, survey
answers (a promoter, a hot alert with its call-back and case) and a complaint in progress.

The visits under way carry what the back office would hold by then: the consent, the
walk-around with photos (drawn here, stored like a tablet's uploads), damage marks and
the signed check-in sheet, quotes with options (sent, and one approved on the phone
with a signature), technicians and the work dispatched.

Running it again brings the demo records back to their demo state (their ids are fixed),
with appointments moved to today; it never touches records it did not make.
"""

from sync_server.demo.cast import DEMO_PASSWORD, DEMO_PIN, demo_id
from sync_server.demo.seeding import seed_demo

__all__ = ["DEMO_PASSWORD", "DEMO_PIN", "demo_id", "seed_demo"]
