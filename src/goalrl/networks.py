"""Flax modules: observation torsos and Q heads.

Torsos map one env's observation layout to a feature vector; heads sit on top. Inputs always carry
a leading batch axis. Pixel/uint8 decoding happens here, so replay and the loop move uint8 only.
Later agents (encoder, Q(s, g), actor) add their modules here and reuse the torsos.
:func:`make_optimiser` is the one optimiser every learner uses (it averages gradients over devices).
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from goalrl import parallel
from goalrl.config import GROUP_IMPLS
from goalrl.layout import MINIGRID_PLANES


def minigrid_cells_onehot(image) -> jnp.ndarray:
  """MiniGrid images ``[..., 7, 7, 3]`` (object, colour, state indices) -> one-hot cells
  ``[..., 7, 7, 20]``. The one encoding every MiniGrid network reads (torsos, autoencoder)."""
  image = image.astype(jnp.int32)
  return jnp.concatenate([nn.one_hot(jnp.clip(image[..., i], 0, n - 1), n)
                          for i, n in enumerate(MINIGRID_PLANES)], axis=-1)


class MiniGridTorso(nn.Module):
  """One-hot cell encoding and the agent's direction, flattened, then a dense layer.

  Dense rather than convolutional on purpose: on XLA:CPU the *gradients* of convolutions run
  ~8x slower inside ``lax.scan`` than outside it (measured: 17 ms vs 2.2 ms per MiniGrid conv
  update, 0.4 ms for this MLP), and the training loop is one scan. On a 7x7 egocentric view a dense
  layer loses little.
  """
  hidden: int = 256

  @nn.compact
  def __call__(self, obs):
    x = minigrid_cells_onehot(obs["image"])
    x = jnp.concatenate([x.reshape(x.shape[0], -1), nn.one_hot(obs["direction"], 4)], axis=-1)
    return nn.relu(nn.Dense(self.hidden)(x))


class AtariTorso(nn.Module):
  """The Nature-DQN CNN over a uint8 [stack, 84, 84] frame stack.

  Meant for GPUs: on XLA:CPU its update inside the training scan costs ~0.16 s at batch 32
  (conv gradients in a while loop), so CPU Atari runs are smoke tests.
  """
  hidden: int = 512

  @nn.compact
  def __call__(self, obs):
    x = jnp.transpose(obs, (0, 2, 3, 1)).astype(jnp.float32) / 255.0
    x = nn.relu(nn.Conv(32, (8, 8), strides=(4, 4), padding="VALID")(x))
    x = nn.relu(nn.Conv(64, (4, 4), strides=(2, 2), padding="VALID")(x))
    x = nn.relu(nn.Conv(64, (3, 3), strides=(1, 1), padding="VALID")(x))
    x = x.reshape(x.shape[0], -1)
    return nn.relu(nn.Dense(self.hidden)(x))


class MiniGridConvTorso(nn.Module):
  """The common small MiniGrid CNN: one-hot cells, three 2x2 convolutions (16, 32, 64), flattened
  with the agent's direction, then a dense layer. Translation-equivariant where the dense torso
  is not; its gradients are the slow part on XLA:CPU (see :class:`MiniGridTorso`), so it is an
  option (``agent.torso="conv"``), meant for GPUs and for comparisons with conv-net baselines.
  """
  hidden: int = 256

  @nn.compact
  def __call__(self, obs):
    x = minigrid_cells_onehot(obs["image"])
    for channels in (16, 32, 64):
      x = nn.relu(nn.Conv(channels, (2, 2), padding="VALID")(x))
    x = jnp.concatenate([x.reshape(x.shape[0], -1), nn.one_hot(obs["direction"], 4)], axis=-1)
    return nn.relu(nn.Dense(self.hidden)(x))


def make_torso(kind: str, hidden: int, torso: str = "dense") -> nn.Module:
  """Atari: always the Nature CNN; MiniGrid: ``torso`` is "dense" or "conv"."""
  if kind == "atari":
    return AtariTorso(hidden=hidden)
  return {"dense": MiniGridTorso, "conv": MiniGridConvTorso}[torso](hidden=hidden)


class QNetwork(nn.Module):
  """Q(s, .) for discrete actions: torso, optional extra dense layers, linear head."""
  torso: nn.Module
  num_actions: int
  head_layers: Sequence[int] = ()

  @nn.compact
  def __call__(self, obs):
    x = self.torso(obs)
    for width in self.head_layers:
      x = nn.relu(nn.Dense(width)(x))
    return nn.Dense(self.num_actions)(x)


class MLP(nn.Module):
  """Dense layers with ReLU between them; the last layer is linear and may start at zero.

  ``zero_head`` makes every output start at exactly 0 (a neutral Q before any data): then a
  region that no batch touches keeps Q = 0, and only optimism can lift it.
  """
  layers: Sequence[int]
  zero_head: bool = False

  @nn.compact
  def __call__(self, x):
    for width in self.layers[:-1]:
      x = nn.relu(nn.Dense(width)(x))
    init = nn.initializers.zeros if self.zero_head else nn.initializers.lecun_normal()
    return nn.Dense(self.layers[-1], kernel_init=init)(x)


class GoalConditionedQ(nn.Module):
  """Q(s, g, .) over an observation and a goal latent: ``torso(obs)`` joined with ``goal``, then
  dense layers (``layers``, the last one the action values). The goal agent's actor with
  ``actor_input="observation"``: it learns its own features of the state, as DQN does. ``goal``
  [B, ..., D] may hold several goals per observation (obs [B, ...]): the torso runs once per
  observation and its features are shared by that observation's goals. ``zero_head``: every
  action value starts at exactly 0 (``MLP``'s)."""
  torso: nn.Module
  layers: Sequence[int]
  zero_head: bool = False

  @nn.compact
  def __call__(self, obs, goal):
    features = self.torso(obs)
    features = features.reshape(features.shape[:1] + (1,) * (goal.ndim - 2) + features.shape[1:])
    features = jnp.broadcast_to(features, goal.shape[:-1] + features.shape[-1:])
    return MLP(self.layers, self.zero_head)(jnp.concatenate([features, goal], axis=-1))


class GroupedConv(nn.Module):
  """``groups`` small convolutions side by side: group ``g`` sees input channels
  ``[g*C/G, (g+1)*C/G)`` and writes output features ``[g*F/G, (g+1)*F/G)`` (the note's "many small
  convolutions at once", instead of separable convolutions with 0/1 pointwise masks).

  Two implementations of the same function over the same parameters (kernel
  ``[groups, kh, kw, C/G, F/G]``, bias ``[F]``), so either can be switched in for the other:

  * ``"feature_group"``: one XLA convolution with ``feature_group_count=groups`` (what Flax's
    ``nn.Conv(feature_group_count=...)`` lowers to);
  * ``"vmap"``: ``jax.vmap`` of a plain convolution over the group axis.

  ``benchmarks/grouped_conv.py`` times both (forward + backward, the note's 64-channel 8x8 layer at
  batch 32). On the 2-core CPU: plain 482 ms; G=2: 3,456 (feature_group) vs 3,356 ms (vmap); G=4:
  5,621 vs 5,842; G=8: 11,262 vs 11,853 -- the two are equal within noise, and both are far slower
  than the plain convolution there, so encoders default to ``groups=1``. GPU: not measured yet.
  """
  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  groups: int = 1
  impl: str = "feature_group"
  padding: str = "SAME"

  @nn.compact
  def __call__(self, x):
    c, g = x.shape[-1], self.groups
    if c % g or self.features % g or self.impl not in GROUP_IMPLS:
      raise ValueError(f"GroupedConv: input channels {c} and features {self.features} must divide "
                       f"by groups={g}; impl must be one of {GROUP_IMPLS} (got {self.impl!r})")
    kernel = self.param("kernel", nn.initializers.lecun_normal(batch_axis=(0,)),
                        (g, *self.kernel_size, c // g, self.features // g))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    conv = lambda inputs, k, groups=1: jax.lax.conv_general_dilated(
        inputs, k, self.strides, self.padding, dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=groups)
    if self.impl == "feature_group":
      flat = jnp.transpose(kernel, (1, 2, 3, 0, 4)).reshape(*self.kernel_size, c // g,
                                                              self.features)
      y = conv(x, flat, g)
    else:
      xs = jnp.moveaxis(x.reshape(*x.shape[:-1], g, c // g), -2, 0)  # [G, B, H, W, C/G]
      ys = jax.vmap(conv)(xs, kernel)  # [G, B, H', W', F/G]
      y = jnp.moveaxis(ys, 0, -2).reshape(*ys.shape[1:-1], self.features)
    return y + bias


def make_optimiser(learning_rate: float, max_grad_norm: float | None = None,
                   eps: float = 1e-8) -> optax.GradientTransformation:
  """Adam, after averaging the gradients over devices (``parallel.mean_gradients``) and, when
  ``max_grad_norm`` is given, clipping their global norm (of the averaged gradient)."""
  links = [parallel.mean_gradients()]
  if max_grad_norm is not None:
    links.append(optax.clip_by_global_norm(max_grad_norm))
  return optax.chain(*links, optax.adam(learning_rate, eps=eps))
