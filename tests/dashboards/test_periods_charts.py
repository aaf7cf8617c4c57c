"""Periods in Vietnamese days, the SQL day bucket at the midnight boundary, and the SVG charts'
text alternatives."""

from datetime import date, datetime

from sqlalchemy import DateTime, literal, select

from dashboards.charts import bar_list, nice_ceiling, time_chart
from dashboards.periods import Granularity, Period, PeriodError, local_day, period_from_args, series
from marketplace.extensions import db


def test_a_period_is_bounded_by_local_midnights(app):
    with app.app_context():
        start, end = Period(date(2026, 11, 1), date(2026, 11, 30)).utc_bounds()
    # 00:00 on 1 November in Hà Tĩnh is 17:00 on 31 October UTC.
    assert start == datetime(2026, 10, 31, 17, 0)
    assert end == datetime(2026, 11, 30, 17, 0)


def test_local_day_puts_a_utc_time_on_the_vietnamese_day(app):
    cases = {
        datetime(2026, 11, 30, 16, 59, 59): "2026-11-30",  # 23:59:59 in Vietnam
        datetime(2026, 11, 30, 17, 0, 0): "2026-12-01",  # local midnight
        datetime(2026, 12, 1, 2, 0, 0): "2026-12-01",
    }
    with app.app_context():
        for moment, expected in cases.items():
            value = db.session.scalar(select(local_day(literal(moment, DateTime()))))
            assert value == expected, moment


def test_bad_periods_fall_back_with_a_message(app):
    today = date(2026, 12, 3)
    with app.test_request_context():
        period, error = period_from_args({"tu": "2026-13-01"}, today=today)
        assert error and "2026-11-30" in error
        assert period == Period(date(2026, 11, 4), today)
        period, error = period_from_args({"tu": "2026-12-02", "den": "2026-12-01"}, today=today)
        assert error and period.end == today
        period, error = period_from_args({"ky": "thang-truoc"}, today=today)
        assert error is None and period == Period(date(2026, 11, 1), date(2026, 11, 30))
    try:
        Period(date(2020, 1, 1), date(2026, 1, 1))
    except PeriodError:
        pass
    else:
        raise AssertionError("a period over three years was accepted")


def test_series_fills_quiet_days_and_rolls_up_weeks():
    period = Period(date(2026, 11, 28), date(2026, 12, 3))  # Saturday to Thursday
    daily = series(period, {"2026-11-29": 5, date(2026, 12, 2): 7})
    assert daily == [
        (date(2026, 11, 28), 0),
        (date(2026, 11, 29), 5),
        (date(2026, 11, 30), 0),
        (date(2026, 12, 1), 0),
        (date(2026, 12, 2), 7),
        (date(2026, 12, 3), 0),
    ]
    weekly = series(period, {"2026-11-29": 5, "2026-12-02": 7}, Granularity.WEEK)
    assert weekly == [(date(2026, 11, 23), 5), (date(2026, 11, 30), 7)]


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 1, 7, 11, 23, 240, 260, 999_000)] == [
        1,
        1,
        10,
        20,
        25,
        250,
        500,
        1_000_000,
    ]


def test_charts_carry_a_text_alternative_and_a_table(app):
    with app.test_request_context():
        chart = time_chart(
            "sales",
            "Doanh thu",
            [(date(2026, 12, 1), 150_000), (date(2026, 12, 2), 0), (date(2026, 12, 3), 45_000)],
            value_label="Doanh thu",
            money=True,
        )
        assert 'role="img"' in chart.svg and 'aria-labelledby="sales-t sales-d"' in chart.svg
        assert "195.000" in chart.summary and "01/12/2026" in chart.summary
        assert chart.rows[0] == ["01/12/2026", "150.000\xa0₫"]
        assert chart.svg.count("<rect") == 3
        bars = bar_list(
            "top",
            "Bán chạy",
            [("Cam <bù>", 12), ("Bưởi", 3)],
            value_label="Số lượng",
            label_heading="Sản phẩm",
        )
        assert "Cam &lt;bù&gt;" in bars.svg and "<bù>" not in bars.svg
        assert bars.summary.startswith("Số lượng, đứng đầu: Cam <bù> (12)")
        empty = time_chart("none", "x", [(date(2026, 12, 1), 0)], value_label="Đơn")
        assert "chưa có" in empty.summary
