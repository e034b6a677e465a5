import pandas as pd
import pytest

from tnasbench.report.anytime import final_regret_table, markdown_table, regret_curves
from tnasbench.report.stats import regret_at_budgets, summary_with_ci
from tnasbench.report.tables import table1


def frame(rows):
    columns = [
        "trial",
        "dataset",
        "searcher",
        "seed",
        "budget_evaluations",
        "report_metric",
        "step",
        "regret",
        "cost_seconds",
        "optimum",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    # the searched metric here is the report metric itself: objective regret equals regret
    return frame.assign(
        objective_metric=frame["report_metric"],
        epochs=200,
        objective=frame["optimum"] - frame["regret"],
        floor=frame["optimum"] - 80.0,
        objective_optimum=frame["optimum"],
        ceiling=frame["optimum"],
    )


@pytest.fixture
def observations():
    return frame(
        [
            ("a", "cifar10", "rs", 0, 3, "test@200", 1, 5.0, 10.0, 94.0),
            ("a", "cifar10", "rs", 0, 3, "test@200", 2, 3.0, 10.0, 94.0),
            ("a", "cifar10", "rs", 0, 3, "test@200", 3, 1.0, 10.0, 94.0),
            ("b", "cifar10", "rs", 1, 3, "test@200", 1, 4.0, 20.0, 94.0),
            ("b", "cifar10", "rs", 1, 3, "test@200", 2, 2.0, 20.0, 94.0),  # stopped early (seconds budget)
            ("c", "cifar10", "ls", 0, 3, "test@200", 1, 2.0, 5.0, 94.0),
            ("c", "cifar10", "ls", 0, 3, "test@200", 2, 0.0, 5.0, 94.0),
            ("c", "cifar10", "ls", 0, 3, "test@200", 3, 0.0, 5.0, 94.0),
        ]
    )


def test_curves_pad_short_trials_with_their_last_regret(observations):
    curves = regret_curves(observations)
    assert len(curves) == 9
    b = curves[curves["trial"] == "b"].set_index("step")
    assert b.loc[3, "regret"] == 2.0 and b.loc[3, "cumulative_cost"] == 40.0


def test_final_table_by_hand(observations):
    table = final_regret_table(observations).set_index("searcher")
    assert table.loc["rs", "regret_mean"] == pytest.approx(1.5)  # (1 + 2) / 2
    assert table.loc["rs", "regret_std"] == pytest.approx(0.7071, abs=1e-4)
    assert table.loc["rs", "accuracy_mean"] == pytest.approx(92.5)
    assert table.loc["ls", "regret_mean"] == 0.0 and table.loc["ls", "trials"] == 1
    assert "| cifar10 | rs | 2 |" in markdown_table(final_regret_table(observations))


def test_table1_compares_at_fractions_of_the_suite_budget_on_both_metrics():
    rows = [
        (f"t{k}", "cifar10", "rs", k, 30, "test@200", s, 30.0 - s + k, 1.0, 94.0) for k in (0, 2) for s in range(1, 31)
    ]
    at = regret_at_budgets(regret_curves(frame(rows)))
    table = table1(summary_with_ci(at))
    regret = [f"regret@{b}" for b in (3, 8, 15, 30)]
    objective = [f"objective regret@{b}" for b in (3, 8, 15, 30)]
    assert list(table.columns) == ["dataset", "searcher", *regret, *objective, "ceiling regret"]
    assert table.loc[0, "regret@30"] == "1.000 ± 1.414"  # the final budget is compared: seeds at 0 and 2
    assert table.loc[0, "objective regret@30"] == "1.000"
    assert table.loc[0, "ceiling regret"] == "0.000"  # searched on the report metric itself: no val/test gap
    gap = frame(rows).assign(ceiling=93.5)  # the searched metric's best cell scores 93.5 on the report metric
    assert table1(summary_with_ci(regret_at_budgets(regret_curves(gap)))).loc[0, "ceiling regret"] == "0.500"
    assert at.loc[at["budget"] == 30, "normalised_regret"].tolist() == pytest.approx([0.0, 2 / 80])


def test_regret_axes_are_symlog_from_zero_across_decades_and_linear_within_one_far_from_zero():
    import matplotlib.pyplot as plt
    import pandas as pd

    from tnasbench.report.figures import _regret_axis

    closing, live = plt.subplots(1, 2)[1]
    _regret_axis(closing, pd.Series([5.0, 0.4, 0.0]))  # a search that reaches the optimum
    _regret_axis(live, pd.Series([26.3, 22.0, 21.6]))  # regret from 100 % on a live task
    assert closing.get_yscale() == "symlog" and closing.get_ylim()[0] == 0
    assert live.get_yscale() == "linear"
    plt.close("all")


def test_a_symlog_regret_axis_turns_linear_at_the_tasks_own_scale():
    import pandas as pd

    from tnasbench.report.figures import linear_below

    assert linear_below(pd.Series([5.0, 0.4, 0.0, 2.0])) == 0.1  # accuracy in %: never above 0.1
    assert linear_below(pd.Series([0.05, 0.012, 0.004, 0.0])) == pytest.approx(0.001)  # a 0-1 score (SSIM)
    assert linear_below(pd.Series([0.0, 0.0])) == 0.1


def test_many_tasks_wrap_onto_rows_of_at_most_four_panels(tmp_path):
    import matplotlib.pyplot as plt

    from tnasbench.report.figures import WRAP, _grid

    tasks = [f"task{i}" for i in range(7)]
    figure, panels = _grid(2, tasks)  # two metric blocks of 7 tasks: 4 + 3 panels a row, 4 rows
    assert len(figure.axes) == 14 == len(panels) and figure.axes[0].get_subplotspec().get_gridspec().ncols == WRAP
    assert panels[1, "task0"].get_subplotspec().rowspan.start == 2  # the second block starts below both task rows
    assert panels[0, "task4"].get_subplotspec().is_first_col()
    plt.close(figure)
    figure, panels = _grid(1, tasks[:3])  # three tasks stay in one row
    assert figure.axes[0].get_subplotspec().get_gridspec().nrows == 1 and len(figure.axes) == 3
    plt.close(figure)


def test_the_regret_figure_of_five_tasks_and_two_metrics_wraps_into_four_rows(tmp_path):
    import numpy as np
    from PIL import Image

    from tnasbench.report.figures import plot_regret

    rows = [
        (f"task{t}", searcher, seed, step, 5.0 / step, 4.0 / step)
        for t in range(5)
        for searcher in ("tnas", "random-search")
        for seed in range(2)
        for step in range(1, 11)
    ]
    curves = pd.DataFrame(rows, columns=["dataset", "searcher", "trial", "step", "regret", "objective_regret"])
    curves = curves.assign(trial=curves["dataset"] + curves["searcher"] + curves["trial"].astype(str))
    curves = curves.assign(report_metric="test", objective_metric="val", ceiling_regret=np.nan)
    png, svg = plot_regret(curves, tmp_path)
    width, height = Image.open(png).size  # 3 columns (3 + 2 tasks) x 4 rows (2 task rows per metric)
    assert svg.stat().st_size > 10_000 and height > width * 0.8


def test_every_family_gets_its_own_hue_and_every_searcher_its_own_look():
    from matplotlib.colors import to_hex

    from tnasbench.report.figures import FAMILIES, styles

    variants = ["tnas-fsbo", "tnas-nometa", "tnas-onehot", "tnas-randinit", "botorch-ucb", "hebo-finite"]
    look = styles([*FAMILIES, *variants])
    hues = {f: to_hex(look[f]["color"]) for f in FAMILIES}
    assert len(set(hues.values())) == len(FAMILIES) == 16  # no two families share a colour
    assert all(to_hex(look[v]["color"]) == hues[v.split("-")[0]] for v in variants)  # a variant keeps its family's
    tnas = ["tnas", *variants[:4]]
    assert len({str(look[s]["linestyle"]) for s in tnas}) == 5  # dashes alone tell a family's variants apart
    assert len({(to_hex(v["color"]), str(v["linestyle"])) for v in look.values()}) == len(look)
