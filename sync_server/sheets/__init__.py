"""Printable documents the shop hands to customers (the check-in sheet, 接车单)."""
