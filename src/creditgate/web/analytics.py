"""Analytics: the nine usage figures over a range of UTC days, each a chart over its table.

The range is chosen in a GET form as two UTC days, both included (the last 30 days up to
today by default), and read as [first day 00:00, the day after the last 00:00) UTC. The
engine checks it: a range it refuses shows its error and the API's status instead of the
figures. Reading changes nothing, so the form needs no CSRF token.

Charts are inline SVG drawn here on the server: the console has no build step and fetches
no chart library, and a page of plain HTML prints, zooms and reads without script. The
spends are bars per UTC day of the range (stacked by feature or model, an empty day an
empty slot), the rankings horizontal bars. Each chart's accessible name sums it up, each
bar names its figure in a `<title>` (a tooltip), and the table under the chart holds every
figure as text, so a screen reader (and a test) reads numbers rather than geometry.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, Response

from creditgate.csv_export import MEDIA_TYPE, attachment, models_csv
from creditgate.domain.amounts import Credits
from creditgate.domain.errors import CreditgateError, InvalidInput
from creditgate.engine import Engine
from creditgate.schemas import (
    AccountSpendOut,
    FeatureSpendOut,
    GuestConversionOut,
    ModelGenerationsOut,
    ModelLatencyOut,
    ModelSpendOut,
    Out,
    PackRevenueOut,
    SourceGrantsOut,
    WelcomeUsageOut,
)
from creditgate.web.console import Admin, engine_of, page, refused, router

RANGE_DAYS_DEFAULT = 30
"""Days the page shows when no range is chosen: today and the 29 before it."""
TONES = 8
"""Colours of the bars (`tone-0` ... `tone-7` in console.css); a ninth series reuses the first."""

WIDTH = 640
"""Every chart's width in SVG units; it scales to the page (and to a phone) keeping its shape."""
DAILY_HEIGHT = 200
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 64.0, 8.0, 10.0, 22.0
ROW_HEIGHT = 26.0
BAR_LEFT = 168.0
BAR_SPAN = 300.0
"""The longest horizontal bar: what is left of the width holds its note."""
LABEL_CHARS = 22
"""A ranking's label is cut to this many characters in the chart (the table has it whole)."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One rectangle of a chart, with the figure it stands for as its `<title>`."""

    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    """A line of text on a chart (an axis end, a row's name, a bar's note)."""

    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG chart: its summary (the accessible name), bars, labels and legend."""

    summary: str
    height: float
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    legend: tuple[tuple[str, str], ...]
    width: int = WIDTH


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure's section: a chart (none when the range has nothing) over its table.

    The first `text_columns` columns are names, the rest numbers (aligned right).
    """

    key: str
    title: str
    chart: Chart | None
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text_columns: int


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a horizontal bar chart: segments of (value, title), stacked or side by side."""

    label: str
    segments: tuple[tuple[float, str], ...]
    note: str


Spend = tuple[date, str | None, int, Credits]
"""A row of a spend per day: the day, the feature or model, events and credits."""


def _tone(index: int) -> str:
    return f"tone-{index % TONES}"


def _name(value: str | None) -> str:
    return "(none)" if value is None else value


def _none_first(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")


def _rate(value: float) -> str:
    return f"{value:.1%}"


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else f"{text[: LABEL_CHARS - 1]}…"


def _at(value: float) -> float:
    return round(value, 2)


def daily_chart(summary: str, first: date, last: date, spends: Sequence[Spend]) -> Chart | None:
    """Credits per UTC day from `first` to `last`, each day's bar stacked by key."""
    totals = Counter[date]()
    for day, _, _, credits in spends:
        totals[day] += credits.units
    top = max(totals.values(), default=0)
    if top <= 0:
        return None
    keys = sorted({key for _, key, _, _ in spends}, key=_none_first)
    tone = {key: _tone(i) for i, key in enumerate(keys)}
    plot_width = WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = DAILY_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    base = PLOT_TOP + plot_height
    slot = plot_width / ((last - first).days + 1)
    stacked = Counter[date]()
    bars = []
    for day, key, events, credits in spends:
        height = credits.units / top * plot_height
        y = base - stacked[day] / top * plot_height - height
        stacked[day] += credits.units
        x = PLOT_LEFT + (day - first).days * slot + slot * 0.1
        title = f"{day.isoformat()} · {_name(key)}: {credits} credits ({events} events)"
        bars.append(Bar(_at(x), _at(y), _at(slot * 0.8), _at(height), tone[key], title))
    axis = Bar(PLOT_LEFT, base, plot_width, 1, "axis", "")
    labels = (
        Label(PLOT_LEFT - 6, PLOT_TOP + 8, str(Credits(top)), "end"),
        Label(PLOT_LEFT - 6, base, "0", "end"),
        Label(PLOT_LEFT, DAILY_HEIGHT - 4, first.isoformat()),
        Label(WIDTH - PLOT_RIGHT, DAILY_HEIGHT - 4, last.isoformat(), "end"),
    )
    legend = tuple((tone[key], _name(key)) for key in keys)
    return Chart(summary, DAILY_HEIGHT, (axis, *bars), labels, legend)


