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

Freeze-and-grow (``grow.branches > 0``, ``goalrl.grow``): the encoder gets residual branches from
its flattened conv output to the latent, the decoder from the latent to its first deconv input;
the reconstruction step's loss decides when one is tried, kept or dropped.

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

from goalrl import diverse_replay, grow, networks
from goalrl.envs import EnvSpec
from goalrl.layout import MINIGRID_PLANES
from goalrl.networks import minigrid_cells_onehot

MINIGRID_GROUPS = (*MINIGRID_PLANES, 4)  # + direction


def encoder_input(kind: str, obs) -> jnp.ndarray:
  """Float NHWC input (and reconstruction target) for a batch of observations."""
  if kind == "atari":
    return jnp.transpose(obs, (0, 2, 3, 1)).astype(jnp.float32) / 255.0
  cells = minigrid_cells_onehot(obs["image"])
  direction = nn.one_hot(obs["direction"], 4)[:, None, None, :]
  return jnp.concatenate([cells, jnp.broadcast_to(direction, (*cells.shape[:3], 4))], axis=-1)


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
  branches: int = 0  # freeze-and-grow branches (goalrl.grow): flattened conv output -> latent
  branch_width: int = 64

  @nn.compact
  def __call__(self, x):
    for i, (k, c, s) in enumerate(zip(self.kernels, self.channels, self.strides)):
      if i > 0 and self.groups > 1:
        x = nn.relu(networks.GroupedConv(c, (k, k), (s, s), self.groups, self.group_impl)(x))
      else:
        x = nn.relu(nn.Conv(c, (k, k), strides=(s, s), padding="SAME")(x))
    features = x = x.reshape(x.shape[0], -1)
    if self.hidden:
      x = nn.relu(nn.Dense(self.hidden)(x))
    out = nn.Dense(self.latent * (2 if self.stochastic else 1))(x)
    out = grow.add_branches(features, out, self.branches, self.branch_width)
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
  branches: int = 0  # freeze-and-grow branches (goalrl.grow): latent -> first deconv input
  branch_width: int = 64

  @nn.compact
  def __call__(self, z):
    latent = z
    if self.hidden:
      z = nn.relu(nn.Dense(self.hidden)(z))
    h, w, c_in = self.output_shape
    for s in self.strides:
      h, w = -(-h // s), -(-w // s)
    c = self.channels[-1] if self.channels else c_in
    x = grow.add_branches(latent, nn.Dense(h * w * c)(z), self.branches, self.branch_width)
    x = x.reshape(z.shape[0], h, w, c)
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
  grow: Any = None  # grow.GrowState when ``grow.branches > 0``
  # ``train_every > 1``: the metrics of the last reconstruction step, logged again on the agent
  # updates that skip it (None with ``train_every = 1``: the state is as before the knob existed)
  last_metrics: Any = None


class AutoEncoder(NamedTuple):
  init: Callable[..., EncoderState]
  encode: Callable[..., jnp.ndarray]  # (params, obs) -> latent [B, latent]
  loss: Callable[..., Any]  # (params, obs, key) -> (loss, metrics)
  observe: Callable[..., EncoderState]  # (state, obs [N, ...], key) -> state
  update: Callable[..., Any]  # (state, key) -> (state, metrics)
  # (state, key, agent update count) -> (state, metrics): ``update`` on every ``train_every``-th
  # agent update, else the state unchanged and the last step's metrics
  update_when_due: Callable[..., Any]
  decode: Callable[..., jnp.ndarray]  # (params, latent) -> reconstruction in input space
  apply_gradients: Callable[..., EncoderState]  # (state, grads) -> state (frozen modules kept)


def make_autoencoder(cfg, spec: EnvSpec) -> AutoEncoder:
  """``cfg`` is ``config.encoder`` (see ``experiments/optimistic_dqn.py``).

  With ``cfg.grow.branches > 0`` the encoder and the decoder each get that many freeze-and-grow
  branches (``goalrl.grow``), run by the reconstruction step's loss; 0 is exactly the plain
  autoencoder (same parameters, optimiser and numbers).
  """
  one = spec.zero_obs(1)
  in_shape = encoder_input(spec.kind, one).shape[1:]
  grow_cfg = cfg.get("grow")
  branches = grow_cfg.branches if grow_cfg is not None else 0
  width = grow_cfg.width if branches else 0
  enc = Encoder(tuple(cfg.kernels), tuple(cfg.channels), tuple(cfg.strides), cfg.latent,
                stochastic=cfg.regulariser == "kl", hidden=cfg.hidden,
                groups=cfg.get("groups", 1), group_impl=cfg.get("group_impl", "feature_group"),
                branches=branches, branch_width=width)
  dec = Decoder(tuple(cfg.kernels), tuple(cfg.channels), tuple(cfg.strides), tuple(in_shape),
                hidden=cfg.hidden, branches=branches, branch_width=width)

  def init_params(key):
    k_enc, k_dec = jax.random.split(key)
    return {"encoder": enc.init(k_enc, encoder_input(spec.kind, one)),
            "decoder": dec.init(k_dec, jnp.zeros((1, cfg.latent)))}

  if branches:
    optimiser = grow.make_optimiser(lambda: optax.adam(cfg.learning_rate),
                                    jax.eval_shape(init_params, jax.random.PRNGKey(0)), branches)
  else:
    optimiser = networks.make_optimiser(cfg.learning_rate)

  every = cfg.get("train_every", 1)

  def init(key) -> EncoderState:
    params = init_params(key)
    state = EncoderState(params=params, opt_state=optimiser.init(params),
                         stream=diverse_replay.init(spec.zero_obs(), cfg.stream_size),
                         num_updates=jnp.zeros((), jnp.int32),
                         grow=grow.init() if branches else None)
    if every > 1:
      shapes = jax.eval_shape(update, state, key)[1]
      state = state.replace(last_metrics=jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype),
                                                      shapes))
    return state

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

  def apply_gradients(state: EncoderState, grads) -> EncoderState:
    """One optimiser step; with branches, only the module the grow schedule trains moves."""
    extra = {"trainable": grow.training_module(state.grow)} if branches else {}
    updates, opt_state = optimiser.update(grads, state.opt_state, state.params, **extra)
    return state.replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state)

  def reset_dropped(state: EncoderState, schedule, key):
    """Branches beyond the kept ones back to a fresh zero-output start (after a dropped trial)."""
    fresh = init_params(key)
    return grow.reset_inactive(schedule, state.params, state.opt_state, fresh,
                               optimiser.init(fresh))

  def update(state: EncoderState, key):
    k_sample, k_loss = jax.random.split(key)
    batch = diverse_replay.sample(state.stream, k_sample, cfg.batch_size)
    (total, metrics), grads = jax.value_and_grad(loss, has_aux=True)(state.params, batch, k_loss)
    state = apply_gradients(state, grads)
    if branches:
      schedule, dropped = grow.step(state.grow, total, grow_cfg, branches)
      params, opt_state = jax.lax.cond(
          dropped, lambda: reset_dropped(state, schedule, jax.random.fold_in(key, 1)),
          lambda: (state.params, state.opt_state))
      state = state.replace(params=params, opt_state=opt_state, grow=schedule)
      metrics = {**metrics, **grow.metrics(schedule)}
    return state.replace(num_updates=state.num_updates + 1), metrics

  def update_when_due(state: EncoderState, key, count):
    if every == 1:  # exactly the step as before the knob existed
      return update(state, key)

    def step(state, key):
      state, metrics = update(state, key)
      return state.replace(last_metrics=metrics), metrics

    return jax.lax.cond(count % every == 0, step, lambda s, k: (s, s.last_metrics), state, key)

  return AutoEncoder(init=init, encode=encode, loss=loss, observe=observe, update=update,
                     update_when_due=update_when_due, decode=decode,
                     apply_gradients=apply_gradients)


def param_count(params) -> int:
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(params)))


def step_after_agent(ae: AutoEncoder, state: EncoderState, agent_grads, use_agent_grads: bool,
                     key, count):
  """The encoder's step inside agent update number ``count``: first the agent losses' gradients
  (only when the config lets them reach the encoder; at every agent update), then one
  reconstruction step on the encoder's stream when due (``train_every``)."""
  if use_agent_grads:
    state = ae.apply_gradients(state, agent_grads)
  return ae.update_when_due(state, key, count)
