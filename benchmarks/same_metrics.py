"""Behaviour check for refactors: every agent's ``:quick`` run and a 30k-step ``:minigrid`` run,
then their ``metrics.jsonl`` compared with a reference set of the same runs (``perf/`` keys aside).

  PYTHONPATH=src .venv/bin/python benchmarks/same_metrics.py run --out /tmp/before
  ... change the code ...
  PYTHONPATH=src .venv/bin/python benchmarks/same_metrics.py run --out /tmp/after
  PYTHONPATH=src .venv/bin/python benchmarks/same_metrics.py compare /tmp/before /tmp/after

``compare`` prints one line per run: ``identical`` when every row is equal, otherwise the first
differing step and key with both values, and the largest relative difference over the float
metrics with whether the integer metrics (episodes, successes, coverage, updates, steps) still
agree. It exits 1 unless every run is identical.

The runs go through the real CLI (``python -m goalrl.train``) with ``--config.seed=0`` and no
other change than ``total_steps`` (and ``checkpoint_every``, so the only checkpoint is the last)
for ``:minigrid``; 8 runs take about 3 minutes on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from goalrl import metrics  # noqa: E402

AGENTS = ("dqn", "optimistic_dqn", "rnd_dqn", "goal_agent")
MINIGRID_STEPS = 29_952  # 30k rounded to a multiple of 6 log intervals of 4,992 (16 and 8 envs)
# Metrics that count things: these must agree exactly even where float rounding may move.
COUNTS = ("step", "episodes", "success_rate", "coverage", "rooms", "updates", "episode_cells",
          "key_rate", "episode_doors")


def runs():
  for agent in AGENTS:
    yield f"{agent}_quick", [f"--config=experiments/{agent}.py:quick"]
    yield f"{agent}_minigrid", [f"--config=experiments/{agent}.py:minigrid",
                                f"--config.total_steps={MINIGRID_STEPS}",
                                "--config.log_every=4992",
                                f"--config.checkpoint_every={MINIGRID_STEPS}"]


def run(out: str) -> None:
  env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}
  for name, flags in runs():
    workdir = os.path.join(out, name)
    if os.path.exists(os.path.join(workdir, "metrics.jsonl")):
      print(f"{name}: exists, skipped", flush=True)
      continue
    subprocess.run([sys.executable, "-m", "goalrl.train", f"--workdir={workdir}", *flags,
                    "--config.seed=0"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"{name}: done", flush=True)


def rows(workdir: str) -> list[dict]:
  return [{k: v for k, v in r.items() if not k.startswith("perf/")}
          for r in metrics.read_rows(os.path.join(workdir, "metrics.jsonl"))]


def compare(before: str, after: str) -> bool:
  same = True
  for name, _ in runs():
    a, b = rows(os.path.join(before, name)), rows(os.path.join(after, name))
    if a == b and a:
      print(f"{name}: identical ({len(a)} rows)")
      continue
    same = False
    if len(a) != len(b) or [sorted(r) for r in a] != [sorted(r) for r in b]:
      print(f"{name}: DIFFERENT rows or keys ({len(a)} vs {len(b)} rows)")
      continue
    first, worst, counts_agree = None, 0.0, True
    for ra, rb in zip(a, b):
      for k in ra:
        if ra[k] == rb[k]:
          continue
        first = first or (ra["step"], k, ra[k], rb[k])
        if k in COUNTS or k.endswith("_per_episode"):
          counts_agree = False
        if isinstance(ra[k], float) and isinstance(rb[k], float):
          worst = max(worst, abs(ra[k] - rb[k]) / max(abs(ra[k]), abs(rb[k]), 1e-12))
    print(f"{name}: DIFFERENT from step {first[0]} key {first[1]}: {first[2]} vs {first[3]}; "
          f"largest relative float difference {worst:.2e}; counts agree: {counts_agree}")
  return same


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  sub = parser.add_subparsers(dest="command", required=True)
  sub.add_parser("run").add_argument("--out", required=True)
  cmp = sub.add_parser("compare")
  cmp.add_argument("before")
  cmp.add_argument("after")
  args = parser.parse_args()
  if args.command == "run":
    run(args.out)
  else:
    sys.exit(0 if compare(args.before, args.after) else 1)


if __name__ == "__main__":
  main()
