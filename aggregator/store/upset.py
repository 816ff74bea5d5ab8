"""The overlap of platforms as an UpSet chart (upsetplot on matplotlib), drawn to SVG.

Optional: ``pip install '.[charts]'``. Without it the reports page shows the same figures as a
table of platform combinations.
"""

from __future__ import annotations

import io
import threading
import warnings

#: matplotlib's pyplot state is global: one chart drawn at a time.
_DRAWING = threading.Lock()


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
        import upsetplot  # noqa: F401
    except ImportError:
        return False
    return True


def upset_svg(combinations: dict[tuple[str, ...], int], platforms: list[str]) -> str:
    """An SVG UpSet chart of shops per exact set of platforms, with a French title."""
    import matplotlib

    matplotlib.use("Agg")  # no display: draw to a file
    import matplotlib.pyplot as plt
    import upsetplot

    names = sorted(platforms)
    combos = list(combinations)
    with _DRAWING, warnings.catch_warnings():
        # upsetplot 0.9 calls pandas in ways pandas now deprecates: its problem, not the page's.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        data = upsetplot.from_memberships(
            [list(combo) for combo in combos], data=[combinations[c] for c in combos]
        )
        data = data.reorder_levels([n for n in names if n in data.index.names])
        matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, accessible
        figure = plt.figure(figsize=(10, 5))
        try:
            axes = upsetplot.UpSet(
                data, sort_by="cardinality", subset_size="sum", show_counts=False
            ).plot(fig=figure)
            # Counts written by matplotlib itself: upsetplot's own labels fail on matplotlib 3.10.
            for name in ("intersections", "totals"):
                for bars in axes[name].containers:
                    axes[name].bar_label(bars, fmt="%d", padding=2)
            axes["intersections"].set_ylabel("Commerces")
            axes["totals"].set_xlabel("Commerces")
            figure.suptitle("Commerces par ensemble exact de plateformes")
            out = io.StringIO()
            figure.savefig(out, format="svg", bbox_inches="tight")
        finally:
            plt.close(figure)
    return out.getvalue()
