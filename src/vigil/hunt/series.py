"""KQL's series functions over make-series arrays: ``series_fit_line``, ``series_decompose``,
``series_decompose_anomalies``, ``series_outliers``.

They run as vectorised Arrow UDFs registered on the store's DuckDB instance: DuckDB hands a
batch of series (one list per row); the series of one length are stacked into a matrix and
every step below is numpy over that matrix (a loop over lags or phases, never over rows).

Semantics follow Kusto's documentation:

* ``series_fit_line(y)`` -> ``rsquare, slope, variance, rvariance, interception, line_fit``:
  least squares over x = 1..n; ``variance`` the sample variance of y, ``rvariance`` that of the
  residuals (Kusto's documented example, y = [2,5,6,8,11,15,17,18,25,26,30,30], gives 0.982,
  2.730, 98.628, 1.686, -1.666; tests/hunt/test_series.py checks it).
* ``series_decompose(y, seasonality=-1, trend='avg', test_points=0, threshold=0.6)`` ->
  ``baseline, seasonal, trend, residual``: the seasonal component is the median of the points in
  the same phase of the period; it is removed before the trend (``avg``: the mean; ``linefit``: a
  least-squares line; ``none``); baseline = seasonal + trend; residual = y - baseline. The last
  ``test_points`` are left out of the fitting (forecasting).
* seasonality -1 detects the period: the lag p (4 <= p <= n/2) whose autocorrelation of the
  mean-removed series is highest, if it reaches the threshold, preferring a divisor of p that
  scores within 90 % of it (a period's multiples score alike). Kusto's ``series_periods_detect``
  combines a periodogram with autocorrelation, so on a borderline series the two may disagree on
  whether there is a period.
* ``series_outliers(r, kind)``: Tukey's fences, the 10th/90th percentiles (``ctukey``, Kusto's
  default) or the 25th/75th (``tukey``): the score of a point above the upper percentile is
  (x - Q_hi) / (Q_hi - Q_lo), below the lower one (x - Q_lo) / (Q_hi - Q_lo), else 0. When the
  two percentiles are equal (a flat series) the distance itself is the score, so a spike in a
  flat series still scores by its size rather than dividing by zero.
* ``series_decompose_anomalies(y, threshold=1.5, seasonality=-1, trend='avg', test_points=0,
  method='ctukey', seasonality_threshold=0.6)`` -> ``ad_flag, ad_score, baseline``: the outlier
  score of the decomposition's residual; the flag is +1 above ``threshold``, -1 below
  ``-threshold``, else 0.

Null elements count as 0 (make-series fills empty bins with its default, 0).
"""
from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_F64 = pa.list_(pa.float64())
MIN_PERIOD = 4


def _matrices(series: pa.Array) -> list[tuple[np.ndarray, np.ndarray]]:
    """(row indexes, matrix) for each distinct length among the non-null series."""
    series = _column(series)
    lengths = np.asarray(series.value_lengths().fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    offsets = np.asarray(series.offsets.to_numpy(), dtype=np.int64)
    values = np.nan_to_num(np.asarray(series.values.cast(pa.float64()).to_numpy(zero_copy_only=False),
                                      dtype=np.float64))
    out = []
    for n in np.unique(lengths[lengths > 0]):
        rows = np.nonzero(lengths == n)[0]
        index = offsets[rows][:, None] + np.arange(n)[None, :]
        out.append((rows, values[index]))
    return out


def _column(arg: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arg.combine_chunks() if isinstance(arg, pa.ChunkedArray) else arg


def _lists(rows: int, parts: list[tuple[np.ndarray, np.ndarray]], dtype: pa.DataType) -> pa.Array:
    """A list array of ``rows`` entries: each matrix row at its index, null elsewhere."""
    lengths = np.zeros(rows, dtype=np.int64)
    valid = np.zeros(rows, dtype=bool)
    for idx, matrix in parts:
        lengths[idx] = matrix.shape[1]
        valid[idx] = True
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    flat = np.zeros(int(offsets[-1]), dtype=np.float64)
    for idx, matrix in parts:
        flat[offsets[idx][:, None] + np.arange(matrix.shape[1])[None, :]] = matrix
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat).cast(dtype), mask=pa.array(~valid))