def ranking_chart(
    summary: str,
    rows: Sequence[Row],
    legend: Sequence[str] = (),
    *,
    is_stacked: bool = True,
) -> Chart | None:
    """Horizontal bars, one row each: segments stacked end to end, or one under another."""
    if is_stacked:
        top = max((sum(v for v, _ in row.segments) for row in rows), default=0.0)
    else:
        top = max((v for row in rows for v, _ in row.segments), default=0.0)
    if top <= 0:
        return None
    bars: list[Bar] = []
    labels: list[Label] = []
    for i, row in enumerate(rows):
        y = 4 + i * ROW_HEIGHT
        middle = y + ROW_HEIGHT / 2 + 4
        x = end = BAR_LEFT
        thickness = (ROW_HEIGHT - 8) / (1 if is_stacked else len(row.segments))
        for j, (value, title) in enumerate(row.segments):
            width = max(0.0, value) / top * BAR_SPAN
            top_y = y + 4 + (0 if is_stacked else j * thickness)
            bars.append(Bar(_at(x), _at(top_y), _at(width), _at(thickness), _tone(j), title))
            end = max(end, x + width)
            if is_stacked:
                x += width
        labels.append(Label(BAR_LEFT - 6, _at(middle), _cut(row.label), "end"))
        labels.append(Label(_at(end + 6), _at(middle), row.note))
    height = 8 + len(rows) * ROW_HEIGHT
    key = tuple((_tone(j), name) for j, name in enumerate(legend))
    return Chart(summary, height, tuple(bars), tuple(labels), key)


def _spends(
    title: str, key: str, column: str, first: date, last: date, spends: Sequence[Spend]
) -> Figure:
    total = Credits(sum(credits.units for *_, credits in spends))
    events = sum(n for _, _, n, _ in spends)
    summary = f"{title}, {first} to {last}: {total} credits in {events} events"
    return Figure(
        key=key,
        title=title,
        chart=daily_chart(summary, first, last, spends),
        columns=("Day", column.capitalize(), "Events", "Credits"),
        rows=tuple((d.isoformat(), _name(k), str(n), str(c)) for d, k, n, c in spends),
        text_columns=2,
    )


def figures(engine: Engine, first: date, last: date) -> list[Figure]:
    """The nine figures over the UTC days [first, last], as charts and tables.

    Raises:
        InvalidInput: the engine refuses the range (the last day before the first, or
            more than ANALYTICS_RANGE_MAX).
    """
    since = datetime.combine(first, time(), UTC)
    until = datetime.combine(last + timedelta(days=1), time(), UTC)
    by_feature = [
        (f.day, f.feature, f.events, f.credits)
        for f in engine.spend_by_feature(since=since, until=until)
    ]
    by_model = [
        (m.day, m.model, m.events, m.credits)
        for m in engine.spend_by_model(since=since, until=until)
    ]
    spends = (
        _spends(
            "Credits spent per day by feature",
            "spend_by_feature",
            "feature",
            first,
            last,
            by_feature,
        ),
        _spends("Credits spent per day by model", "spend_by_model", "model", first, last, by_model),
    )
    makers: tuple[Callable[[Engine, datetime, datetime], Figure], ...] = (
        _generations,
        _latency,
        _grants,
        _revenue,
        _top_spenders,
        _guests,
        _welcome,
    )
    return [*spends, *(make(engine, since, until) for make in makers)]


OUTCOMES = ("Succeeded", "Failed", "Released", "Refused")


def _generations(engine: Engine, since: datetime, until: datetime) -> Figure:
    found = engine.generations_by_model(since=since, until=until)
    rows = [
        Row(
            _name(g.model),
            tuple(
                (n, f"{_name(g.model)}: {n} {outcome.lower()}")
                for n, outcome in zip(
                    (g.succeeded, g.failed, g.released, g.refused), OUTCOMES, strict=True
                )
            ),
            f"{g.generations} generations, {_rate(g.failure_rate)} failed",
        )
        for g in found
    ]
    generations = sum(g.generations for g in found)
    failed = sum(g.failed for g in found)
    title = "Generations and failure rate by model"
    summary = f"{title}: {generations} generations, {failed} failed"
    return Figure(
        key="generations_by_model",
        title=title,
        chart=ranking_chart(summary, rows, OUTCOMES),
        columns=("Model", *OUTCOMES, "Generations", "Failure rate"),
        rows=tuple(
            (
                _name(g.model),
                *(str(n) for n in (g.succeeded, g.failed, g.released, g.refused)),
                str(g.generations),
                _rate(g.failure_rate),
            )
            for g in found
        ),
        text_columns=1,
    )


