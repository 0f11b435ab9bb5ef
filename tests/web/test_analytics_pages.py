"""The analytics page in a real browser: the figures it shows are the engine's, over the
range chosen in its form, and a range the engine refuses shows the engine's error.

The ledger is made here through the public Engine: a charge in January, then on two days
of February charges and settled holds of several models (with their latencies), a failed
hold, grants of four sources, a paid pack and two guests, one of whom signs up. The page
is read on 5 March, so its default range (the 30 days up to today) leaves January out.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlalchemy import bindparam, text

from creditgate import Credits, Engine, ManualClock
from creditgate.domain.guests import parse_guest_quotas
from creditgate.storage.types import UtcDateTime
from tests.factories import DAY, HOUR, MINUTE, bought, released, settled
from tests.web.browsing import ACCOUNT, FEATURE, Console

JANUARY = datetime(2026, 1, 10, 9, tzinfo=UTC)
DAY_1 = datetime(2026, 2, 20, 10, tzinfo=UTC)
NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)
DEFAULT_FROM, DEFAULT_TO = date(2026, 2, 4), date(2026, 3, 5)
FIGURES = (
    "spend_by_feature",
    "spend_by_model",
    "generations_by_model",
    "latency_by_model",
    "grants_by_source",
    "revenue_by_pack",
    "top_spenders",
    "guest_conversion",
    "welcome_usage",
)

CELLS = """(key) => [...document.querySelectorAll(`#${key} tbody tr:not(.empty)`)]
  .map((row) => [...row.cells].map((cell) => cell.textContent.trim()))"""


def ledger(engine: Engine, clock: ManualClock) -> None:
    """The test's ledger (see the module docstring), the clock left on `NOW`."""
    clock.set(JANUARY)
    engine.grant(ACCOUNT, 100, source="welcome")
    engine.charge(ACCOUNT, feature="video.generate")
    clock.set(DAY_1)
    guests = parse_guest_quotas([{"uses": 100, "window": "24h"}])
    engine.apply_catalog(replace(engine.export_catalog(), guests=guests))
    engine.set_price(FEATURE, {"rule": "flat", "credits": "4"}, model="flux-pro")
    engine.set_price("video.generate", {"rule": "flat", "credits": "25"}, model="veo")
    engine.create_pack("creator", name="Creator", credits=110, price_minor=1499)
    for account_id in ("user_2", "user_3"):
        engine.create_account(account_id)
    engine.grant("user_2", 50, source="welcome", expires_at=datetime(2026, 3, 1, tzinfo=UTC))
    engine.grant("user_2", 20, source="bonus")
    engine.grant("user_3", 30, source="promo")
    steps: tuple[Callable[[], object], ...] = (
        lambda: engine.charge(ACCOUNT, feature=FEATURE),
        lambda: engine.charge(ACCOUNT, feature=FEATURE, model="flux-pro"),
        lambda: settled(engine, ACCOUNT, FEATURE, "flux-pro", 1200),
        lambda: settled(engine, ACCOUNT, FEATURE, "flux-pro", 800),
        lambda: settled(engine, "user_2", "video.generate", "veo", 9000),
        lambda: released(engine, "user_2", "flux-pro", "timeout"),
    )
    for n, step in enumerate(steps):
        clock.set(DAY_1 + (n + 1) * MINUTE)
        step()
    clock.set(DAY_1 + DAY + 3 * HOUR)
    settled(engine, "user_3", FEATURE, "flux-pro", 1500)
    engine.charge("user_3", feature="video.generate")
    bought(engine, "user_2", "creator", 1499)
    for session in ("sess_1", "sess_2"):
        engine.consume_guest(session, "203.0.113.5")
    engine.link_guest("sess_1", "user_3")
    clock.set(NOW)


def _name(value: str | None) -> str:
    return "(none)" if value is None else value


def texts(*values: object) -> list[str]:
    """Cells as the page writes them: a ratio (a float) as a percentage to one decimal."""
    return [f"{v:.1%}" if isinstance(v, float) else str(v) for v in values]


