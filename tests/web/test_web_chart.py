"""The attention chart's series: a real time axis (every period, zeros included), granularity
from the range, counts and share, stable colours, several queries compared; through the API
on the sample archive and as plain functions."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from fastapi.testclient import TestClient

from arshif.web import chart


def test_periods_cover_the_range_with_no_gaps() -> None:
    for first, last, granularity, count in (
        (date(2025, 9, 1), date(2025, 9, 3), "day", 3),
        (date(2025, 1, 1), date(2025, 12, 31), "week", 53),
        (date(2021, 9, 15), date(2025, 7, 1), "month", 47),
        (date(1900, 1, 1), date(2025, 7, 1), "year", 126),
    ):
        assert chart.granularity_for(first, last) == granularity
        spans = chart.periods(first, last, granularity)
        assert len(spans) == count
        assert spans[0][0] <= first and spans[-1][1] >= last
        assert all((b[0] - a[1]).days == 1 for a, b in zip(spans, spans[1:], strict=False))


def test_three_days_are_three_bars_and_a_gap_is_a_zero() -> None:
    table = {"2025-09-01": {"a": 2}, "2025-09-03": {"a": 1, "b": 4}}
    totals = {"2025-09-01": {"a": 10}, "2025-09-02": {"a": 5}, "2025-09-03": {"a": 5, "b": 5}}
    data = chart.build({"q": table}, totals, date(2025, 9, 1), date(2025, 9, 3), by_outlet=True)
    assert data.values == {"a": [2, 0, 1], "b": [0, 0, 4]}
    assert data.totals == [10, 5, 10] and data.share("b") == [0.0, 0.0, 0.4]


def _fills(svg: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for fill, key in re.findall(r'fill="(#[0-9a-f]{6})" data-key="([^"]+)"', svg):
        found.setdefault(key, set()).add(fill)
    return found


def test_an_outlets_colour_does_not_depend_on_the_other_outlets_shown() -> None:
    catalogue = ["aljazeera", "alarabiya", "bbc-arabic"]
    labels = chart.Labels("t", "x", "y", str, str, str)
    day = date(2025, 9, 1)
    fills = []
    for table in ({"2025-09-01": {"bbc-arabic": 1}},
                  {"2025-09-01": {"aljazeera": 2, "bbc-arabic": 1, "elsewhere": 1}}):  # fmt: skip
        data = chart.build({"q": table}, table, day, day, by_outlet=True)
        svg = chart.svg(data, labels, catalogue, share=False, lines=False,
                        narrow_url=lambda a, b: "/")  # fmt: skip
        fills.append(_fills(svg))
    assert fills[0]["bbc-arabic"] == fills[1]["bbc-arabic"]
    assert len({next(iter(f)) for f in fills[1].values()}) == 3  # all different


def test_nice_ticks_reach_the_top_in_round_steps() -> None:
    assert chart.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert chart.nice_ticks(230) == [0, 100, 200, 300]
    assert chart.nice_ticks(0.3) == [0, 0.1, 0.2, 0.3]


def test_series_api_counts_every_period_and_sums_to_the_total(client: TestClient) -> None:
    params = {"q": "قمة", "since": "2022-09-01", "until": "2022-10-15"}
    total = client.get("/api/search", params=params).json()["total"]
    body = client.get("/api/series", params=params).json()
    assert body["granularity"] == "day" and len(body["periods"]) == 45
    assert body["periods"][0] == ["2022-09-01", "2022-09-01"]
    assert sum(sum(v) for v in body["values"].values()) == total > 0
    assert body["values"]["sample"].count(0) > 30  # days without articles are zeros
    per_period = zip(body["all_articles"], *body["values"].values(), strict=True)
    assert all(every >= sum(matched) for every, *matched in per_period)

    wide = client.get("/api/series", params={"q": "قمة"}).json()
    assert wide["granularity"] in ("week", "month")
    assert (
        sum(wide["values"]["sample"])
        == client.get("/api/search", params={"q": "قمة"}).json()["total"]
    )


def test_series_compares_queries_and_downloads_as_csv(client: TestClient) -> None:
    params = {"q": "بوتين", "compare": ["مودي", "شي"]}
    body = client.get("/api/series", params=params).json()
    assert list(body["values"]) == ["بوتين", "مودي", "شي"]
    for text, values in body["values"].items():
        assert sum(values) == client.get("/api/search", params={"q": text}).json()["total"]
    response = client.get("/api/series", params={**params, "format": "csv"})
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["period_start", "period_end", "بوتين", "مودي", "شي"]
    assert len(rows) == len(body["periods"]) + 1
    bad = client.get("/api/series", params={"q": "بوتين", "compare": "؟؟"})
    assert bad.status_code == 400


def test_page_chart_has_axes_ticks_legend_and_table_in_the_ui_digits(
    client: TestClient,
) -> None:
    arabic = client.get("/", params={"q": "قمة", "since": "2022-09-01", "until": "2022-09-30"})
    html = arabic.text
    assert 'data-granularity="day"' in html and html.count('class="col"') == 2 * 30
    assert "عدد المقالات" in html and "اليوم" in html
    assert "٢٠٢٢/٠٩/٠١" in html and ">2022-09-01<" not in html
    assert 'id="legend"' in html and "أخبار العينة" in html
    assert 'id="chart-data"' in html and "/api/series?" in html
    english = client.get("/", params={"q": "قمة", "since": "2022-09-01", "until": "2022-09-30",
                                      "ui": "en", "measure": "share"}).text  # fmt: skip
    assert "Share of all articles" in english and ">2022-09-01<" in english
    assert "%<" in english  # the y ticks are percentages
