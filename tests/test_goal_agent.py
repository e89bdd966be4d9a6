"""The goal agent's options run end to end and report what they should."""
import math

import pytest

from goalrl import train as train_lib
from helpers import group, rows


def _check_options(last: dict, agent_cfg, overrides: dict):
  for key in ("goal_q_loss", "actor_loss", "recon_loss", "goal_q", "goal_distance",
              "goals_reached_per_episode", "goals_abandoned_per_episode"):
    assert last[key] is not None and math.isfinite(last[key]), key
  if overrides.get("distance") == "learned":
    assert last["distance_loss"] > 0
  else:
    assert last["distance_loss"] == 0
  if overrides.get("variant") == "progress":
    assert last["goals_abandoned_per_episode"] == 0
  else:
    assert last["goals_abandoned_per_episode"] > 0
  assert last["her_relabelled"] == pytest.approx(agent_cfg.her_fraction, abs=0.1)
  assert last["goal_q_relabelled"] == pytest.approx(agent_cfg.goal_q_her, abs=0.1)
  if agent_cfg.optimism.ratio == 0:
    assert last["goal_q_synthetic"] == 0
  if agent_cfg.get("goal_reach_steps", 0):
    assert 0 <= last["goal_reachable_fraction"] <= 1
  else:
    assert "goal_reachable_fraction" not in last
  if agent_cfg.candidate_source == "archive":  # the setter drew goals from reached states
    assert last["archive_cells"] > 0 and last["goal_cell_visits"] >= 0
  else:
    assert "archive_cells" not in last


@pytest.mark.slow
@pytest.mark.xdist_group(group("goal_agent"))
def test_default_options_report_what_they_should(experiment, quick_run):
  """The ``:quick`` defaults (reach, fixed distance, HER, archive goals with novelty, the actor
  rewarded by the env too): the session's run."""
  _check_options(rows(quick_run("goal_agent")[0])[-1], experiment("goal_agent", "quick").agent, {})


@pytest.mark.parametrize("overrides", [
    # progress re-picks its goal every step: the goal-level bootstrap reads a different one
    dict(variant="progress", goal_q_bootstrap="bootstrap_row", goal_ablation="random",
         goal_q_her=0.5),
    dict(goal_reach_steps=4, actor_gamma=0.99, archive_scope="episode", actor_input="observation"),
    # Every other switch off its default at once, each checked on its own below.
    dict(variant="reach", distance="learned", her_fraction=0.0, candidate_source="prior",
         goal_novelty_coef=0.0, abandon_on_q=True, actor_env_reward=0.0, goal_ablation="zero",
         optimism={"ratio": 0.1}),
])
@pytest.mark.slow
def test_goal_agent_options(experiment, tmp_path, overrides):
  config = experiment("goal_agent", "quick")
  config.total_steps = 1_000
  for key, value in overrides.items():
    if isinstance(value, dict):
      config.agent[key].update(value)
    else:
      config.agent[key] = value
  config.agent.encoder.agent_grads = overrides.get("variant") == "progress"
  _check_options(train_lib.train(config, str(tmp_path), progress=False)[-1], config.agent,
                 overrides)
