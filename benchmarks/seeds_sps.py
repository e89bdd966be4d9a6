"""Throughput of several seeds in one program (``config.num_seeds``), MiniGrid, on this machine.

  .venv/bin/python benchmarks/seeds_sps.py [--seeds 1,4,16] [--steps 40000]

Runs ``experiments/dqn.py:minigrid`` (DoorKey-5x5, 16 envs per seed, 2 updates of batch 64 per
iteration per seed) for ``--steps`` env steps per seed, and prints the total env steps/s over all
seeds (median over log intervals after the first), per-seed steps/s, and the first chunk's compile
time. Writes ``runs/bench/seeds_sps.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile

from goalrl import train
from goalrl.config import load_experiment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config_for(num_seeds: int, steps: int):
  c = load_experiment(os.path.join(ROOT, "experiments", "dqn.py"), "minigrid")
  c.num_seeds, c.total_steps, c.log_every, c.checkpoint_every = num_seeds, steps, 10_000, steps
  c.agent.learning_starts = c.agent.batch_size
  c.memory_budget_gb = 0.0
  return c


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--seeds", default="1,4,16")
  parser.add_argument("--steps", type=int, default=40_000)
  args = parser.parse_args()
  results = {}
  print(f"{'seeds':>6} {'total env steps/s':>18} {'per seed':>10} {'compile s':>10}")
  for s in [int(x) for x in args.seeds.split(",")]:
    with tempfile.TemporaryDirectory() as workdir:
      out = train.train(config_for(s, args.steps), workdir, progress=False)
    rows = out if s == 1 else next(iter(out.values()))
    sps = statistics.median(r["perf/sps"] for r in rows[1:])
    results[s] = {"sps": sps, "per_seed": sps / s, "compile_s": rows[0]["perf/compile_seconds"]}
    print(f"{s:>6} {sps:>18,.0f} {sps / s:>10,.0f} {rows[0]['perf/compile_seconds']:>10.1f}")
  os.makedirs(os.path.join(ROOT, "runs", "bench"), exist_ok=True)
  with open(os.path.join(ROOT, "runs", "bench", "seeds_sps.json"), "w") as f:
    json.dump(results, f, indent=2)


if __name__ == "__main__":
  main()
