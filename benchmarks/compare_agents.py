"""Learning: the four agents side by side on one sparse-reward MiniGrid task, several seeds.

  .venv/bin/python benchmarks/compare_agents.py [--steps 200000] [--seeds 3]
      [--env MiniGrid-DoorKey-5x5-v0] [--agents dqn,optimistic_dqn,goal_agent,rnd_dqn]

Each agent runs its ``:minigrid`` config with ``env.name``, ``total_steps`` and ``seed``
overridden, in a workdir under ``runs/compare/`` (finished runs are reused, killed ones resume).
Prints, per agent: success rate (mean over seeds) at four points of the budget, the env steps until
the success rate first reached 0.9 (per seed; '-' = never), the final success and SPS; writes
``runs/compare/summary.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics

from goalrl import train
from goalrl.config import load_experiment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def experiment(agent: str):
  return load_experiment(os.path.join(ROOT, "experiments", f"{agent}.py"), "minigrid")


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--steps", type=int, default=200_000)
  parser.add_argument("--seeds", type=int, default=3)
  parser.add_argument("--env", default="MiniGrid-DoorKey-5x5-v0")
  parser.add_argument("--agents", default="dqn,optimistic_dqn,goal_agent,rnd_dqn")
  args = parser.parse_args()
  summary = {}
  for agent in args.agents.split(","):
    runs = []
    for seed in range(args.seeds):
      config = experiment(agent)
      config.env.name, config.total_steps, config.seed = args.env, args.steps, seed
      config.checkpoint_every = args.steps
      workdir = os.path.join(ROOT, "runs", "compare", args.env, agent, f"seed{seed}")
      runs.append(train.train(config, workdir, progress=False))
    summary[agent] = runs
  points = [args.steps // 4 * i for i in range(1, 5)]
  print(f"\n{args.env}, {args.seeds} seeds, success rate (mean over seeds) at env steps:")
  print(f"{'agent':<16}" + "".join(f"{p:>9,}" for p in points) + f"  {'steps to 0.9 per seed':<26}"
        f"{'sps':>7}")
  out = {}
  for agent, runs in summary.items():
    at = lambda rows, p: next((r["success_rate"] or 0.0 for r in rows if r["step"] >= p), 0.0)
    means = [statistics.mean(at(rows, p) for rows in runs) for p in points]
    first = [next((r["step"] for r in rows if (r["success_rate"] or 0) >= 0.9), None)
             for rows in runs]
    sps = statistics.median(r["perf/sps"] for rows in runs for r in rows)
    print(f"{agent:<16}" + "".join(f"{m:>9.2f}" for m in means)
          + f"  {', '.join(f'{s // 1000}k' if s else '-' for s in first):<26}{sps:>7,.0f}")
    out[agent] = {"points": points, "mean_success": means, "steps_to_0.9": first, "sps": sps}
  path = os.path.join(ROOT, "runs", "compare", args.env, "summary.json")
  with open(path, "w") as f:
    json.dump(out, f, indent=2)
  print(f"written to {path}")


if __name__ == "__main__":
  main()
