"""Table-1 (anytime regret) and Table-2 (final accuracy and search cost) as Markdown and LaTeX."""

from __future__ import annotations

import pandas as pd

from tnasbench.report.published import TABLE2, protocol_note

LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}  # fmt: skip


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def to_latex(frame: pd.DataFrame, caption: str) -> str:
    """A booktabs table with every cell escaped (strings are written as they are shown in Markdown)."""
    columns = "l" * len(frame.columns)
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        rf"\caption{{{latex_escape(caption)}}}",
        rf"\begin{{tabular}}{{{columns}}}",
        r"\toprule",
        " & ".join(latex_escape(c) for c in frame.columns) + r" \\",
        r"\midrule",
        *[" & ".join(latex_escape(v) for v in row) + r" \\" for row in frame.astype(str).itertuples(index=False)],
        r"\bottomrule",
        r"\end{tabular}",
        r"\end{table}",
        "",
    ]
    return "\n".join(lines)


def table1(summary: pd.DataFrame) -> pd.DataFrame:
    """Anytime regret, mean ± std over seeds, one column per budget (rows: dataset, searcher)."""
    cell = summary.assign(
        value=[f"{m:.3f} ± {s:.3f}" for m, s in zip(summary["mean"], summary["std"].fillna(0), strict=True)]
    )
    wide = cell.pivot(index=["dataset", "searcher"], columns="budget", values="value").reset_index()
    wide.columns = ["dataset", "searcher", *[f"regret@{b}" for b in wide.columns[2:]]]
    return wide.fillna("–")


def table2(final: pd.DataFrame) -> pd.DataFrame:
    """Final accuracy ± std and search cost per dataset and searcher, with the published figure where one exists."""
    grouped = final.groupby(["dataset", "searcher"])
    rows = []
    for (dataset, searcher), frame in grouped:
        published = TABLE2.get((dataset, searcher))
        kind = "/".join(sorted(frame["cost_kind"].unique()))
        spread = frame["accuracy"].std(ddof=1) if len(frame) > 1 else 0.0
        rows.append(
            {
                "dataset": dataset,
                "searcher": searcher,
                "seeds": len(frame),
                "accuracy": f"{frame['accuracy'].mean():.2f} ± {spread:.2f}",
                "search cost (hours)": f"{frame['cost_seconds'].mean() / 3600:.3g} ({kind})",
                "published accuracy": f"{published[2]:.2f} ± {published[3]:.2f}" if published else "–",
                "published GPU-days": f"{published[1]:.2f}" if published else "–",
                "protocol matches": protocol_note(
                    frame["objective_metric"].iloc[0], frame["report_metric"].iloc[0], frame["evaluations"].mean()
                )
                if published
                else "–",
            }
        )
    return pd.DataFrame(rows)
