"""Memory: bytes per stored transition (ours vs naive) and the largest replay each agent config
fits into a device-memory budget.

  make bench     (or: .venv/bin/python benchmarks/replay_memory.py [--memory_budget_gb 4])

Naive = stacked obs and stacked next_obs stored per transition, as a Python-loop DQN does (Atari:
2 * 4 * 84 * 84 bytes + action, reward, done). Ours = one row per env step (newest frame + action,
reward, 3 flags), the stack and next obs rebuilt when sampling (``goalrl.replay``); measured as the
agent state's bytes per extra replay row (``goalrl.plan``: ``jax.eval_shape`` of the agent's init,
nothing allocated). The goal agent also stores its goal latent with each row.

Then, per agent and env (the ``:atari`` / ``:minigrid`` configs as shipped): parameters, optimiser,
encoder stream and XLA's temporaries of one update on this machine's compiler, and the largest
``agent.replay_size`` that fits the budget next to them (default 4 GB: the note's 1e9 floats).
Table to stdout, JSON to ``benchmarks/results/replay_memory.json``.
"""
from __future__ import annotations

import argparse
import os

from absl import logging

from goalrl import metrics, plan
from goalrl.config import load_experiment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = ("dqn", "optimistic_dqn", "rnd_dqn", "goal_agent")
NAIVE = {"atari": 2 * 4 * 84 * 84 + 4 + 4 + 1, "minigrid": 2 * (7 * 7 * 3 + 4) + 4 + 4 + 1}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--memory_budget_gb", type=float, default=4.0)
  parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                    "replay_memory.json"))
  args = parser.parse_args()
  logging.set_verbosity(logging.WARNING)
  budget = args.memory_budget_gb * 1e9
  rows = []
  for env in ("atari", "minigrid"):
    for agent in AGENTS:
      config = load_experiment(os.path.join(ROOT, "experiments", f"{agent}.py"), env)
      p = plan.make_plan(config)
      stream = sum(v for k, v in p.fields.items() if k.startswith("encoder.stream"))
      rows.append(dict(
          env=env, agent=agent, naive_bytes=NAIVE[env], row_bytes=p.bytes_per_row,
          saving=NAIVE[env] / p.bytes_per_row, replay_size=p.replay_size,
          replay_gb=p.bytes_per_row * p.replay_size / 1e9, stream_gb=stream / 1e9,
          rest_gb=(p.total - p.bytes_per_row * p.replay_size - stream - p.temporaries) / 1e9,
          temp_gb=p.temporaries / 1e9, total_gb=p.total / 1e9,
          largest_replay=p.largest_replay(budget, config.env.num_envs)))
  head = (f"{'env':<9} {'agent':<15} {'naive B':>8} {'ours B':>7} {'saving':>6} "
          f"{'replay GB':>9} {'stream GB':>9} {'nets GB':>7} {'temp GB':>7} {'total GB':>8} "
          f"{f'largest replay in {args.memory_budget_gb:g} GB':>26}")
  lines = [head, "-" * len(head)]
  for r in rows:
    lines.append(f"{r['env']:<9} {r['agent']:<15} {r['naive_bytes']:>8,} {r['row_bytes']:>7,.0f} "
                 f"{r['saving']:>5.1f}x {r['replay_gb']:>9.3f} {r['stream_gb']:>9.3f} "
                 f"{r['rest_gb']:>7.3f} {r['temp_gb']:>7.3f} {r['total_gb']:>8.3f} "
                 f"{r['largest_replay']:>26,}")
  text = "\n".join(lines)
  print(f"replay GB = the shipped config's agent.replay_size rows; nets = params, targets, "
        f"optimiser, counters; temp = XLA temporaries of the compiled training chunk\n{text}")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  metrics.write_json(args.out, {"memory_budget_gb": args.memory_budget_gb, "rows": rows,
                                "table": text})
  print(f"written to {args.out}")


if __name__ == "__main__":
  main()
