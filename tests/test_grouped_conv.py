"""Grouped convolutions: both implementations compute the same function of the same parameters,
and each group sees only its own slice of the input channels."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from goalrl import networks


def _conv(impl, groups=4):
  return networks.GroupedConv(features=16, kernel_size=(3, 3), strides=(2, 2), groups=groups,
                              impl=impl)


def test_vmap_and_feature_group_agree_on_outputs_and_gradients():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 9, 9, 8))
  params = _conv("vmap").init(jax.random.PRNGKey(1), x)
  outs = {impl: _conv(impl).apply(params, x) for impl in networks.GROUP_IMPLS}
  assert outs["vmap"].shape == (2, 5, 5, 16)
  np.testing.assert_allclose(outs["vmap"], outs["feature_group"], atol=1e-5)
  grads = {impl: jax.grad(lambda p: jnp.sum(_conv(impl).apply(p, x) ** 2))(params)
           for impl in networks.GROUP_IMPLS}
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4),
               grads["vmap"], grads["feature_group"])


@pytest.mark.parametrize("impl", networks.GROUP_IMPLS)
def test_each_group_sees_only_its_own_channels(impl):
  x = jax.random.normal(jax.random.PRNGKey(0), (1, 6, 6, 8))
  conv = _conv(impl)
  params = conv.init(jax.random.PRNGKey(1), x)
  changed = conv.apply(params, x.at[..., 2:4].add(1.0)) - conv.apply(params, x)  # group 1 of 4
  moved = np.abs(np.asarray(changed)).reshape(-1, 4, 4).max(axis=(0, 2))  # per output group
  assert moved[1] > 1e-3 and np.all(moved[[0, 2, 3]] == 0)


def test_one_group_is_a_plain_convolution():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 7, 7, 3))
  params = _conv("feature_group", groups=1).init(jax.random.PRNGKey(1), x)
  plain = jax.lax.conv_general_dilated(x, params["params"]["kernel"][0], (2, 2), "SAME",
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
  np.testing.assert_allclose(_conv("feature_group", groups=1).apply(params, x),
                             plain + params["params"]["bias"], atol=1e-5)


@pytest.mark.slow
def test_encoder_groups_switch_and_validation(experiment):
  from goalrl import config as config_lib
  from goalrl import encoder, envs
  cfg = experiment("optimistic_dqn", "atari_note")
  spec = envs.EnvSpec("MontezumaRevenge-v5", "atari", 1, 18, (84, 84), 4, 1, 1, False)
  obs = jax.random.randint(jax.random.PRNGKey(0), (2, 4, 84, 84), 0, 255).astype(jnp.uint8)
  cfg.agent.encoder.update(dict(kernels=(4, 4, 3, 3), channels=(8, 16, 16, 16), latent=16,
                               groups=4))  # the note's layout, fewer channels: seconds on a CPU
  encodings = {}
  for impl in networks.GROUP_IMPLS:
    cfg.agent.encoder.group_impl = impl
    ae = encoder.make_autoencoder(cfg.agent.encoder, spec)
    params = jax.jit(ae.init)(jax.random.PRNGKey(1)).params
    kernels = [k for k in jax.tree_util.tree_leaves_with_path(params)
               if "GroupedConv" in jax.tree_util.keystr(k[0]) and k[1].ndim == 5]
    assert len(kernels) == 3  # layers 2..4 grouped, the first plain
    encodings[impl] = jax.jit(ae.encode)(params, obs)
  np.testing.assert_allclose(encodings["vmap"], encodings["feature_group"], rtol=1e-4, atol=1e-4)
  cfg.agent.encoder.groups = 3  # 8 and 16 channels do not divide by 3
  with pytest.raises(config_lib.ConfigError, match="agent.encoder.groups=3"):
    config_lib.validate(cfg)
