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


def test_goal_conditioned_q_reads_the_observation_and_the_goal():
  """The goal agent's actor with ``actor_input="observation"``: Q(s, g, .) per action, changed by
  the observation with the goal fixed, and by the goal with the observation fixed."""
  net = networks.GoalConditionedQ(networks.make_torso("minigrid", 32), (16, 5))
  rng = np.random.default_rng(0)
  obs = dict(image=jnp.asarray(rng.integers(0, 6, (2, 7, 7, 3)), jnp.uint8),
             direction=jnp.asarray([1, 1], jnp.int32))
  goal = jnp.asarray(rng.normal(size=(2, 8)), jnp.float32)
  params = net.init(jax.random.PRNGKey(0), obs, goal)
  same_goal = net.apply(params, obs, jnp.broadcast_to(goal[:1], goal.shape))
  same_obs = net.apply(params, jax.tree.map(lambda x: jnp.broadcast_to(x[:1], x.shape), obs), goal)
  assert same_goal.shape == (2, 5)
  assert not np.allclose(same_goal[0], same_goal[1]) and not np.allclose(same_obs[0], same_obs[1])
  # Several goals per observation: each row is that observation with that goal.
  many = net.apply(params, obs, jnp.stack([goal, goal[::-1]], axis=1))  # [2, 2 goals, 5]
  np.testing.assert_allclose(many[:, 0], net.apply(params, obs, goal), atol=1e-6)
  np.testing.assert_allclose(many[:, 1], net.apply(params, obs, goal[::-1]), atol=1e-6)
