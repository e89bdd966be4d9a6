"""Optimistic DQN's autoencoder with and without freeze-and-grow (``agent.encoder.grow``), on the
note's latent design (``:note``: the default's Q reads the observation, so no autoencoder trains).

  python -m goalrl.sweep --config=experiments/optimistic_dqn.py:note \
      --sweep=experiments/sweeps/grow.py --workdir=runs/grow

2 settings x 3 seeds (vmapped), 200k env steps each on DoorKey-5x5 (~12k encoder updates).
The grow schedule is set to act within that budget: at the defaults (patience 2,000, plateau_tol
1%) the MiniGrid autoencoder's loss still fell ~10% every 600 updates at 80k steps, so no trial
would start. Here a plateau is "less than 5% better in 500 updates". The ``grow.*`` keys do
nothing when ``branches=0``. RESULTS.md §8 has the measured table.
"""


def get_sweep():
  return dict(grid={"agent.encoder.grow.branches": [0, 2]}, seeds=3,
              overrides={"total_steps": 200_000, "agent.encoder.grow.patience": 500,
                         "agent.encoder.grow.plateau_tol": 0.05,
                         "agent.encoder.grow.trial_updates": 500})
