import re
from server_fixtures import Shop, bearer
from web_fixtures import make_visit, web_login, post_form, csrf_token, send_for_approval, quote_form, STANDARD_LINES

def test_probe(client, shop, app):
    out = []
    # open redirects
    for url in ["/lang/en?next=/%5Cevil.com", "/lang/en?next=/%09/evil.com", "/lang/en?next=%2F%5C%5Cevil.com", "/lang/en?next=/\\/evil.com"]:
        r = client.get(url); out.append((url, r.status_code, r.headers.get("Location")))
    web_login(client, shop, "manager")
    v = make_visit(app, name="=HYPERLINK(\"http://x\")<b>x</b>", plate="京A12345")
    for url in ["/board", f"/visits/{v.visit_id}", f"/customers/{v.customer_id}", "/customers?q=138", "/api/v1/customers?q=1381", "/reports", "/reports/approvals.csv", "/appointments", "/complaints", f"/vehicles/{v.vehicle_id}", "/admin"]:
        r = client.get(url); out.append((url, r.status_code, r.headers.get("Cache-Control"), r.headers.get("Referrer-Policy")))
    # unauth public guessing
    c2 = app.test_client()
    codes = [c2.get(f"/status/{'A'*21}{i%10}").status_code for i in range(60)]
    out.append(("status guessing", set(codes)))
    codes = [c2.get(f"/survey/{'A'*40}{i%10}").status_code for i in range(5)]
    out.append(("survey guessing", set(codes)))
    r = c2.get("/approve/abc"); out.append(("approve bad", r.status_code, r.headers.get("Cache-Control"), r.headers.get("Referrer-Policy")))
    r = c2.get(f"/status/{v.status_token}"); out.append(("status", r.status_code, r.headers.get("Cache-Control"), r.headers.get("Referrer-Policy")))
    for o in out: print(o)