def expected(engine: Engine, first: date, last: date) -> dict[str, list[list[str]]]:
    """Each figure's table rows as the page should write them, from the engine's figures."""
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    span: Any = {"since": since, "until": until}
    g = engine.guest_conversion(**span)
    w = engine.welcome_usage(**span)
    return {
        "spend_by_feature": [
            [f.day.isoformat(), _name(f.feature), str(f.events), str(f.credits)]
            for f in engine.spend_by_feature(**span)
        ],
        "spend_by_model": [
            [m.day.isoformat(), _name(m.model), str(m.events), str(m.credits)]
            for m in engine.spend_by_model(**span)
        ],
        "generations_by_model": [
            texts(
                _name(m.model),
                m.succeeded,
                m.failed,
                m.released,
                m.refused,
                m.generations,
                m.failure_rate,
            )
            for m in engine.generations_by_model(**span)
        ],
        "latency_by_model": [
            [_name(m.model), str(m.events), str(m.total_ms), f"{m.average_ms:.1f}", str(m.p95_ms)]
            for m in engine.latency_by_model(**span)
        ],
        "grants_by_source": [
            [s.source.value, str(s.grants), str(s.credits)] for s in engine.grants_by_source(**span)
        ],
        "revenue_by_pack": [
            [p.pack, *texts(p.currency, p.purchases, p.gross_minor, p.refunded_minor, p.net_minor)]
            for p in engine.revenue_by_pack(**span)
        ],
        "top_spenders": [
            [a.account_id, str(a.events), str(a.credits)] for a in engine.top_spenders(**span)
        ],
        "guest_conversion": [texts(g.sessions, g.linked, g.rate)],
        "welcome_usage": [texts(w.lots, w.granted, w.spent, w.expired, w.unused, w.spent_share)],
    }


def shown(console: Console) -> dict[str, list[list[str]]]:
    """Each figure's table rows as the page shows them."""
    return {key: console.page.evaluate(CELLS, key) for key in FIGURES}


def sql_sum(engine: Engine, sql: str, first: date, last: date) -> Credits:
    """A sum of credit units over [first 00:00, the day after last 00:00) UTC, by plain SQL."""
    times = (bindparam("since", type_=UtcDateTime()), bindparam("until", type_=UtcDateTime()))
    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    with engine.db.read() as conn:
        found = conn.execute(text(sql).bindparams(*times), {"since": since, "until": until})
        return Credits(int(found.scalar_one()))


def status(console: Console, path: str) -> int:
    """Open `path` in the tab; the status the page was answered with."""
    response = console.page.goto(f"{console.url}{path}")
    assert response is not None
    return response.status


def column_sum(rows: list[list[str]], column: int) -> Credits:
    return Credits(sum(Credits.parse(row[column]).units for row in rows))


