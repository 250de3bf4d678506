"""Geometry for the small server-rendered SVG charts of the dashboard (no JavaScript)."""


def scale(value: float, low: float, high: float, length: float) -> float:
    """Where `value` falls on an axis of `length` pixels from `low` to `high`, clamped."""
    share = (value - low) / (high - low)
    return round(length * min(1.0, max(0.0, share)), 1)


def line_chart(values: list[float | None], *, width: int = 480, height: int = 120, low: float = 0.0, high: float = 1.0) -> dict:
    """SVG coordinates for a line through `values` (None leaves a gap) on [low, high].

    Returns {"width", "height", "segments": [polyline points string, ...], "dots": [(x, y, value)],
    "gridlines": [(y, label)]}; y grows downwards as in SVG.
    """
    step = width / max(1, len(values) - 1) if len(values) > 1 else 0
    segments, current, dots = [], [], []
    for index, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        x = round(index * step if len(values) > 1 else width / 2, 1)
        y = round(height - scale(value, low, high, height), 1)
        current.append(f"{x},{y}")
        dots.append((x, y, value))
    if current:
        segments.append(current)
    gridlines = [(round(height - scale(mark, low, high, height), 1), f"{mark:g}") for mark in _marks(low, high)]
    return {
        "width": width,
        "height": height,
        "segments": [" ".join(points) for points in segments],
        "dots": dots,
        "gridlines": gridlines,
    }


def _marks(low: float, high: float) -> list[float]:
    return [low, round((low + high) / 2, 2), high]