def _latency(engine: Engine, since: datetime, until: datetime) -> Figure:
    found = engine.latency_by_model(since=since, until=until)
    rows = [
        Row(
            _name(m.model),
            (
                (m.average_ms, f"{_name(m.model)}: average {m.average_ms:.1f} ms"),
                (float(m.p95_ms), f"{_name(m.model)}: p95 {m.p95_ms} ms"),
            ),
            f"{m.average_ms:.0f} / {m.p95_ms} ms",
        )
        for m in found
    ]
    title = "Latency by model (successful events)"
    summary = f"{title}: average and p95 of {sum(m.events for m in found)} timed events"
    return Figure(
        key="latency_by_model",
        title=title,
        chart=ranking_chart(summary, rows, ("Average", "p95"), is_stacked=False),
        columns=("Model", "Events", "Total ms", "Average ms", "p95 ms"),
        rows=tuple(
            (_name(m.model), str(m.events), str(m.total_ms), f"{m.average_ms:.1f}", str(m.p95_ms))
            for m in found
        ),
        text_columns=1,
    )


def _grants(engine: Engine, since: datetime, until: datetime) -> Figure:
    found = engine.grants_by_source(since=since, until=until)
    rows = [
        Row(
            g.source.value,
            ((g.credits.units, f"{g.source.value}: {g.credits} credits in {g.grants} grants"),),
            f"{g.credits} credits",
        )
        for g in found
    ]
    title = "Credits granted by source"
    total = Credits(sum(g.credits.units for g in found))
    return Figure(
        key="grants_by_source",
        title=title,
        chart=ranking_chart(f"{title}: {total} credits in all", rows),
        columns=("Source", "Grants", "Credits"),
        rows=tuple((g.source.value, str(g.grants), str(g.credits)) for g in found),
        text_columns=1,
    )


def _revenue(engine: Engine, since: datetime, until: datetime) -> Figure:
    found = engine.revenue_by_pack(since=since, until=until)
    rows = [
        Row(
            f"{p.pack} · {p.currency}",
            (
                (p.net_minor, f"{p.pack} · {p.currency}: {p.net_minor} net"),
                (p.refunded_minor, f"{p.pack} · {p.currency}: {p.refunded_minor} refunded"),
            ),
            f"{p.gross_minor} gross",
        )
        for p in found
    ]
    title = "Revenue by pack (minor units of each currency)"
    summary = f"{title}: {sum(p.purchases for p in found)} paid purchases"
    return Figure(
        key="revenue_by_pack",
        title=title,
        chart=ranking_chart(summary, rows, ("Net", "Refunded")),
        columns=("Pack", "Currency", "Purchases", "Gross", "Refunded", "Net"),
        rows=tuple(
            (
                p.pack,
                p.currency,
                str(p.purchases),
                str(p.gross_minor),
                str(p.refunded_minor),
                str(p.net_minor),
            )
            for p in found
        ),
        text_columns=2,
    )


def _top_spenders(engine: Engine, since: datetime, until: datetime) -> Figure:
    found = engine.top_spenders(since=since, until=until)
    rows = [
        Row(
            a.account_id,
            ((a.credits.units, f"{a.account_id}: {a.credits} credits in {a.events} events"),),
            f"{a.credits} credits",
        )
        for a in found
    ]
    title = "Top spenders"
    return Figure(
        key="top_spenders",
        title=title,
        chart=ranking_chart(f"{title}: the {len(found)} accounts that spent the most", rows),
        columns=("Account", "Events", "Credits"),
        rows=tuple((a.account_id, str(a.events), str(a.credits)) for a in found),
        text_columns=1,
    )


def _guests(engine: Engine, since: datetime, until: datetime) -> Figure:
    g = engine.guest_conversion(since=since, until=until)
    title = "Guest to sign-up conversion"
    row = Row(
        "Guest sessions",
        (
            (g.linked, f"{g.linked} signed up"),
            (g.sessions - g.linked, f"{g.sessions - g.linked} did not sign up"),
        ),
        f"{_rate(g.rate)} signed up",
    )
    summary = f"{title}: {g.linked} of {g.sessions} guest sessions signed up"
    return Figure(
        key="guest_conversion",
        title=title,
        chart=ranking_chart(summary, [row], ("Signed up", "Not signed up")),
        columns=("Sessions", "Signed up", "Rate"),
        rows=((str(g.sessions), str(g.linked), _rate(g.rate)),),
        text_columns=0,
    )


