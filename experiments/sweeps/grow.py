"""Optimistic DQN's autoencoder with and without freeze-and-grow (``agent.encoder.grow``).

  python -m goalrl.sweep --config=experiments/optimistic_dqn.py:minigrid \
      --sweep=experiments/sweeps/grow.py --workdir=runs/grow

2 settings x 3 seeds (vmapped), 200k env steps each on DoorKey-5x5 (~25k encoder updates, room
for several patience + trial cycles of 2,000 updates each). RESULTS.md gives the measured table.
"""


def get_sweep():
  return dict(grid={"agent.encoder.grow.branches": [0, 2]}, seeds=3,
              overrides={"total_steps": 200_000})
