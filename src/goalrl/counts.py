"""State-action visit counts by a hash of the observation, and the optimism that fades with them.

Counting: an observation's code, ``bits`` bits, indexes a table of counts ``[2**bits,
num_actions]``. Codes read the observation itself, not the agent's latent, so a count means the
same thing while the encoder trains.

* Atari: SimHash (Tang et al. 2017, "#Exploration"): the sign pattern of a fixed random Gaussian
  projection of the frame stack averaged over 4x4 pixel blocks (21x21x4), centred. Locality
  sensitive by design: frames that differ in a few pixels share a code, and so their counts.
* MiniGrid: an exact hash of the discrete view: the sum of fixed random 32-bit integers, one per
  (cell, one-hot entry) and per direction, masked to ``bits`` bits. Views that differ in one cell
  (a key picked up, a door opened) get unrelated codes, which SimHash's few bits would merge
  (measured on a DoorKey-5x5 random walk: 33 distinct views, 14 distinct SimHash codes at 16 bits,
  33 distinct exact-hash codes).

* Oracle (``source="position"``, MiniGrid with ``env.oracle_position``): the agent's true pose,
  ``position * 4 + direction`` (its cell in the map and the way it faces), read from the
  observation's ``position``, which the env gives and no network reads. Not a hash: each pose has
  its own code (16384 poses: ``bits`` >= 14). The issue's ceiling for counting: lifelong counts
  of where the agent stood, across the layouts of every episode.

Distinct observations can still share a code (a collision merges their counts): with 16 bits and a
few thousand distinct MiniGrid views, rarely. The projection and the integers come from a fixed
key, so they are constants of the program: the same on every device, seed and resume, never stored.

Optimism (OPIQ, Rashid et al. 2020): ``Q+(s, a) = Q(s, a) + c / (N(s, a) + 1) ** power``. The agent
acts greedily on ``Q+`` with ``c = action_coef`` and bootstraps its targets with ``Q+`` at the next
state with ``c = bootstrap_coef``, so unvisited actions look worth trying and their value
propagates back through the Bellman backup toward the frontier; both terms fade as the pair is
visited. Counts are lifelong (never reset): on tasks that draw a new layout every episode the
views still repeat (the egocentric 7x7 view of a wall corner looks alike everywhere).

Episodic novelty (``optimism.episode_coef`` > 0; NGU, Badia et al. 2020; E3B, Henaff et al. 2022):
each env also counts the codes of the observations of its *current* episode, in a table ``[num_envs,
2**episode_bits]`` whose row is cleared when the env's episode starts. Arriving at an observation
seen ``N_ep`` times this episode (this visit included) earns the intrinsic reward
``episode_coef / sqrt(N_ep)``, times ``1 / sqrt(N + 1)`` with ``episode_global`` (``N``: the
observation's lifelong count over all actions; the product of a global and an episodic bonus,
which Henaff et al. 2023 found the most robust), stored in replay with the env's reward. Where
every episode draws a new layout, lifelong counts of views say little about this episode's rooms;
the episodic count says which of them the agent has not yet seen *here*. Pure episodic novelty
never fades (each episode pays for its first visits again); the global factor makes it fade.

NovelD (``optimism.episode_novelty="noveld"``; Zhang et al. 2021, "NovelD: A Simple yet Effective
Exploration Criterion"): arriving at an observation pays ``episode_coef * max(nov(s') -
noveld_alpha * nov(s), 0)`` on its first visit of the episode and nothing after, where ``nov(x) =
1 / sqrt(N(x) + 1)`` is the lifelong novelty by counts (NovelD's is RND's error; counts are what
goalrl trusts, RESULTS.md §13) and ``s`` the observation before. It pays for crossing from known
ground into less known ground, the frontier, not for being anywhere new: a step from a novel
observation to another equally novel one earns only ``(1 - alpha)`` of it, and the reward fades
with the lifelong counts as the whole region becomes known. An episode's first observation pays
nothing (no step led there).

Both (``episode_novelty="count+noveld"``): the episodic count's reward at ``episode_coef`` plus
NovelD's at ``noveld_coef``: a first visit of the episode always pays (it never fades, the
MultiRoom lever of RESULTS.md §13-§14), and one that crosses into less known ground pays more
(NovelD's lead before the counts grow, §25).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from goalrl.envs import MINIGRID_MAX_SIDE, EnvSpec

PROJECTION_SEED = 20260413  # the fixed key of the hash projection (any constant would do)


class Counter(NamedTuple):
  init: Callable[[], jnp.ndarray]  # () -> int32 [2**bits, num_actions] of zeros
  codes: Callable[..., jnp.ndarray]  # (obs [B, ...]) -> int32 [B] in [0, 2**bits)
  add: Callable[..., jnp.ndarray]  # (table, obs [B, ...], actions [B], mask [B]) -> table
  counts: Callable[..., jnp.ndarray]  # (table, obs [B, ...]) -> int32 [B, num_actions]


def features(spec: EnvSpec, obs) -> jnp.ndarray:
  """[B, d]: what the hash reads of a batch of observations. Atari: float32 4x4 block means of the
  frame stack, centred per observation (so a projection's sign splits frames evenly); MiniGrid:
  int32 one-hot cells and direction (the encoder's input, flattened)."""
  if spec.kind == "atari":
    x = obs.astype(jnp.float32) / 255.0  # [B, stack, 84, 84]
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // 4, 4, w // 4, 4).mean(axis=(3, 5)).reshape(b, -1)
    return x - x.mean(axis=1, keepdims=True)
  from goalrl.networks import minigrid_cells_onehot
  cells = minigrid_cells_onehot(obs["image"]).reshape(obs["image"].shape[0], -1)
  return jnp.concatenate([cells, jax.nn.one_hot(obs["direction"], 4)], axis=-1).astype(jnp.int32)


POSES = MINIGRID_MAX_SIDE * MINIGRID_MAX_SIDE * 4  # oracle codes: cells x directions


def make_counter(spec: EnvSpec, bits: int, source: str = "observation") -> Counter:
  """A counter of ``spec``'s observations with ``2**bits`` codes per action (see the module doc);
  ``source="position"``: of the agent's pose instead (MiniGrid with ``spec.position``)."""
  if source == "position" and not spec.position:
    raise ValueError("counts source 'position' needs the observation's position: set "
                     "env.oracle_position=True (MiniGrid only)")
  if source == "position" and 2 ** bits < POSES:
    raise ValueError(f"counts source 'position' has {POSES} codes: bits={bits} is too few")
  dim = jax.eval_shape(lambda o: features(spec, o), spec.zero_obs(1)).shape[-1]
  weights = 2 ** jnp.arange(bits, dtype=jnp.int32)
  key = jax.random.PRNGKey(PROJECTION_SEED)
  # Drawn once here, outside any trace: constants of the compiled loop, not per-step work.
  if spec.kind == "atari":
    projection = jax.device_get(jax.random.normal(key, (dim, bits)))
  else:
    ints = jax.device_get(jax.random.bits(key, (dim,), jnp.uint32).astype(jnp.int32))  # wraps

  def codes(obs):
    if source == "position":
      return obs["position"] * 4 + obs["direction"]
    x = features(spec, obs)
    if spec.kind == "atari":
      signs = (x @ projection) > 0
      return jnp.sum(signs.astype(jnp.int32) * weights, axis=-1)
    return jnp.bitwise_and(x @ ints, 2 ** bits - 1)

  def init():
    return jnp.zeros((2 ** bits, spec.num_actions), jnp.int32)

  def add(table, obs, actions, mask):
    return table.at[codes(obs), actions].add(mask.astype(jnp.int32))

  def counts(table, obs):
    return table[codes(obs)]

  return Counter(init=init, codes=codes, add=add, counts=counts)


def add_step(counter: Counter, table: jnp.ndarray, ts, actions: jnp.ndarray) -> jnp.ndarray:
  """Counts each env's (observation, action) of one loop step (``ts`` an ``envs.TimeStep``). An
  observation that ends an episode is not counted: envpool ignores the action given there."""
  return counter.add(table, ts.obs, actions, ~(ts.terminated | ts.truncated))


def episode_visit(table: jnp.ndarray, codes: jnp.ndarray, first: jnp.ndarray) -> jnp.ndarray:
  """Counts one visit of each env's code this episode: ``table`` int32 [N, 2**episode_bits],
  ``codes`` int32 [N] already in range, ``first`` bool [N] (the obs starts an episode: its env's
  row is cleared first)."""
  table = jnp.where(first[:, None], 0, table)
  return table.at[jnp.arange(codes.shape[0]), codes].add(1)


def episode_reward(episode_counts: jnp.ndarray, coef: float,
                   lifelong: jnp.ndarray | None = None) -> jnp.ndarray:
  """The episodic intrinsic reward ``coef / sqrt(N_ep)`` (float32 [N]; ``N_ep`` >= 1 counts this
  visit), times ``1 / sqrt(N + 1)`` where the lifelong counts ``N`` [N] are given."""
  r = coef / jnp.sqrt(jnp.maximum(episode_counts, 1).astype(jnp.float32))
  return r if lifelong is None else r / jnp.sqrt(lifelong.astype(jnp.float32) + 1.0)


def noveld_reward(episode_counts: jnp.ndarray, novelty: jnp.ndarray, last: jnp.ndarray,
                  first: jnp.ndarray, alpha: float) -> jnp.ndarray:
  """NovelD's reward for arriving at an observation (float32 [N], before ``episode_coef``):
  ``max(novelty - alpha * last, 0)`` where this is its first visit of the episode
  (``episode_counts`` == 1, this visit included) and it does not start the episode (``first``);
  0 otherwise. ``novelty``, ``last``: ``1 / sqrt(N + 1)`` of this and the previous observation."""
  pays = (episode_counts == 1) & ~first
  return jnp.where(pays, jnp.maximum(novelty - alpha * last, 0.0), 0.0)


class Episodic(NamedTuple):
  """Episodic novelty over a counter's codes, as both latent agents use it (``make_episodic``).
  Its state is each env's episode table (``count``), or a dict of that table, the previous
  observation's novelty and the reward of the latest visit (``noveld``)."""
  init: Callable[[int], object]  # (num_envs) -> the state, zeros
  # (state, obs [N, ...], first [N], lifelong table or None) -> state, obs counted
  visit: Callable[..., object]
  # (state, lifelong table or None, obs [N, ...]) -> float32 [N]: the reward for arriving at obs
  reward: Callable[..., jnp.ndarray]


def reads_lifelong(opt) -> bool:
  """Whether ``opt``'s episodic novelty reads the lifelong counts (``episode_global``, or NovelD's
  novelty), so that the agent must keep that table even without OPIQ's bonuses."""
  return opt.get("episode_coef", 0.0) > 0 and (
      opt.get("episode_global", False) or opt.get("episode_novelty", "count") != "count")


def make_episodic(counter: Counter, opt) -> Episodic | None:
  """The episodic novelty of ``opt`` (``config.agent.optimism``: ``episode_coef``,
  ``episode_bits``, ``episode_global``, ``episode_novelty``, ``noveld_alpha``) over ``counter``'s
  codes; None when ``episode_coef`` is 0. ``visit`` counts each env's observation in its episode's
  row (cleared at the episode's first observation) and is called when the agent acts on it;
  ``reward`` is then paid for arriving there: ``count``, ``episode_reward`` (with
  ``episode_global`` the lifelong table's visits over all actions); ``noveld``, ``noveld_reward``
  (reckoned by ``visit``, which reads the lifelong table, so ``reward`` returns it);
  ``count+noveld``, the first at ``episode_coef`` plus the second at ``noveld_coef``."""
  coef = opt.get("episode_coef", 0.0)
  if not coef:
    return None
  size = 2 ** opt.get("episode_bits", 14)
  lifelong = opt.get("episode_global", False)

  def codes(obs):
    return jnp.bitwise_and(counter.codes(obs), size - 1)

  def here(table, code):  # each env's count of its code
    return jnp.take_along_axis(table, code[:, None], axis=1)[:, 0]

  kind = opt.get("episode_novelty", "count")
  if kind in ("noveld", "count+noveld"):
    alpha = opt.get("noveld_alpha", 0.5)

    def init(n):
      zeros = jnp.zeros((n,), jnp.float32)
      return {"table": jnp.zeros((n, size), jnp.int32), "last": zeros, "paid": zeros}

    def visit(state, obs, first, counts):
      code = codes(obs)
      table = episode_visit(state["table"], code, first)
      novelty = 1.0 / jnp.sqrt(counter.counts(counts, obs).sum(-1).astype(jnp.float32) + 1.0)
      paid = noveld_reward(here(table, code), novelty, state["last"], first, alpha)
      return {"table": table, "last": novelty, "paid": paid}

    if kind == "noveld":
      return Episodic(init=init, visit=visit,
                      reward=lambda state, counts, obs: coef * state["paid"])
    noveld_coef = opt.get("noveld_coef", 0.0)

    def both(state, counts, obs):  # NGU's first-visit reward that never fades, plus NovelD's gain
      return (episode_reward(here(state["table"], codes(obs)), coef)
              + noveld_coef * state["paid"])

    return Episodic(init=init, visit=visit, reward=both)

  def reward(table, counts, obs):
    return episode_reward(here(table, codes(obs)), coef,
                          counter.counts(counts, obs).sum(-1) if lifelong else None)

  return Episodic(init=lambda n: jnp.zeros((n, size), jnp.int32),
                  visit=lambda table, obs, first, counts=None: episode_visit(table, codes(obs),
                                                                             first),
                  reward=reward)


def bonus(counts: jnp.ndarray, coef: float, power: float) -> jnp.ndarray:
  """OPIQ's optimistic term ``coef / (N + 1) ** power`` (float32, the shape of ``counts``)."""
  return coef / (counts.astype(jnp.float32) + 1.0) ** power