def _welcome(engine: Engine, since: datetime, until: datetime) -> Figure:
    w = engine.welcome_usage(since=since, until=until)
    title = "Welcome credits used"
    parts = (("spent", w.spent), ("expired", w.expired), ("unused", w.unused))
    row = Row(
        "Welcome credits",
        tuple((c.units, f"{c} {name}") for name, c in parts),
        f"{_rate(w.spent_share)} spent",
    )
    summary = f"{title}: {w.spent} of {w.granted} credits of {w.lots} welcome lots spent"
    return Figure(
        key="welcome_usage",
        title=title,
        chart=ranking_chart(summary, [row], ("Spent", "Expired", "Unused")),
        columns=("Lots", "Granted", "Spent", "Expired", "Unused", "Spent share"),
        rows=(
            (
                str(w.lots),
                str(w.granted),
                *(str(c) for _, c in parts),
                _rate(w.spent_share),
            ),
        ),
        text_columns=0,
    )


def _day(value: str, field: str) -> date:
    """A day from the form (`2026-01-31`).

    Raises:
        InvalidInput: not a date in that form.
    """
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field=field, reason="a date such as 2026-01-31") from None


@router.get("/analytics")
def analytics(
    request: Request,
    session: Admin,
    first: str = Query("", alias="from"),
    last: str = Query("", alias="to"),
) -> HTMLResponse:
    """The figures over the chosen UTC days, both included (by default the last 30)."""
    engine = engine_of(request)
    today = engine.clock.now().astimezone(UTC).date()
    context: dict[str, object] = {
        "first": first or (today - timedelta(days=RANGE_DAYS_DEFAULT - 1)).isoformat(),
        "last": last or today.isoformat(),
        "figures": [],
        "error": None,
    }
    try:
        start = _day(str(context["first"]), "from")
        end = _day(str(context["last"]), "to")
        context["figures"] = figures(engine, start, end)
    except CreditgateError as error:
        context["error"] = error
        return page(request, "analytics.html", session, context)
    return page(request, "analytics.html", session, context)


Export = Callable[[Engine, datetime, datetime], tuple[type[Out], Sequence[Out] | Out]]

EXPORTS: dict[str, Export] = {
    "spend_by_feature": lambda e, s, u: (
        FeatureSpendOut,
        [FeatureSpendOut.of(f) for f in e.spend_by_feature(since=s, until=u)],
    ),
    "spend_by_model": lambda e, s, u: (
        ModelSpendOut,
        [ModelSpendOut.of(f) for f in e.spend_by_model(since=s, until=u)],
    ),
    "generations_by_model": lambda e, s, u: (
        ModelGenerationsOut,
        [ModelGenerationsOut.of(f) for f in e.generations_by_model(since=s, until=u)],
    ),
    "latency_by_model": lambda e, s, u: (
        ModelLatencyOut,
        [ModelLatencyOut.of(f) for f in e.latency_by_model(since=s, until=u)],
    ),
    "grants_by_source": lambda e, s, u: (
        SourceGrantsOut,
        [SourceGrantsOut.of(f) for f in e.grants_by_source(since=s, until=u)],
    ),
    "revenue_by_pack": lambda e, s, u: (
        PackRevenueOut,
        [PackRevenueOut.of(f) for f in e.revenue_by_pack(since=s, until=u)],
    ),
    "top_spenders": lambda e, s, u: (
        AccountSpendOut,
        [AccountSpendOut.of(f) for f in e.top_spenders(since=s, until=u)],
    ),
    "guest_conversion": lambda e, s, u: (
        GuestConversionOut,
        GuestConversionOut.of(e.guest_conversion(since=s, until=u)),
    ),
    "welcome_usage": lambda e, s, u: (
        WelcomeUsageOut,
        WelcomeUsageOut.of(e.welcome_usage(since=s, until=u)),
    ),
}
"""Each figure as the API's wire models, for the CSV the API itself would answer."""


@router.get("/analytics/{figure}.csv", response_model=None)
def analytics_csv(
    request: Request,
    session: Admin,
    figure: str,
    first: str = Query("", alias="from"),
    last: str = Query("", alias="to"),
) -> Response:
    """One figure over the chosen UTC days as CSV: the same bytes as the API's `text/csv`."""
    export = EXPORTS.get(figure)
    if export is None:
        return refused(
            request, InvalidInput(field="figure", reason=f"one of: {', '.join(EXPORTS)}")
        )
    try:
        start = _day(first, "from")
        end = _day(last, "to")
        out, found = export(
            engine_of(request),
            datetime.combine(start, time(), UTC),
            datetime.combine(end + timedelta(days=1), time(), UTC),
        )
    except CreditgateError as error:
        return refused(request, error)
    return Response(models_csv(out, found), media_type=MEDIA_TYPE, headers=attachment(figure))
