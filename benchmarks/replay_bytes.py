"""Memory: bytes per stored transition in the agent replay, ours vs naive storage.

  .venv/bin/python benchmarks/replay_bytes.py

Naive = stacked obs and stacked next_obs stored per transition (Atari: 2 * 4 * 84 * 84 bytes +
action, reward, done). Ours = one row per env step (newest frame + action, reward, 3 flags), the
stack and next obs rebuilt at sample time (``goalrl.replay``). Measured on the allocated flashbax
state, and the replay size that fits the note's 1e9-float (4 GB) device budget.
"""
from __future__ import annotations

import jax

from goalrl import envs, replay

BUDGET_BYTES = 4 * 10 ** 9


def measured_row_bytes(spec: envs.EnvSpec) -> float:
  capacity = spec.num_envs * 256
  buffer = replay.make_buffer(spec, capacity, batch_size=1, n_step=3)
  state = buffer.init(replay.example_row(spec))
  return sum(x.nbytes for x in jax.tree.leaves(state.experience)) / capacity


def main():
  atari = envs.EnvSpec("MontezumaRevenge-v5", "atari", 8, 18, (84, 84), 4, 1, 1, True)
  grid = envs.EnvSpec("MiniGrid-DoorKey-5x5-v0", "minigrid", 16, 7, (7, 7, 3), 1, 1, 1, True)
  rows = []
  for spec, naive in ((atari, 2 * 4 * 84 * 84 + 4 + 4 + 1),
                      (grid, 2 * (7 * 7 * 3 + 4) + 4 + 4 + 1)):
    ours = measured_row_bytes(spec)
    rows.append((spec.name, naive, ours, naive / ours, int(BUDGET_BYTES // ours)))
  print(f"{'env':<26} {'naive B':>9} {'ours B':>9} {'saving':>7} {'rows in 4 GB':>14}")
  for name, naive, ours, ratio, fit in rows:
    print(f"{name:<26} {naive:>9,} {ours:>9,.0f} {ratio:>6.1f}x {fit:>14,}")


if __name__ == "__main__":
  main()
