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
    """Anytime regret, mean ± std over seeds, one column per checkpoint on the report metric, then the
    searched (objective) metric's regret at each checkpoint, then the task's ceiling regret (rows: dataset,
    searcher)."""
    cell = summary.assign(
        value=[f"{m:.3f} ± {s:.3f}" for m, s in zip(summary["mean"], summary["std"].fillna(0), strict=True)],
        objective=[f"{m:.3f}" if pd.notna(m) else "–" for m in summary["objective_mean"]],
    )
    report = cell.pivot(index=["dataset", "searcher"], columns="budget", values="value")
    report.columns = [f"regret@{b}" for b in report.columns]
    searched = cell.pivot(index=["dataset", "searcher"], columns="budget", values="objective")
    searched.columns = [f"objective regret@{b}" for b in searched.columns]
    ceiling = summary.groupby(["dataset", "searcher"])["ceiling_regret"].first().map(_value).rename("ceiling regret")
    return report.join(searched).join(ceiling).reset_index().fillna("–")


def task_scales(final: pd.DataFrame) -> pd.DataFrame:
    """Per task: both metrics' optimum, the report metric's floor, and the ceiling (the report value of the
    objective's best cell) with its regret, which a search that finds the objective's optimum still has."""
    rows = final.groupby("dataset").first()
    return pd.DataFrame(
        {
            "dataset": rows.index,
            "searched": rows["objective_metric"].to_numpy(),
            "its optimum": rows["objective_optimum"].map(_value).to_numpy(),
            "reported": rows["report_metric"].to_numpy(),
            "optimum": rows["optimum"].map(_value).to_numpy(),
            "floor": rows["floor"].map(_value).to_numpy(),
            "ceiling": rows["ceiling"].map(_value).to_numpy(),
            "ceiling regret": rows["ceiling_regret"].map(_value).to_numpy(),
        }
    )


def _value(number: float) -> str:
    return "–" if pd.isna(number) else f"{number:.3f}"


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
