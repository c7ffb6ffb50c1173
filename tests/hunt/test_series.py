"""make-series and the series functions, against hand-computed answers and Kusto's documented example."""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

from vigil.hunt import run_hunt
from vigil.hunt.series import decompose, detect_periods, fit_line, outliers
from vigil.store import Store, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(tmp_path_factory.mktemp("series") / "x.duckdb")
    s.execute("""CREATE TABLE Ev AS SELECT * FROM (VALUES
        (TIMESTAMP '2026-01-01 00:10', 'a', 'x'), (TIMESTAMP '2026-01-01 00:20', 'a', 'y'),
        (TIMESTAMP '2026-01-01 02:05', 'a', 'x'), (TIMESTAMP '2026-01-01 01:30', 'b', 'z'),
        (TIMESTAMP '2026-01-01 05:00', 'b', 'z')) t(T, U, V)""")
    return s


def test_make_series_fills_empty_bins_and_orders_them(store: Store) -> None:
    got = run_hunt(store, "Ev | make-series n = count(), d = dcount(V) default = -1 on T "
                          "from datetime(2026-01-01) to datetime(2026-01-01 04:00) step 1h by U | order by U asc")
    hours = [datetime(2026, 1, 1, h) for h in range(4)]
    assert got.to_pylist() == [
        {"U": "a", "n": [2, 0, 1, 0], "d": [2, -1, 1, -1], "T": hours},
        {"U": "b", "n": [0, 1, 0, 0], "d": [-1, 1, -1, -1], "T": hours}]   # 05:00 is past `to`


def test_make_series_without_range_spans_the_data_from_its_first_bin(store: Store) -> None:
    got = run_hunt(store, "Ev | make-series count() on T step 2h").to_pylist()
    assert got == [{"count_": [3, 1, 1], "T": [datetime(2026, 1, 1, h) for h in (0, 2, 4)]}]


def test_make_series_in_range_includes_the_stop_bin(store: Store) -> None:
    got = run_hunt(store, "Ev | where U == 'b' | make-series count() on T "
                          "in range(datetime(2026-01-01 01:00), datetime(2026-01-01 05:00), 2h)").to_pylist()
    assert got[0]["count_"] == [1, 0, 1]


def test_fit_line_matches_kustos_documented_example() -> None:
    y = np.array([[2, 5, 6, 8, 11, 15, 17, 18, 25, 26, 30, 30]], dtype=float)
    got = fit_line(y)
    assert got["rsquare"][0] == pytest.approx(0.982, abs=1e-3)
    assert got["slope"][0] == pytest.approx(2.730, abs=1e-3)
    assert got["variance"][0] == pytest.approx(98.628, abs=1e-3)
    assert got["rvariance"][0] == pytest.approx(1.686, abs=1e-3)
    assert got["interception"][0] == pytest.approx(-1.666, abs=1e-3)


def test_series_fit_line_tuple_extend_through_kql(store: Store) -> None:
    got = run_hunt(store, "print y = dynamic([1, 3, 5, 7]) | extend (r2, slope, v, rv, b, line) = series_fit_line(y)"
                   ).to_pylist()[0]
    assert (got["slope"], got["b"], got["r2"]) == (2.0, -1.0, 1.0)
    assert json.loads(got["line"]) == [1.0, 3.0, 5.0, 7.0]


def test_period_detection_finds_a_daily_cycle_and_not_noise() -> None:
    rng = np.random.default_rng(7)
    hours = np.arange(24 * 14)
    daily = 10 + 8 * (hours % 24 >= 9) * (hours % 24 < 17) + rng.normal(0, 0.5, len(hours))
    noise = rng.normal(10, 1, len(hours))
    assert list(detect_periods(np.stack([daily, noise]), np.array([0.6, 0.6]))) == [24, 0]


def test_decompose_anomalies_flags_the_spike_in_a_seasonal_series() -> None:
    hours = np.arange(24 * 14)
    y = (10 + 8 * ((hours % 24 >= 9) & (hours % 24 < 17))).astype(float)
    y[200] += 40
    parts = decompose(y[None, :], np.array([-1]), np.array(["linefit"], dtype=object), np.array([0]),
                      np.array([0.6]))
    assert np.allclose(parts["baseline"] + parts["residual"], y)
    score = outliers(parts["residual"], np.array(["ctukey"], dtype=object))[0]
    assert list(np.nonzero(np.abs(score) > 1.5)[0]) == [200]


def test_unnamed_series_decompose_anomalies_names_its_columns_as_kusto(store: Store) -> None:
    got = run_hunt(store, "print s = dynamic([1, 1, 1, 1, 1, 1, 1, 1, 1, 30, 1, 1]) "
                          "| extend series_decompose_anomalies(s, 1.5, 0) "
                          "| mv-expand s to typeof(long), series_decompose_anomalies_s_ad_flag to typeof(long) "
                          "| where series_decompose_anomalies_s_ad_flag == 1 | project s").to_pylist()
    assert got == [{"s": 30}]
