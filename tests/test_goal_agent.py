"""The goal agent's options run end to end and report what they should."""
import math

import pytest

from goalrl import train as train_lib


@pytest.mark.parametrize("overrides", [
    dict(variant="progress"),
    dict(variant="reach", distance="learned", her_fraction=0.0),
    dict(variant="reach", candidate_source="prior", optimism={"ratio": 0.0}),
])
@pytest.mark.slow
def test_goal_agent_options(experiment, tmp_path, overrides):
  config = experiment("goal_agent", "quick")
  config.total_steps = 2_000
  for key, value in overrides.items():
    if isinstance(value, dict):
      config.agent[key].update(value)
    else:
      config.agent[key] = value
  config.agent.encoder.agent_grads = overrides.get("variant") == "progress"
  rows = train_lib.train(config, str(tmp_path), progress=False)
  last = rows[-1]
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
  assert last["her_relabelled"] == pytest.approx(config.agent.her_fraction, abs=0.1)
  if config.agent.optimism.ratio == 0:
    assert last["goal_q_synthetic"] == 0
