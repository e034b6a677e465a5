"""Published NB201 figures to print beside ours (TNAS, ICLR 2023, Table 2 as updated in the authors'
repository; see ../shared/paper/TNAS-results.md). ± is the 95% t-interval half-width over 3 seeds."""

from __future__ import annotations

# (dataset, our searcher name) -> (method as published, GPU days, accuracy %, ± half-width)
TABLE2: dict[tuple[str, str], tuple[str, float, float, float]] = {
    ("cifar10", "gdas"): ("GDAS", 0.34, 93.61, 0.09),
    ("cifar10", "drnas"): ("DrNAS", 0.30, 94.36, 0.00),
    ("cifar10", "tnas"): ("TNAS", 4.27, 94.37, 0.00),
    ("cifar100", "gdas"): ("GDAS", 0.64, 70.70, 0.30),
    ("cifar100", "drnas"): ("DrNAS", 0.45, 73.51, 0.00),
    ("cifar100", "tnas"): ("TNAS", 4.27, 73.51, 0.00),
}
PAPER_PROTOCOL = {"objective": "test@200", "report": "test@200", "evaluations": 100}


def protocol_note(objective: str, report: str, evaluations: float) -> str:
    """ "yes", or what differs from the paper's NB201 protocol (search and report test@200, 100 evaluations)."""
    differences = []
    if objective != PAPER_PROTOCOL["objective"]:
        differences.append(f"searched {objective}, the paper test@200")
    if report != PAPER_PROTOCOL["report"]:
        differences.append(f"reports {report}")
    if evaluations != PAPER_PROTOCOL["evaluations"]:
        differences.append(f"{evaluations:.0f} evaluations, the paper 100")
    return "yes" if not differences else "no: " + "; ".join(differences)
