"""DQN's Q-network weight regulariser: none vs L2 toward 0 vs each unit's norm toward 1.

  python -m goalrl.sweep --config=experiments/dqn.py:minigrid \
      --sweep=experiments/sweeps/weight_reg.py --workdir=runs/weight_reg

3 settings x 3 seeds (vmapped), 200k env steps each on DoorKey-5x5 (~5 minutes on 2 CPU cores).
"""


def get_sweep():
  return dict(grid={"agent.weight_reg": ["none", "l2", "unit_norm"]}, seeds=3,
              overrides={"total_steps": 200_000})
