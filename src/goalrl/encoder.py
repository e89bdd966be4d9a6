"""The autoencoder: observations -> latent vectors, trained on its own diverse replay stream.

Architecture from the config (``config.agent.encoder``): conv layers with ``kernels``/``channels``/
``strides`` (SAME padding), an optional ``hidden`` dense layer, a dense layer to ``latent`` units;
the decoder mirrors it with transposed convs. Empty ``kernels`` gives a dense autoencoder: the
MiniGrid default, because on XLA:CPU conv gradients inside the training scan are ~10x slower than
outside it (measured: optimistic DQN :quick runs at 960 env steps/s with one 3x3 conv layer,
11,500 without), and a 7x7 egocentric view gains little from convolution. Inputs: Atari frame stacks scaled to [0, 1] (loss: squared error summed over
pixels), MiniGrid cells as one-hot (object, colour, state) plus the direction broadcast to every
cell (loss: cross-entropy summed over cells and the four groups).

Latent regulariser (``regulariser``):

* ``none``: a plain autoencoder (the note's Atari setting);
* ``kl``: a VAE; the latent used downstream is the posterior mean;
* ``mmd``: the note's preference, "enforce that the sampled values have a certain distribution":
  the maximum mean discrepancy (inverse multiquadratic kernel, as in Wasserstein autoencoders)
  between a batch of latents and samples of N(0, I). No per-sample KL term.

The component keeps its own state (params, optimiser, stream) and is driven by the agent that owns
it: ``observe`` offers every env observation to the stream, ``update`` takes one gradient step on a
batch drawn from it. Agents call ``encode`` under ``stop_gradient`` unless ``agent_grads`` is set.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from goalrl import diverse_replay, networks
from goalrl.envs import EnvSpec
from goalrl.networks import MINIGRID_CHANNEL_SIZES

REGULARISERS = ("none", "kl", "mmd")
MINIGRID_GROUPS = (*MINIGRID_CHANNEL_SIZES, 4)  # + direction


def encoder_input(kind: str, obs) -> jnp.ndarray:
  """Float NHWC input (and reconstruction target) for a batch of observations."""
  if kind == "atari":
    return jnp.transpose(obs, (0, 2, 3, 1)).astype(jnp.float32) / 255.0
  image = obs["image"].astype(jnp.int32)
  groups = [nn.one_hot(jnp.clip(image[..., i], 0, n - 1), n)
            for i, n in enumerate(MINIGRID_CHANNEL_SIZES)]
  direction = nn.one_hot(obs["direction"], 4)[:, None, None, :]
  groups.append(jnp.broadcast_to(direction, (*image.shape[:3], 4)))
  return jnp.concatenate(groups, axis=-1)


def reconstruction_loss(kind: str, output: jnp.ndarray, target: jnp.ndarray) -> jnp.ndarray:
  """Per-observation loss [B]: summed squared error (Atari), summed group cross-entropy (MiniGrid)."""
  if kind == "atari":
    return jnp.sum((output - target) ** 2, axis=(1, 2, 3))
  loss, start = 0.0, 0
  for n in MINIGRID_GROUPS:
    logits, labels = output[..., start:start + n], target[..., start:start + n]
    loss += jnp.sum(optax.softmax_cross_entropy(logits, labels), axis=(1, 2))
    start += n
  return loss


def kl_to_standard_normal(mean: jnp.ndarray, logvar: jnp.ndarray) -> jnp.ndarray:
  return 0.5 * jnp.sum(jnp.exp(logvar) + mean ** 2 - 1.0 - logvar, axis=-1)


def mmd_to_standard_normal(z: jnp.ndarray, key) -> jnp.ndarray:
  """Unbiased MMD^2 between latents ``z`` [B, D] and as many N(0, I) samples (IMQ kernel)."""
  b, d = z.shape
  prior = jax.random.normal(key, z.shape)
  scale = 2.0 * d

  def kernel(x, y):
    sq = jnp.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)
    return scale / (scale + sq)

  off_diag = 1.0 - jnp.eye(b)
  same = lambda k: jnp.sum(k * off_diag) / (b * (b - 1))
  return same(kernel(z, z)) + same(kernel(prior, prior)) - 2.0 * jnp.mean(kernel(z, prior))


class Encoder(nn.Module):
  kernels: Sequence[int]
  channels: Sequence[int]
  strides: Sequence[int]
  latent: int
  stochastic: bool  # VAE: output mean and log-variance
  hidden: int = 0  # a dense layer before the latent (0 = none)
  groups: int = 1  # conv layers after the first: this many grouped convolutions (1 = plain)
  group_impl: str = "feature_group"  # networks.GroupedConv implementation

  @nn.compact
  def __call__(self, x):
    for i, (k, c, s) in enumerate(zip(self.kernels, self.channels, self.strides)):
      if i > 0 and self.groups > 1:
        x = nn.relu(networks.GroupedConv(c, (k, k), (s, s), self.groups, self.group_impl)(x))
      else:
        x = nn.relu(nn.Conv(c, (k, k), strides=(s, s), padding="SAME")(x))
    x = x.reshape(x.shape[0], -1)
    if self.hidden:
      x = nn.relu(nn.Dense(self.hidden)(x))
    out = nn.Dense(self.latent * (2 if self.stochastic else 1))(x)
    if self.stochastic:
      mean, logvar = jnp.split(out, 2, axis=-1)
      return mean, jnp.clip(logvar, -10.0, 10.0)
    return out, None


class Decoder(nn.Module):
  kernels: Sequence[int]
  channels: Sequence[int]
  strides: Sequence[int]
  output_shape: tuple[int, int, int]  # H, W, C of the encoder input
  hidden: int = 0

  @nn.compact
  def __call__(self, z):
    if self.hidden:
      z = nn.relu(nn.Dense(self.hidden)(z))
    h, w, c_in = self.output_shape
    for s in self.strides:
      h, w = -(-h // s), -(-w // s)
    c = self.channels[-1] if self.channels else c_in
    x = nn.Dense(h * w * c)(z).reshape(z.shape[0], h, w, c)
    layers = list(zip(self.kernels, self.strides))[::-1]
    outs = [*self.channels[::-1][1:], c_in]
    for i, ((k, s), c) in enumerate(zip(layers, outs)):
      x = nn.relu(x)
      x = nn.ConvTranspose(c, (k, k), strides=(s, s), padding="SAME")(x)
    return x[:, :self.output_shape[0], :self.output_shape[1]]


@flax.struct.dataclass
class EncoderState:
  params: Any  # {"encoder": ..., "decoder": ...}
  opt_state: Any
  stream: diverse_replay.StreamState
  num_updates: jnp.ndarray


class AutoEncoder(NamedTuple):
  init: Callable[..., EncoderState]
  encode: Callable[..., jnp.ndarray]  # (params, obs) -> latent [B, latent]
  loss: Callable[..., Any]  # (params, obs, key) -> (loss, metrics)
  observe: Callable[..., EncoderState]  # (state, obs [N, ...], key) -> state
  update: Callable[..., Any]  # (state, key) -> (state, metrics)
  decode: Callable[..., jnp.ndarray]  # (params, latent) -> reconstruction in input space
  optimiser: optax.GradientTransformation


def example_obs(spec: EnvSpec):
  """One observation (no batch axis) of the env's layout."""
  if spec.kind == "atari":
    return jnp.zeros((spec.stack, *spec.frame_shape), jnp.uint8)
  return dict(image=jnp.zeros(spec.frame_shape, jnp.uint8), direction=jnp.zeros((), jnp.int32))


