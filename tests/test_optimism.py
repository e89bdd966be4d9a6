"""The optimism mixer: exact fractions, exact off switch, and the effect it exists for."""
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from goalrl import networks, optimism, replay
from goalrl.agents.optimistic_dqn import optimistic_batch
from goalrl.losses import double_dqn_loss


def _cfg(ratio, source="prior"):
  return ml_collections.ConfigDict(dict(ratio=ratio, reward=0.5, source=source, noise=1.0))


def _real_batch(size, dim=4, point=3.0):
  z = jnp.full((size, dim), point)
  # Every action of the dead end has been tried: it is visited, not merely reached.
  return replay.Transition(obs_tm1=z, a_tm1=jnp.arange(size) % 3, r_t=jnp.zeros(size),
                           discount_t=jnp.zeros(size), obs_t=z, valid=jnp.ones(size, bool))


@pytest.mark.parametrize("ratio, expected", [(0.25, 16), (0.1, 6), (0.5, 32)])
@pytest.mark.parametrize("source", ["prior", "replay", "both"])
def test_fraction_of_batch_is_the_configured_ratio(ratio, expected, source):
  batch, mask = optimistic_batch(jax.random.PRNGKey(0), _real_batch(64), 3, _cfg(ratio, source))
  assert int(mask.sum()) == expected == round(ratio * 64)
  # The synthetic rows are exactly the ones carrying the optimistic reward, as terminals.
  np.testing.assert_array_equal(np.asarray(batch.r_t) == 0.5, np.asarray(mask))
  assert float(batch.discount_t[mask].sum()) == 0.0
  assert not np.allclose(np.asarray(batch.obs_tm1[mask]), 3.0)


def test_ratio_zero_leaves_the_batch_untouched():
  real = _real_batch(64)
  batch, mask = optimistic_batch(jax.random.PRNGKey(0), real, 3, _cfg(0.0))
  assert int(mask.sum()) == 0
  jax.tree.map(np.testing.assert_array_equal, batch, real)


def test_both_sources_split_half_and_half():
  real = jnp.full((8, 4), 100.0)
  z = optimism.synthetic_latents(jax.random.PRNGKey(1), 10, real, "both", noise=0.1)
  near_replay = np.abs(np.asarray(z) - 100.0).max(axis=1) < 1.0
  assert near_replay.tolist() == [False] * 5 + [True] * 5


def _train_q(ratio, steps=300):
  """Q on a one-state MDP: the visited dead end D (every action: reward 0, episode over)."""
  net = networks.MLP((64, 64, 3), zero_head=True)
  params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
  opt = optax.adam(3e-3)

  def step(carry, key):
    params, opt_state = carry
    batch, _ = optimistic_batch(key, _real_batch(64), 3, _cfg(ratio))
    grads = jax.grad(lambda p: double_dqn_loss(net.apply, p, p, batch, 1.0)[0])(params)
    updates, opt_state = opt.update(grads, opt_state)
    return (optax.apply_updates(params, updates), opt_state), None

  (params, _), _ = jax.lax.scan(step, (params, opt.init(params)),
                                jax.random.split(jax.random.PRNGKey(1), steps))
  dead_end = net.apply(params, jnp.full((1, 4), 3.0)).max()
  unvisited = net.apply(params, jax.random.normal(jax.random.PRNGKey(2), (256, 4))).max(-1).mean()
  return float(dead_end), float(unvisited)


def test_optimism_makes_unvisited_region_beat_visited_dead_end():
  dead_end, unvisited = _train_q(ratio=0.25)
  assert unvisited > dead_end + 0.25, (dead_end, unvisited)
  dead_end, unvisited = _train_q(ratio=0.0)
  assert unvisited <= dead_end + 1e-6, (dead_end, unvisited)
