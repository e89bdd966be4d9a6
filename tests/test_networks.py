"""Observation torsos under the Q head: both MiniGrid torsos map a batch to [B, actions]."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from goalrl import networks


@pytest.mark.parametrize("torso", ["dense", "conv"])
def test_minigrid_torsos_give_q_values_per_action(torso):
  net = networks.QNetwork(torso=networks.make_torso("minigrid", 32, torso), num_actions=7,
                          head_layers=(16,))
  rng = np.random.default_rng(0)
  obs = dict(image=jnp.asarray(rng.integers(0, 6, (5, 7, 7, 3)), jnp.uint8),
             direction=jnp.asarray(rng.integers(0, 4, 5), jnp.int32))
  params = net.init(jax.random.PRNGKey(0), obs)
  q = net.apply(params, obs)
  assert q.shape == (5, 7) and bool(jnp.all(jnp.isfinite(q)))
  convs = [path for path, _ in jax.tree_util.tree_leaves_with_path(params)
           if "Conv" in jax.tree_util.keystr(path)]
  assert bool(convs) == (torso == "conv")
  # Different observations give different values (the torso reads its input).
  assert not np.allclose(q[0], q[1])
