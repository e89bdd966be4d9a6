"""Optimistic DQN: how much optimism? The share of each batch replaced by optimistic samples (the
note's synthetic latents: ``:note``, as the default was until 2026-11-30; the default reads the
observation, where synthetic latents stand for nothing).

  python -m goalrl.sweep --config=experiments/optimistic_dqn.py:note \
      --sweep=experiments/sweeps/optimism_ratio.py --workdir=runs/optimism_ratio

3 settings x 5 seeds (vmapped), 200k env steps each on DoorKey-5x5.
"""


def get_sweep():
  return dict(grid={"agent.optimism.ratio": [0.0, 0.1, 0.3]}, seeds=5,
              overrides={"total_steps": 200_000})
