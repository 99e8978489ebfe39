#!/usr/bin/env python3
"""Draws bench/step-load.csv (written by `Berth.Bench.EndToEnd step-load`) as bench/step-load.png:
clients and pool instances over time on the left axis, p99 latency per second on the right."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src = sys.argv[1] if len(sys.argv) > 1 else "bench/step-load.csv"
out = sys.argv[2] if len(sys.argv) > 2 else "bench/step-load.png"
rows = list(csv.DictReader(open(src, newline="")))
t = [float(r["t_s"]) for r in rows]
fig, left = plt.subplots(figsize=(10, 5), dpi=110)
left.step(t, [int(r["clients"]) for r in rows], where="post", label="concurrent clients", color="tab:gray")
left.step(t, [int(r["desired"]) for r in rows], where="post", label="instances wanted", color="tab:orange", linestyle="--")
left.step(t, [int(r["running"]) for r in rows], where="post", label="instances running", color="tab:blue", linewidth=2)
left.set_xlabel("time, s")
left.set_ylabel("clients / instances")
right = left.twinx()
right.plot(t, [float(r["p99_ms"]) for r in rows], label="p99 latency (per second)", color="tab:red", alpha=0.7)
right.set_ylabel("p99 latency, ms")
right.set_ylim(bottom=0)
lines = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
labels = left.get_legend_handles_labels()[1] + right.get_legend_handles_labels()[1]
left.legend(lines, labels, loc="upper right")
left.set_title("Berth pool under a 1 → 32 → 1 client step load")
fig.tight_layout()
fig.savefig(out)
print(f"wrote {out}")
