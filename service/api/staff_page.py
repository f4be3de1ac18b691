"""HTML of the staff page: plain server-rendered markup, no build step, no JavaScript."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from service.domain.pickups import PickupState

STYLE = """
body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c1e21}
header{background:#0b3d2e;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:center}
header h1{font-size:18px;margin:0;flex:1} header form{margin:0}
main{padding:20px;max-width:1100px;margin:auto}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{padding:10px;border-bottom:1px solid #e3e5e8;text-align:left;vertical-align:top}
.status{font-weight:600;text-transform:uppercase;font-size:13px}
.booked{color:#8a5a00}.ready{color:#0b6e4f}.collected{color:#555}.cancelled,.no_show{color:#a11}
.msg{padding:10px 14px;border-radius:6px;margin-bottom:16px;background:#e7f5ee}
.msg.error{background:#fdecea} input,button,select{font:inherit;padding:6px 10px}
button{background:#0b3d2e;color:#fff;border:0;border-radius:4px;cursor:pointer}
.login{max-width:420px;margin:80px auto;background:#fff;padding:24px;border-radius:8px}
"""


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def login_page(error: str | None = None) -> str:
    note = f"<p class='msg error' role=alert>{escape(error)}</p>" if error else ""
    return page(
        "Staff sign-in",
        "<div class=login><h1>Store staff</h1>"
        f"{note}<form method=post action='/staff/login'>"
        "<label>API key<br><input name=api_key type=password autocomplete=off required size=40></label>"
        "<p><button type=submit>Sign in</button></p></form></div>",
    )


def pickups_page(
    store_name: str,
    location_id: str,
    timezone: str,
    day: str,
    pickups: list[PickupState],
    locations: list[tuple[str, str]],
    message: str | None,
    error: bool,
) -> str:
    zone = ZoneInfo(timezone)
    rows = (
        "".join(_row(p, zone) for p in pickups) or "<tr><td colspan=6>No pickups today.</td></tr>"
    )
    note = (
        f"<p class='msg{' error' if error else ''}' role=status>{escape(message)}</p>"
        if message
        else ""
    )
    switch = ""
    if len(locations) > 1:
        options = "".join(
            f"<option value='{escape(lid)}'{' selected' if lid == location_id else ''}>{escape(name)}</option>"
            for lid, name in locations
        )
        switch = f"<form method=get action='/staff'><select name=location onchange='this.form.submit()'>{options}</select><noscript><button>Go</button></noscript></form>"
    return page(
        f"Pickups · {store_name}",
        f"<header><h1>Pickups · {escape(store_name)} · {escape(day)}</h1>{switch}"
        "<form method=post action='/staff/logout'><button type=submit>Sign out</button></form></header>"
        f"<main>{note}<table><thead><tr><th>Slot</th><th>Pickup</th><th>Customer</th><th>Goods</th>"
        f"<th>Status</th><th>Action</th></tr></thead><tbody>{rows}</tbody></table></main>",
    )


def _row(p: PickupState, zone: ZoneInfo) -> str:
    slot = f"{_local(p.slot_start, zone)}&ndash;{_local(p.slot_end, zone)}"
    goods = "<br>".join(f"{x.quantity} &times; {escape(x.sku)}" for x in p.lines)
    pid = escape(p.pickup_id)
    action = ""
    if p.status == "booked":
        action = f"<form method=post action='/staff/pickups/{pid}/ready'><button type=submit>Mark ready</button></form>"
    elif p.status == "ready":
        action = (
            f"<form method=post action='/staff/pickups/{pid}/collect'>"
            f"<input name=code placeholder='Pickup code' aria-label='Pickup code for {pid}' required size=11 autocomplete=off> "
            "<button type=submit>Hand over</button></form>"
        )
    return (
        f"<tr data-pickup='{pid}'><td>{slot}</td><td>{pid}</td><td>{escape(p.customer.name)}</td>"
        f"<td>{goods}</td><td class='status {p.status}'>{p.status.replace('_', ' ')}</td><td>{action}</td></tr>"
    )


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")
