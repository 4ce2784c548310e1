"""A small SVG of the soak: resident memory of each process and the request rate over time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

WIDTH, HEIGHT, MARGIN = 720, 300, 50
COLOURS = {"server 1": "#1f77b4", "server 2": "#ff7f0e", "worker": "#2ca02c"}


def _polyline(points: list[tuple[float, float]], colour: str, dashed: bool = False) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} points="{path}"/>'


def write_plot(path: Path, samples: list[dict[str, float]], per_second: Counter[int]) -> None:
    """Memory (MiB, left axis) per process and requests/s (dashed, right axis) against time."""
    if not samples:
        return
    end = max(s["t"] for s in samples) or 1.0
    top = max(v for s in samples for k, v in s.items() if k != "t") * 1.15
    seconds = sorted(per_second)[1:-1]
    start = seconds[0] if seconds else 0
    # Requests per 10 s window, as a rate.
    windows: Counter[int] = Counter()
    for second in seconds:
        windows[(second - start) // 10] += per_second[second]
    rates = {w * 10 + 5: n / 10 for w, n in windows.items()}
    rate_top = max(rates.values(), default=1.0) * 1.15

    def x(t: float) -> float:
        return MARGIN + (WIDTH - 2 * MARGIN) * t / end

    def y(value: float, scale: float) -> float:
        return HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * value / scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="black"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="black"/>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 12}" text-anchor="middle">time (s), '
        f"0 to {end:.0f}</text>",
        f'<text x="8" y="{MARGIN - 12}">RSS (MiB), 0 to {top:.0f}</text>',
        f'<text x="{WIDTH - 8}" y="{MARGIN - 12}" text-anchor="end">requests/s (dashed), '
        f"0 to {rate_top:.0f}</text>",
    ]
    for index, (name, colour) in enumerate(COLOURS.items()):
        points = [(x(s["t"]), y(s[name], top)) for s in samples if name in s]
        parts.append(_polyline(points, colour))
        parts.append(
            f'<text x="{MARGIN + 10 + 110 * index}" y="{MARGIN + 14}" fill="{colour}">{name}</text>'
        )
    rate_points = [(x(t), y(r, rate_top)) for t, r in sorted(rates.items()) if t <= end]
    parts.append(_polyline(rate_points, "#555555", dashed=True))
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
