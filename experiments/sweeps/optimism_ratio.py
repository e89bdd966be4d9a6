"""Optimistic DQN: how much optimism? The share of each batch replaced by optimistic samples.

  python -m goalrl.sweep --config=experiments/optimistic_dqn.py:minigrid \
      --sweep=experiments/sweeps/optimism_ratio.py --workdir=runs/optimism_ratio

3 settings x 5 seeds (vmapped), 200k env steps each on DoorKey-5x5.
"""


def get_sweep():
  return dict(grid={"agent.optimism.ratio": [0.0, 0.1, 0.3]}, seeds=5,
              overrides={"total_steps": 200_000})
