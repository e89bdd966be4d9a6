"""goalrl.plan: its state bytes equal what init allocates, its largest replay fits and one more
env batch of rows does not, the CLI prints a plan and refuses bad input."""
import subprocess
import sys

import jax
import pytest

from goalrl import envs, plan
from goalrl.agents import make_agent
from helpers import ROOT


@pytest.mark.parametrize("agent", ["dqn", "goal_agent"])
def test_planned_bytes_equal_allocated_state(experiment, agent):
  config = experiment(agent, "quick")
  config.num_seeds = 2
  p = plan.make_plan(config, compile_temporaries=False)
  pool = envs.make_pool(config.env, 0)
  agent_fn = make_agent(config.agent, envs.make_spec(config.env, pool))
  states = jax.vmap(agent_fn.init)(jax.random.split(jax.random.PRNGKey(3), 2))
  allocated = sum(x.nbytes for x in jax.tree.leaves(states))
  assert sum(p.fields.values()) == allocated
  assert p.bytes_per_row > 0 and p.temporaries == 0


def test_largest_replay_fits_and_one_more_batch_does_not(experiment):
  config = experiment("dqn", "quick")
  p = plan.make_plan(config)
  assert p.temporaries > 0  # the compiled chunk needs scratch space
  budget = 0.5e9
  rows = p.largest_replay(budget, config.env.num_envs)
  assert rows % config.env.num_envs == 0 and rows > config.agent.replay_size
  for size, fits in ((rows, True), (rows + config.env.num_envs, False)):
    config.agent.replay_size = size
    bigger = plan.make_plan(config, compile_temporaries=False)
    assert (sum(bigger.fields.values()) + p.temporaries <= budget) == fits


@pytest.mark.slow
def test_cli_prints_plan_and_refuses_bad_budget():
  cmd = [sys.executable, "-m", "goalrl.plan", "--config=experiments/dqn.py:quick"]
  ok = subprocess.run(cmd + ["--memory_budget_gb=1"], capture_output=True, text=True, cwd=ROOT)
  assert ok.returncode == 0, ok.stderr
  assert "largest agent.replay_size that fits" in ok.stdout and "activations (XLA temp)" in ok.stdout
  bad = subprocess.run(cmd + ["--memory_budget_gb=-1"], capture_output=True, text=True, cwd=ROOT)
  assert bad.returncode == 2 and "memory_budget_gb=-1" in bad.stderr
