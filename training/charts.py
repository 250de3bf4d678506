"""Metric curves as server-rendered SVG: one chart per metric, one line per run.

The page needs no charting library: each line is an SVG polyline whose points are computed
here, in a fixed viewBox that the browser scales.
"""
from dataclasses import dataclass

from .models import Run, RunMetric

WIDTH, HEIGHT, PAD = 320, 150, 6


@dataclass
class Line:
    label: str
    points: str  # "x,y x,y ..." in the chart's viewBox
    last_value: float


@dataclass
class Chart:
    metric: str
    lines: list[Line]
    low: float
    high: float
    first_step: int
    last_step: int
    width: int = WIDTH
    height: int = HEIGHT


def metric_series(run: Run) -> dict[str, list[tuple[int, float]]]:
    """metric name -> [(step, value), ...] in step order, skipping null (non-finite) values."""
    series: dict[str, list[tuple[int, float]]] = {}
    for step, values in RunMetric.objects.filter(run=run).order_by("step", "id").values_list("step", "values"):
        for name, value in values.items():
            if value is not None:
                series.setdefault(name, []).append((step, value))
    return series


def _scale(value: float, low: float, high: float, size: int, *, flip: bool) -> float:
    share = 0.5 if high == low else (value - low) / (high - low)
    position = PAD + share * (size - 2 * PAD)
    return round(size - position if flip else position, 1)


def build_charts(runs: list[Run]) -> list[Chart]:
    """Charts of every metric any of `runs` reported, sharing axes across runs."""
    by_run = [(str(run), metric_series(run)) for run in runs]
    names = sorted({name for _, series in by_run for name in series})
    charts = []
    for name in names:
        curves = [(label, series[name]) for label, series in by_run if series.get(name)]
        steps = [step for _, curve in curves for step, _ in curve]
        values = [value for _, curve in curves for _, value in curve]
        low, high, first, last = min(values), max(values), min(steps), max(steps)
        lines = [
            Line(
                label=label,
                points=" ".join(
                    f"{_scale(step, first, last, WIDTH, flip=False)},{_scale(value, low, high, HEIGHT, flip=True)}"
                    for step, value in curve
                ),
                last_value=curve[-1][1],
            )
            for label, curve in curves
        ]
        charts.append(Chart(metric=name, lines=lines, low=low, high=high, first_step=first, last_step=last))
    return charts
