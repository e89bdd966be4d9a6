"""The autoencoder: shapes for both Atari encoders (the note's and the default), every
regulariser, and learning."""
import jax
import jax.numpy as jnp
import pytest

from goalrl import encoder, envs
from goalrl.config import encoder_defaults
from helpers import minigrid_obs as _minigrid_obs


@pytest.mark.parametrize("atari", ["note", "nature"])
def test_atari_encoders_round_trip_shapes(atari):
  spec = envs.EnvSpec("MontezumaRevenge-v5", "atari", 2, 18, (84, 84), 4, 1, 1, True)
  ae = encoder.make_autoencoder(encoder_defaults("atari", atari, stream_size=4), spec)
  state = ae.init(jax.random.PRNGKey(0))
  obs = jnp.zeros((2, 4, 84, 84), jnp.uint8)
  z = ae.encode(state.params, obs)
  assert z.shape == (2, 256)
  assert ae.decode(state.params, z).shape == (2, 84, 84, 4)


@pytest.mark.parametrize("regulariser", ["none", "kl", "mmd"])
@pytest.mark.parametrize("kernels", [(), (3,)])
def test_reconstruction_loss_falls(regulariser, kernels):
  spec, obs = _minigrid_obs()
  cfg = encoder_defaults("minigrid", regulariser=regulariser, kernels=kernels,
                         channels=(8,) * len(kernels), strides=(1,) * len(kernels),
                         reg_weight=1.0, stream_size=256)
  ae = encoder.make_autoencoder(cfg, spec)
  state = ae.init(jax.random.PRNGKey(0))
  state = ae.observe(state, obs, jax.random.PRNGKey(1))
  first = float(ae.loss(state.params, obs, jax.random.PRNGKey(2))[1]["recon_loss"])
  update = jax.jit(ae.update)
  for i in range(150):
    state, metrics = update(state, jax.random.PRNGKey(10 + i))
  last = float(ae.loss(state.params, obs, jax.random.PRNGKey(2))[1]["recon_loss"])
  assert last < 0.5 * first, (first, last)
  assert ae.decode(state.params, ae.encode(state.params, obs)).shape == (256, 7, 7, 24)


def test_mmd_is_small_for_prior_samples_and_large_for_shifted():
  key = jax.random.PRNGKey(0)
  prior_like = jax.random.normal(jax.random.PRNGKey(1), (256, 8))
  near = float(encoder.mmd_to_standard_normal(prior_like, key))
  far = float(encoder.mmd_to_standard_normal(prior_like + 3.0, key))
  assert abs(near) < 0.02 and far > 0.2, (near, far)


def test_train_every_steps_the_encoder_on_every_kth_agent_update_only():
  spec, obs = _minigrid_obs()
  key = jax.random.PRNGKey(0)
  plain = encoder.make_autoencoder(encoder_defaults("minigrid", stream_size=64), spec)
  every = encoder.make_autoencoder(encoder_defaults("minigrid", stream_size=64, train_every=3),
                                   spec)
  assert plain.init(key).last_metrics is None  # the state of train_every=1 is as it always was
  states = {k: jax.jit(lambda k_: ae.observe(ae.init(k_), obs, k_))(key)
            for k, ae in (("plain", plain), ("every", every))}
  due = jax.jit(every.update_when_due)
  state, stepped = states["every"], []
  for count in range(7):
    before = state
    state, metrics = due(state, jax.random.PRNGKey(count), count)
    moved = not all(bool(jnp.array_equal(a, b)) for a, b in zip(
        jax.tree.leaves(before.params), jax.tree.leaves(state.params)))
    stepped.append(moved)
    # a skipped update logs the last step's metrics again
    assert metrics["recon_loss"] == state.last_metrics["recon_loss"]
  assert stepped == [True, False, False, True, False, False, True]
  assert int(state.num_updates) == 3
  # train_every=1 is the plain step, whatever the count
  a = jax.jit(plain.update_when_due)(states["plain"], key, 5)
  b = jax.jit(plain.update)(states["plain"], key)
  assert all(bool(jnp.array_equal(x, y)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
