"""The benchmark's results as table rows and recorded numbers, and its machine in words."""

from __future__ import annotations

import re


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def timing_rows(bench: dict) -> list[dict]:
    """The rows of ``benchmarks/results/bench_vs_sklearn.json`` as table rows.

    Returns
    -------
    list of dict with ``key`` (a name for recorded numbers, e.g. ``fox_1920x1080_rgb_k3``),
    ``case``, ``colour``, ``k``, ``pixels``, ``distinct``, ``gmm_seconds``, ``sklearn_seconds``
    and ``speedup`` (scikit-learn's time over gmm's, as the benchmark computed it).
    """
    rows = []
    for row in bench["rows"]:
        case, colour = str(row["case"]), str(row["colour"])
        name = _slug(case) if colour in case.split() else f"{_slug(case)}_{colour}"
        rows.append({
            "key": f"{name}_k{int(row['k'])}",
            "case": case,
            "colour": colour,
            "k": int(row["k"]),
            "pixels": int(row["pixels"]),
            "distinct": int(row["distinct_values"]),
            "gmm_seconds": float(row["gmm"]["seconds"]),
            "sklearn_seconds": float(row["sklearn"]["seconds"]),
            "speedup": float(row["speedup"]),
        })
    keys = [r["key"] for r in rows]
    if len(set(keys)) != len(keys):
        raise ValueError(f"benchmark rows do not have distinct case/colour/K: {keys}")
    return rows


def _seconds(value: float) -> str:
    """Seconds to 2 significant digits, in plain notation (0.076, 3.1, 15, 90)."""
    return f"{float(f'{value:.2g}'):g}" if value < 10 else f"{value:.0f}"


def timing_numbers(rows: list[dict], prefix: str = "bench") -> dict:
    """Recordable numbers of :func:`timing_rows`: ``<prefix>_<key>_{speedup,gmm_s,sklearn_s,...}``.

    Speed-ups are rounded to whole numbers and times to 2 significant digits: they are the
    benchmark's recorded measurements, formatted, not remeasured.
    """
    numbers = {}
    for r in rows:
        base = f"{prefix}_{r['key']}"
        numbers[f"{base}_speedup"] = f"{r['speedup']:.0f}"
        numbers[f"{base}_gmm_s"] = _seconds(r["gmm_seconds"])
        numbers[f"{base}_sklearn_s"] = _seconds(r["sklearn_seconds"])
        numbers[f"{base}_pixels"] = f"{r['pixels'] / 1e6:.2f}"
        numbers[f"{base}_distinct"] = r["distinct"]
    speedups = [r["speedup"] for r in rows]
    numbers[f"{prefix}_min_speedup"] = f"{min(speedups):.0f}"
    numbers[f"{prefix}_max_speedup"] = f"{max(speedups):.0f}"
    numbers[f"{prefix}_n_cases"] = len(rows)
    return numbers


def hardware_summary(meta: dict) -> str:
    """The machine of a benchmark run in words, from its ``meta`` block."""
    parts = [str(meta.get("processor") or meta.get("machine", "unknown machine"))]
    if meta.get("cpus"):
        parts.append(f"{meta['cpus']} CPUs")
    versions = [f"{name} {meta[name]}" for name in ("python", "numpy", "scikit-learn") if meta.get(name)]
    return ", ".join(parts + versions)