def make_autoencoder(cfg, spec: EnvSpec) -> AutoEncoder:
  """``cfg`` is ``config.encoder`` (see ``experiments/optimistic_dqn.py``)."""
  one = jax.tree.map(lambda x: x[None], example_obs(spec))
  in_shape = encoder_input(spec.kind, one).shape[1:]
  enc = Encoder(tuple(cfg.kernels), tuple(cfg.channels), tuple(cfg.strides), cfg.latent,
                stochastic=cfg.regulariser == "kl", hidden=cfg.hidden,
                groups=cfg.get("groups", 1), group_impl=cfg.get("group_impl", "feature_group"))
  dec = Decoder(tuple(cfg.kernels), tuple(cfg.channels), tuple(cfg.strides), tuple(in_shape),
                hidden=cfg.hidden)
  optimiser = networks.make_optimiser(cfg.learning_rate)

  def init(key) -> EncoderState:
    k_enc, k_dec = jax.random.split(key)
    x = encoder_input(spec.kind, one)
    params = {"encoder": enc.init(k_enc, x),
              "decoder": dec.init(k_dec, jnp.zeros((1, cfg.latent)))}
    return EncoderState(params=params, opt_state=optimiser.init(params),
                        stream=diverse_replay.init(example_obs(spec), cfg.stream_size),
                        num_updates=jnp.zeros((), jnp.int32))

  def encode(params, obs):
    return enc.apply(params["encoder"], encoder_input(spec.kind, obs))[0]

  def decode(params, z):
    out = dec.apply(params["decoder"], z)
    if spec.kind == "atari":
      return out
    parts, start = [], 0  # MiniGrid: per-group probabilities
    for n in MINIGRID_GROUPS:
      parts.append(jax.nn.softmax(out[..., start:start + n]))
      start += n
    return jnp.concatenate(parts, axis=-1)

  def loss(params, obs, key):
    x = encoder_input(spec.kind, obs)
    mean, logvar = enc.apply(params["encoder"], x)
    k_sample, k_mmd = jax.random.split(key)
    if cfg.regulariser == "kl":
      z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(k_sample, mean.shape)
      reg = jnp.mean(kl_to_standard_normal(mean, logvar))
    elif cfg.regulariser == "mmd":
      z, reg = mean, mmd_to_standard_normal(mean, k_mmd)
    else:
      z, reg = mean, jnp.zeros(())
    recon = jnp.mean(reconstruction_loss(spec.kind, dec.apply(params["decoder"], z), x))
    return recon + cfg.reg_weight * reg, {"recon_loss": recon, "latent_reg": reg,
                                          "latent_norm": jnp.mean(jnp.linalg.norm(mean, axis=-1))}

  def observe(state: EncoderState, obs, key) -> EncoderState:
    return state.replace(stream=diverse_replay.add(state.stream, obs, key, cfg.stream))

  def update(state: EncoderState, key):
    k_sample, k_loss = jax.random.split(key)
    batch = diverse_replay.sample(state.stream, k_sample, cfg.batch_size)
    grads, metrics = jax.grad(loss, has_aux=True)(state.params, batch, k_loss)
    updates, opt_state = optimiser.update(grads, state.opt_state, state.params)
    return state.replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state,
                         num_updates=state.num_updates + 1), metrics

  return AutoEncoder(init=init, encode=encode, loss=loss, observe=observe, update=update,
                     decode=decode, optimiser=optimiser)


def param_count(params) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(params)))


def step_after_agent(ae: AutoEncoder, state: EncoderState, agent_grads, use_agent_grads: bool,
                     key):
  """The encoder's step inside an agent update: first the agent losses' gradients (only when the
  config lets them reach the encoder), then one reconstruction step on the encoder's stream."""
  if use_agent_grads:
    updates, opt_state = ae.optimiser.update(agent_grads, state.opt_state, state.params)
    state = state.replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state)
  return ae.update(state, key)
