"""The drawings and the font the code reads, shipped inside the installed package.

``assets/diagram`` holds the car drawings (SVG for the web, PNG for the tablet and the
check-in sheet) and ``assets/fonts`` the CJK font (WenQuanYi Micro Hei, Apache-2.0).
Every reader goes through :func:`shared.resources.asset_path`, so an installed wheel
works exactly as a checkout does.
"""
