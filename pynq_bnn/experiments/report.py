# SPDX-License-Identifier: BSD-3-Clause
# Copyright (c) 2026 the pynq_bnn developers
"""Result table (Markdown + JSON) and bar chart of the seed-technique comparison."""
import json
import logging
from pathlib import Path

__all__ = ["COLUMNS", "write_report", "markdown_table", "bar_chart"]

log = logging.getLogger(__name__)

# (key, header, format)
COLUMNS = (
    ("model", "model", "{}"),
    ("accuracy", "test acc. (%)", "{:.2f}"),
    ("binary_macs", "binary MACs (M)", "{:.2f}"),
    ("fp_macs", "int/FP MACs (M)", "{:.2f}"),
    ("one_bit_params", "1-bit params (K)", "{:.1f}"),
    ("fp_params", "FP params (K)", "{:.1f}"),
    ("gate_sparsity", "LSB gate skip (%)", "{:.1f}"),
    ("train_time_s", "train time (s)", "{:.0f}"),
)
_SCALE = {"accuracy": 100.0, "binary_macs": 1e-6, "fp_macs": 1e-6, "one_bit_params": 1e-3,
          "fp_params": 1e-3, "gate_sparsity": 100.0}


def _cell(row: dict, key: str, fmt: str) -> str:
    value = row.get(key)
    if value is None:
        return "—"
    return fmt.format(value * _SCALE.get(key, 1.0)) if key != "model" else fmt.format(value)


def markdown_table(rows: list, setup: dict) -> str:
    """Markdown: a setup paragraph and one table row per model."""
    lines = [
        "# Seed techniques on CNV-sized CIFAR-10 models under one budget",
        "",
        f"Every model: {setup['epochs']} epoch(s) on the first {setup['train_images']:,} CIFAR-10 "
        f"training images (seed {setup['seed']}), evaluated on the first "
        f"{setup['test_images']:,} test images. Budget {setup['budget_minutes']} min; "
        f"total wall time {setup['wall_time_s']:.0f} s. MACs and parameters from "
        "`pynq_bnn.summary` (one image); int/FP MACs include the 8-bit-pixel first layers. "
        "LSB gate skip: FracBNN's fraction of outputs whose LSB conv is skipped.",
        "",
        "| " + " | ".join(h for _, h, _ in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in rows:
        if row.get("error"):
            lines.append(f"| {row['model']} | failed: {row['error']} |" + " |" * (len(COLUMNS) - 2))
            continue
        lines.append("| " + " | ".join(_cell(row, k, f) for k, _, f in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def bar_chart(rows: list, path: Path, setup: dict) -> None:
    """Accuracy bars, annotated with binary MACs (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    good = [r for r in rows if not r.get("error")]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(good)), 4))
    names = [r["model"] for r in good]
    accs = [100 * r["accuracy"] for r in good]
    bars = ax.bar(names, accs, color="tab:blue")
    for bar, row in zip(bars, good):
        ax.annotate(f"{row['binary_macs'] / 1e6:.0f}M bMAC", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("CIFAR-10 test accuracy (%)")
    ax.set_title(f"{setup['epochs']} epoch(s), {setup['train_images']:,} train / "
                 f"{setup['test_images']:,} test images")
    ax.set_ylim(0, max(accs + [10]) * 1.15)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(rows: list, setup: dict, out_dir) -> dict:
    """Write ``compare.json``, ``compare.md`` and ``compare.png`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "compare.json", "markdown": out_dir / "compare.md",
             "chart": out_dir / "compare.png"}
    paths["json"].write_text(json.dumps({"setup": setup, "results": rows}, indent=2))
    paths["markdown"].write_text(markdown_table(rows, setup))
    bar_chart(rows, paths["chart"], setup)
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return paths
