"""DQN learns: the ``empty`` variant solves MiniGrid-Empty-5x5-v0 within 40k env steps."""
import pytest

from goalrl import train as train_lib


@pytest.mark.slow
def test_dqn_solves_empty_5x5(experiment, full_optimizations, tmp_path):
  rows = train_lib.train(experiment("dqn", "empty"), str(tmp_path), progress=False)
  last = rows[-3:]
  # A random policy succeeds about half the time within the 100-step limit, with return ~0.3;
  # the optimal return is ~0.93 (reward 1 - 0.9 * steps / 100).
  assert min(r["success_rate"] for r in last) >= 0.9
  assert min(r["episode_return"] for r in last) >= 0.8
  assert rows[0]["episode_return"] < 0.6
