"""Tableau de bord: the supervisors' charts (aging by bucket and by agent, DSO, recovery,
broken promises by month, each agent's last seven days).

Amounts are drawn in euros only: files in another currency are counted and named under
the charts, never added unconverted. Every chart prints its figures in a table too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from adapters.bootstrap import Runtime
from adapters.infra.accounts import CAN_SEE_DASHBOARD
from projections import french
from projections.queries import BUCKETS
from projections.trends import RECOVERY_DAYS, TrendReads
from web import charts
from web.auth import require_role
from web.dependencies import get_runtime
from web.live import people_names
from web.work import BUCKET_LABELS

router = APIRouter()
CURRENCY = "EUR"
MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc.")
ACTIVITY_DAYS = 7


def month_label(day: date) -> str:
    """« nov. 2026 »."""
    return f"{MONTHS[day.month - 1]} {day.year}"


def euros(value: Decimal) -> str:
    """An amount in euros, without cents (chart axes)."""
    return french.money(value.quantize(Decimal("1")), CURRENCY).replace(",00", "")


def days(value: Decimal) -> str:
    """A number of days, « 45 j »."""
    return f"{value.quantize(Decimal('1'))} j"


def share(value: Decimal) -> str:
    """A percentage, « 12,50 % »."""
    return french.percent(value)


def figures(runtime: Runtime, day: date) -> dict[str, Any]:
    """Everything the dashboard shows on `day`, remembered until a fact changes the views."""
    trends = TrendReads(runtime.views)

    def compute() -> dict[str, Any]:
        return {"currencies": trends.currencies(), "dso": trends.dso(day, CURRENCY),
                "recovery": trends.recovery(day, CURRENCY), "promises": trends.promises(day),
                "activity": trends.activity(day, ACTIVITY_DAYS),
                "aging": [row for row in runtime.reads.aging(day) if row.currency == CURRENCY],
                "aging_by_agent": [row for row in runtime.reads.aging(day, by="agent")
                                   if row.currency == CURRENCY]}

    return runtime.reads.as_of_position(
        ("dashboard", day, runtime.views.position("trends")), compute)


def build_charts(data: dict[str, Any], names: dict[str, str]) -> dict[str, charts.Chart]:
    """The charts of the figures."""
    parts = [BUCKET_LABELS[b] for b in BUCKETS]
    total = data["aging"][0].buckets if data["aging"] else dict.fromkeys(BUCKETS, Decimal(0))
    by_agent = [(names.get(row.key, row.key) if row.key else "à attribuer",
                 [row.buckets[b] for b in BUCKETS]) for row in data["aging_by_agent"]]
    months = [month_label(p.end) for p in data["dso"]]
    short = [MONTHS[p.end.month - 1] for p in data["dso"]]
    recovery = {f"sous {n} j": [p.share(n) for p in data["recovery"]] for n in RECOVERY_DAYS}
    activity = data["activity"]
    return {
        "aging": charts.columns("Encours par ancienneté (EUR)", parts,
                                [total[b] for b in BUCKETS], euros),
        "aging_by_agent": charts.stacked_rows("Encours par agent et par ancienneté (EUR)",
                                              by_agent, parts, euros),
        "dso": charts.columns("DSO à la fin de chaque mois", months,
                              [p.dso for p in data["dso"]], days, fill=charts.PALETTE[4],
                              ticks=short),
        "recovery": charts.lines("Part de l'impayé de chaque mois recouvrée",
                                 [month_label(p.month) for p in data["recovery"]], recovery,
                                 share, top=Decimal(100), ticks=short),
        "promises": charts.columns("Promesses non tenues, par mois de la date promise",
                                   [month_label(p.month) for p in data["promises"]],
                                   [p.rate for p in data["promises"]], share,
                                   fill=charts.PALETTE[3], top=Decimal(100), ticks=short),
        "activity": charts.stacked_rows(
            f"Activité des {ACTIVITY_DAYS} derniers jours",
            [(names.get(a.actor, a.actor), [Decimal(a.calls), Decimal(a.promises),
                                            Decimal(a.emails)]) for a in activity],
            ["appels", "promesses", "e-mails"], lambda v: str(v.quantize(Decimal("1"))),
            counts=True),
    }


@router.get("/tableau-de-bord", response_class=HTMLResponse, name="dashboard",
            dependencies=[Depends(require_role(*CAN_SEE_DASHBOARD))])
def dashboard(request: Request,
              runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    """The supervisors' charts, each with its figures in a table."""
    day = runtime.today()
    data = figures(runtime, day)
    names = people_names(runtime)
    others = {c: n for c, n in data["currencies"].items() if c != CURRENCY}
    return request.app.state.templates.TemplateResponse(
        request, "dashboard.html",
        {"day": day, "data": data, "charts": build_charts(data, names), "names": names,
         "others": others, "buckets": BUCKETS, "bucket_labels": BUCKET_LABELS,
         "recovery_days": RECOVERY_DAYS, "month_label": month_label,
         "activity_days": ACTIVITY_DAYS})