def test_the_page_shows_the_engines_figures_for_the_last_30_days(
    console: Console, clock: ManualClock
) -> None:
    engine = console.engine
    ledger(engine, clock)
    console.sign_in()

    console.page.get_by_role("link", name="Analytics").click()

    expect(console.page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    expect(console.page.get_by_label("From (UTC day)")).to_have_value(DEFAULT_FROM.isoformat())
    expect(console.page.get_by_label("To (UTC day, included)")).to_have_value("2026-03-05")
    figures = shown(console)
    assert figures == expected(engine, DEFAULT_FROM, DEFAULT_TO)
    assert figures["spend_by_feature"] == [
        ["2026-02-20", FEATURE, "4", "14"],
        ["2026-02-20", "video.generate", "1", "25"],
        ["2026-02-21", FEATURE, "1", "4"],
        ["2026-02-21", "video.generate", "1", "10"],
    ]
    spent = sql_sum(
        engine,
        "SELECT SUM(credits) FROM usage_events WHERE outcome = 'succeeded'"
        " AND created_at >= :since AND created_at < :until",
        DEFAULT_FROM,
        DEFAULT_TO,
    )
    granted = sql_sum(
        engine,
        "SELECT SUM(amount) FROM entries WHERE kind = 'grant'"
        " AND effective_at >= :since AND effective_at < :until",
        DEFAULT_FROM,
        DEFAULT_TO,
    )
    assert column_sum(figures["spend_by_feature"], 3) == spent == Credits.parse(53)
    assert column_sum(figures["spend_by_model"], 3) == spent
    assert column_sum(figures["grants_by_source"], 2) == granted
    console.screenshot("analytics")


def test_every_figure_has_a_chart_that_names_its_figures(
    console: Console, clock: ManualClock
) -> None:
    ledger(engine := console.engine, clock)
    console.sign_in()

    console.open("/admin/analytics")

    charts = console.page.get_by_role("img")
    expect(charts).to_have_count(len(FIGURES))
    expect(console.page.get_by_role("img", name="Credits spent per day by feature")).to_have_count(
        1
    )
    summary = console.page.locator("#spend_by_feature svg > title").text_content()
    assert (
        summary
        == "Credits spent per day by feature, 2026-02-04 to 2026-03-05: 53 credits in 7 events"
    )
    bars = console.page.locator("#spend_by_feature rect > title").all_text_contents()
    assert bars == [
        f"{f.day.isoformat()} · {f.feature}: {f.credits} credits ({f.events} events)"
        for f in engine.spend_by_feature(since=datetime(2026, 2, 4, tzinfo=UTC), until=NOW)
    ]
    latency = console.page.locator("#latency_by_model rect > title").all_text_contents()
    assert "flux-pro: p95 1500 ms" in latency


def test_the_range_form_changes_the_figures_shown(console: Console, clock: ManualClock) -> None:
    engine = console.engine
    ledger(engine, clock)
    console.sign_in()
    console.open("/admin/analytics")

    console.page.get_by_label("From (UTC day)").fill("2026-01-01")
    console.page.get_by_label("To (UTC day, included)").fill("2026-01-31")
    console.page.get_by_role("button", name="Show").click()

    expect(console.page.get_by_label("From (UTC day)")).to_have_value("2026-01-01")
    figures = shown(console)
    assert figures == expected(engine, date(2026, 1, 1), date(2026, 1, 31))
    assert figures["spend_by_feature"] == [["2026-01-10", "video.generate", "1", "10"]]
    assert figures["top_spenders"] == [[ACCOUNT, "1", "10"]]
    assert figures["latency_by_model"] == []
    expect(console.page.locator("#latency_by_model tbody")).to_have_text("Nothing in this range.")
    expect(console.page.locator("#latency_by_model svg")).to_have_count(0)
    assert console.page.url.endswith("/admin/analytics?from=2026-01-01&to=2026-01-31")


def test_a_range_the_engine_refuses_shows_its_error_and_status(console: Console) -> None:
    console.sign_in()
    console.open("/admin/analytics")

    console.page.get_by_label("From (UTC day)").fill("2026-03-01")
    console.page.get_by_label("To (UTC day, included)").fill("2026-02-01")
    with console.page.expect_navigation() as navigation:
        console.page.get_by_role("button", name="Show").click()

    assert navigation.value.status == 422
    expect(console.page.get_by_role("alert")).to_contain_text("must be after since")
    expect(console.page.locator("section")).to_have_count(0)
    assert status(console, "/admin/analytics?from=2025-01-01&to=2026-03-01") == 422
    expect(console.page.get_by_role("alert")).to_contain_text("at most 366 days")
    assert status(console, "/admin/analytics?from=soon&to=2026-03-01") == 422
    expect(console.page.get_by_role("alert")).to_contain_text("a date such as")


def test_the_page_labels_its_fields_and_fits_a_phone(console: Console, clock: ManualClock) -> None:
    ledger(console.engine, clock)
    console.sign_in()

    assert console.unlabelled("/admin/analytics") == []

    console.page.set_viewport_size({"width": 375, "height": 740})
    console.open("/admin/analytics")
    overflow = console.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    console.screenshot("analytics_phone")


def test_each_figures_download_is_the_csv_the_api_answers(
    console: Console, clock: ManualClock
) -> None:
    ledger(console.engine, clock)
    _, admin = console.engine.create_key("admin", name="csv reader")
    console.sign_in()
    console.open("/admin/analytics")
    since, until = f"{DEFAULT_FROM}T00:00:00Z", f"{DEFAULT_TO + timedelta(days=1)}T00:00:00Z"
    downloads = {}

    for figure in FIGURES:
        with console.page.expect_download() as download:
            console.page.get_by_role("link", name=f"Download {figure}.csv").click()
        downloads[figure] = Path(download.value.path()).read_bytes()
        api = httpx.get(
            f"{console.url}/v1/analytics/{figure}",
            params={"since": since, "until": until},
            headers={"Authorization": f"Bearer {admin}", "Accept": "text/csv"},
        )
        assert downloads[figure] == api.content, figure

    top = console.engine.top_spenders(
        since=datetime.fromisoformat(since), until=datetime.fromisoformat(until)
    )[0]
    assert downloads["top_spenders"].decode().splitlines()[1].startswith(f"{top.account_id},")
    assert status(console, "/admin/analytics/nope.csv?from=2026-01-01&to=2026-01-31") == 422
