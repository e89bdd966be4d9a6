"""Weight regularisers (``goalrl.regularisers``): the unit-norm penalty pulls every output unit's
weight norm toward 1 from either side; L2 pulls toward 0; biases are left alone."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from goalrl import regularisers
from helpers import for_agents, quick_config, rows


def params(scale_small=0.1, scale_large=5.0):
  rng = np.random.default_rng(0)
  w = rng.normal(size=(6, 4)).astype(np.float32)
  w /= np.linalg.norm(w, axis=0, keepdims=True)  # unit columns...
  w[:, :2] *= scale_small  # ...then two small units and two large ones
  w[:, 2:] *= scale_large
  conv = rng.normal(size=(3, 3, 2, 5)).astype(np.float32)
  return {"dense": {"kernel": jnp.asarray(w), "bias": jnp.ones(4)},
          "conv": {"kernel": jnp.asarray(conv), "bias": jnp.ones(5)}}


def test_unit_norm_gradient_grows_small_units_and_shrinks_large_ones():
  p = params()
  grads = jax.grad(lambda q: regularisers.penalty(q, "unit_norm"))(p)
  stepped = jax.tree.map(lambda w, g: w - 0.05 * g, p, grads)
  before = regularisers.unit_norms(p["dense"]["kernel"])
  after = regularisers.unit_norms(stepped["dense"]["kernel"])
  assert np.all(after[:2] > before[:2]) and np.all(after[2:] < before[2:])
  assert np.all(np.abs(after - 1) < np.abs(before - 1))
  # The gradient points along each unit's own weights: directions are untouched.
  cos = jnp.sum(p["dense"]["kernel"] * grads["dense"]["kernel"], 0) / (
      before * jnp.linalg.norm(grads["dense"]["kernel"], axis=0))
  np.testing.assert_allclose(np.abs(cos), 1.0, rtol=1e-5)
  assert not np.any(grads["dense"]["bias"]) and not np.any(grads["conv"]["bias"])


def test_unit_norm_is_zero_at_unit_norms_and_l2_shrinks_everything():
  p = params(1.0, 1.0)
  assert float(regularisers.penalty({"dense": p["dense"]}, "unit_norm")) == pytest.approx(0, abs=1e-9)
  grads = jax.grad(lambda q: regularisers.penalty(q, "l2"))(p)
  stepped = jax.tree.map(lambda w, g: w - 0.05 * g, p, grads)
  assert np.all(regularisers.unit_norms(stepped["dense"]["kernel"])
                < regularisers.unit_norms(p["dense"]["kernel"]))
  assert float(regularisers.penalty(p, "none")) == 0.0


def test_mean_unit_norm_and_unknown_kind():
  p = params(1.0, 1.0)
  assert float(regularisers.mean_unit_norm({"dense": p["dense"]})) == pytest.approx(1.0, rel=1e-5)
  with pytest.raises(ValueError, match="'l1'"):
    regularisers.penalty(p, "l1")


@pytest.mark.parametrize("agent", for_agents("dqn", "goal_agent"))
@pytest.mark.slow
def test_switch_pulls_the_agent_networks_toward_unit_norms(quick_run, tmp_path, agent):
  """``agent.weight_reg`` in a real (short) training run: the logged mean unit norm ends nearer 1
  with ``unit_norm`` than without (DQN: its Q network; goal agent: Q(s, g) and the actor; L2 shares
  the same ``regularise`` call, its pull is the unit test's above)."""
  from goalrl import train
  # "none" is the session's run itself (the coefficient multiplies nothing), read at 1,024 env
  # steps, where the run with the switch on stops.
  none = rows(quick_run(agent)[0])[1]
  assert none["step"] == 1_024
  c = quick_config(agent)
  c.total_steps = 1_024
  c.agent.weight_reg, c.agent.weight_reg_coef = "unit_norm", 0.05
  unit_norm = train.train(c, str(tmp_path), progress=False)[-1]["weight_norm"]
  assert abs(unit_norm - 1) < abs(none["weight_norm"] - 1)