def _fit(y: np.ndarray, fit_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope and intercept over x = 1..fit_n, per row."""
    x = np.arange(1, fit_n + 1, dtype=np.float64)
    yy = y[:, :fit_n]
    xm, ym = x.mean(), yy.mean(axis=1)
    sxx = ((x - xm) ** 2).sum()
    slope = ((yy - ym[:, None]) * (x - xm)[None, :]).sum(axis=1) / sxx if fit_n > 1 else np.zeros(len(y))
    return slope, ym - slope * xm


def fit_line(y: np.ndarray) -> dict[str, np.ndarray]:
    n = y.shape[1]
    slope, intercept = _fit(y, n)
    line = slope[:, None] * np.arange(1, n + 1)[None, :] + intercept[:, None]
    ddof = 1 if n > 1 else 0
    variance = y.var(axis=1, ddof=ddof)
    rvariance = (y - line).var(axis=1, ddof=ddof)
    with np.errstate(divide="ignore", invalid="ignore"):
        sst = ((y - y.mean(axis=1)[:, None]) ** 2).sum(axis=1)
        rsquare = np.where(sst > 0, 1 - ((y - line) ** 2).sum(axis=1) / np.where(sst > 0, sst, 1), 1.0)
    return {"rsquare": rsquare, "slope": slope, "variance": variance, "rvariance": rvariance,
            "interception": intercept, "line_fit": line}


def detect_periods(y: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """The period of each row (0: none), by autocorrelation of the mean-removed series."""
    m, n = y.shape
    best = np.zeros(m, dtype=np.int64)
    top = n // 2
    if top < MIN_PERIOD:
        return best
    d = y - y.mean(axis=1)[:, None]
    power = (d * d).sum(axis=1) / n
    lags = np.arange(MIN_PERIOD, top + 1)
    scores = np.zeros((m, len(lags)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, p in enumerate(lags):
            scores[:, j] = np.where(power > 0, (d[:, :-p] * d[:, p:]).sum(axis=1) / (n - p) / power, 0.0)
    top_score = scores.max(axis=1)
    choice = lags[scores.argmax(axis=1)]
    # a period's multiples score alike: take the smallest divisor scoring within 90 % of the best
    for j, p in enumerate(lags):
        smaller = (choice % p == 0) & (p < choice) & (scores[:, j] >= 0.9 * top_score)
        choice = np.where(smaller, p, choice)
    return np.where(top_score >= threshold, choice, 0)


def decompose(y: np.ndarray, seasonality: np.ndarray, trend: np.ndarray, test_points: np.ndarray,
              threshold: np.ndarray) -> dict[str, np.ndarray]:
    m, n = y.shape
    fit_n = np.clip(n - test_points.astype(np.int64), 1, n)
    seasonal = np.zeros_like(y)
    periods = seasonality.astype(np.int64).copy()
    auto = periods < 0
    for f in np.unique(fit_n[auto]):
        rows = np.nonzero(auto & (fit_n == f))[0]
        periods[rows] = detect_periods(y[rows, :f], threshold[rows].astype(np.float64))
    for p in np.unique(periods[periods > 0]):
        for f in np.unique(fit_n[periods == p]):
            rows = np.nonzero((periods == p) & (fit_n == f))[0]
            phase = np.arange(n) % p
            medians = np.stack([np.median(y[rows, :f][:, k::p], axis=1) if k < f else np.zeros(len(rows))
                                for k in range(p)], axis=1)
            seasonal[rows] = medians[:, phase]
    rest = y - seasonal
    trend_part = np.zeros_like(y)
    for f in np.unique(fit_n):
        rows = np.nonzero(fit_n == f)[0]
        kinds = trend[rows]
        avg = rows[kinds == "avg"]
        trend_part[avg] = rest[avg, :f].mean(axis=1)[:, None]
        line = rows[kinds == "linefit"]
        if len(line):
            slope, intercept = _fit(rest[line], int(f))
            trend_part[line] = slope[:, None] * np.arange(1, n + 1)[None, :] + intercept[:, None]
    baseline = seasonal + trend_part
    return {"baseline": baseline, "seasonal": seasonal, "trend": trend_part, "residual": y - baseline}


def outliers(r: np.ndarray, kinds: np.ndarray, fit_n: np.ndarray | None = None) -> np.ndarray:
    m, n = r.shape
    fit_n = fit_n if fit_n is not None else np.full(m, n)
    low = np.where(kinds == "tukey", 25.0, 10.0)
    q_lo, q_hi = np.zeros(m), np.zeros(m)
    for f in np.unique(fit_n):
        rows = np.nonzero(fit_n == f)[0]
        for lo_p in np.unique(low[rows]):
            sel = rows[low[rows] == lo_p]
            q_lo[sel] = np.percentile(r[sel, :f], lo_p, axis=1)
            q_hi[sel] = np.percentile(r[sel, :f], 100.0 - lo_p, axis=1)
    spread = np.where(q_hi > q_lo, q_hi - q_lo, 1.0)[:, None]
    above = (r - q_hi[:, None]) / spread
    below = (r - q_lo[:, None]) / spread
    return np.where(r > q_hi[:, None], above, np.where(r < q_lo[:, None], below, 0.0))


def _strings(arg: pa.Array, default: str) -> np.ndarray:
    return np.asarray(pc.utf8_lower(_column(arg).fill_null(default)).to_numpy(zero_copy_only=False), dtype=object)


def _numbers(arg: pa.Array, default: float) -> np.ndarray:
    return np.asarray(_column(arg).cast(pa.float64()).fill_null(default).to_numpy(zero_copy_only=False),
                      dtype=np.float64)


def _fit_line_udf(series: pa.Array) -> pa.Array:
    parts = _matrices(series)
    size = len(series)
    results = [(idx, fit_line(y)) for idx, y in parts]
    fields: dict[str, pa.Array] = {}
    for name in ("rsquare", "slope", "variance", "rvariance", "interception"):
        col = np.full(size, np.nan)
        for idx, res in results:
            col[idx] = res[name]
        valid = np.zeros(size, dtype=bool)
        for idx, _ in results:
            valid[idx] = True
        fields[name] = pa.array(col, mask=~valid)
    fields["line_fit"] = _lists(size, [(idx, res["line_fit"]) for idx, res in results], pa.float64())
    return pa.StructArray.from_arrays(list(fields.values()), list(fields))


def _decompose_udf(series: pa.Array, seasonality: pa.Array, trend: pa.Array, test_points: pa.Array,
                   threshold: pa.Array) -> pa.Array:
    size = len(series)
    s, t = _numbers(seasonality, -1), _strings(trend, "avg")
    tp, th = _numbers(test_points, 0), _numbers(threshold, 0.6)
    results = [(idx, decompose(y, s[idx], t[idx], tp[idx], th[idx])) for idx, y in _matrices(series)]
    names = ("baseline", "seasonal", "trend", "residual")
    return pa.StructArray.from_arrays(
        [_lists(size, [(idx, res[n]) for idx, res in results], pa.float64()) for n in names], list(names))


def _anomalies_udf(series: pa.Array, threshold: pa.Array, seasonality: pa.Array, trend: pa.Array,
                   test_points: pa.Array, method: pa.Array, sthreshold: pa.Array) -> pa.Array:
    size = len(series)
    th, s = _numbers(threshold, 1.5), _numbers(seasonality, -1)
    t, tp = _strings(trend, "avg"), _numbers(test_points, 0)
    kind, sth = _strings(method, "ctukey"), _numbers(sthreshold, 0.6)
    flags, scores, baselines = [], [], []
    for idx, y in _matrices(series):
        parts = decompose(y, s[idx], t[idx], tp[idx], sth[idx])
        fit_n = np.clip(y.shape[1] - tp[idx].astype(np.int64), 1, y.shape[1])
        score = outliers(parts["residual"], kind[idx], fit_n)
        limit = th[idx][:, None]
        flags.append((idx, np.where(score > limit, 1, np.where(score < -limit, -1, 0))))
        scores.append((idx, score))
        baselines.append((idx, parts["baseline"]))
    return pa.StructArray.from_arrays(
        [_lists(size, flags, pa.int64()), _lists(size, scores, pa.float64()),
         _lists(size, baselines, pa.float64())], ["ad_flag", "ad_score", "baseline"])


def _outliers_udf(series: pa.Array, kind: pa.Array) -> pa.Array:
    size = len(series)
    k = _strings(kind, "ctukey")
    return _lists(size, [(idx, outliers(y, k[idx])) for idx, y in _matrices(series)], pa.float64())


#: name -> (function, DuckDB parameter types, return type)
UDFS: dict[str, tuple[Callable[..., pa.Array], list[str], str]] = {
    "_vigil_series_fit_line": (_fit_line_udf, ["DOUBLE[]"],
                               "STRUCT(rsquare DOUBLE, slope DOUBLE, variance DOUBLE, rvariance DOUBLE, "
                               "interception DOUBLE, line_fit DOUBLE[])"),
    "_vigil_series_decompose": (_decompose_udf, ["DOUBLE[]", "BIGINT", "VARCHAR", "BIGINT", "DOUBLE"],
                                "STRUCT(baseline DOUBLE[], seasonal DOUBLE[], trend DOUBLE[], residual DOUBLE[])"),
    "_vigil_series_decompose_anomalies": (
        _anomalies_udf, ["DOUBLE[]", "DOUBLE", "BIGINT", "VARCHAR", "BIGINT", "VARCHAR", "DOUBLE"],
        "STRUCT(ad_flag BIGINT[], ad_score DOUBLE[], baseline DOUBLE[])"),
    "_vigil_series_outliers": (_outliers_udf, ["DOUBLE[]", "VARCHAR"], "DOUBLE[]"),
}

#: KQL name -> (defaults of the optional arguments, the SQL calling the UDF), for kqlext and rewrite
KQL_FUNCTIONS: dict[str, tuple[list[str], str]] = {
    "series_fit_line": ([], "to_json(_vigil_series_fit_line(CAST({0} AS DOUBLE[])))"),
    "series_decompose": (["-1", "'avg'", "0", "0.6"],
                         "to_json(_vigil_series_decompose(CAST({0} AS DOUBLE[]), {1}, {2}, {3}, {4}))"),
    "series_decompose_anomalies": (
        ["1.5", "-1", "'avg'", "0", "'ctukey'", "0.6"],
        "to_json(_vigil_series_decompose_anomalies(CAST({0} AS DOUBLE[]), {1}, {2}, {3}, {4}, {5}, {6}))"),
    "series_outliers": (["'ctukey'"], "to_json(_vigil_series_outliers(CAST({0} AS DOUBLE[]), {1}))"),
}
#: the outputs of the functions that return several series, in order (for `extend (a, b) = f(...)`)
OUTPUTS: dict[str, list[tuple[str, bool]]] = {   # (field, is a scalar)
    "series_fit_line": [("rsquare", True), ("slope", True), ("variance", True), ("rvariance", True),
                        ("interception", True), ("line_fit", False)],
    "series_decompose": [("baseline", False), ("seasonal", False), ("trend", False), ("residual", False)],
    "series_decompose_anomalies": [("ad_flag", False), ("ad_score", False), ("baseline", False)],
}


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Register the UDFs on the DuckDB instance (idempotent; functions are shared by its cursors)."""
    have = {r[0] for r in con.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name LIKE '\\_vigil\\_series\\_%' ESCAPE '\\'"
    ).fetchall()}
    for name, (fn, params, returns) in UDFS.items():
        if name in have:
            continue
        try:
            con.create_function(name, fn, params, returns, type="arrow",     # type: ignore[call-overload]
                                null_handling="special", side_effects=False)
        except duckdb.CatalogException:
            pass    # registered by another thread since the check
