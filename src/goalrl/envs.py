"""Environments: the envpool factory, the two rollout paths and exploration signals.

Everything above this module sees an environment through three things:

* :class:`EnvSpec`, static facts (kind, number of actions, the shape of one stored frame, how many
  frames make an observation, how many exploration cells exist);
* :class:`TimeStep`, a fixed-shape pytree with a leading ``num_envs`` axis (dm_env style: the
  reward and termination flags that *arrived with* ``obs``, and ``first`` for a reset obs);
* :func:`to_timestep`, a pure ``jnp`` function turning envpool's raw step output into a
  ``TimeStep`` plus the per-env exploration ``cell``/``room`` ids. Both rollout paths call it, so
  they feed identical arrays to the agent.

Rollout paths (``config.env.rollout``):

* ``"xla"``: envpool's ``env.xla()`` step runs inside the jitted ``lax.scan`` of the training loop;
  the env handle is an opaque ``uint8`` array that is threaded through the scan but never saved.
* ``"host"``: envpool's ``send``/``recv`` on the host, one jitted call on either side of it. Slower,
  but it does not depend on envpool's XLA custom call, which has broken across JAX versions and on
  GPU. Both paths give the same numbers (``tests/test_train.py``).

Several devices in one process always use the host path (``goalrl.train`` switches, with a
note): envpool's XLA step aborts (``std::out_of_range``) when two devices step their own pools
at the same time, as one program mapped over devices does (measured with envpool 1.2.5 on 2
forced CPU devices: every 2,000-step run crashed, 3-step runs passed). The host path sends every
pool its actions before receiving from any (:func:`host_step_pools`), so the pools still step in
parallel, but it costs a compiled call per step (MiniGrid DQN on this CPU: 564 env steps/s against
~7k for the XLA path; XLA:CPU copies the replay in each per-step call). For several GPUs on one
machine, run one process per GPU (``jax.distributed`` on localhost): each keeps the XLA path.

Auto-reset: envpool resets an env on the step *after* it reported ``terminated | truncated``; that
step ignores the action and returns the reset observation with reward 0. ``first`` marks it, and
the replay masks transitions that start from a terminal observation.

Env state cannot be serialised, so a resumed run rebuilds it by replaying the logged actions into a
freshly seeded pool (:func:`replay_actions`); envpool is deterministic given seed and actions (each
env has its own RNG seeded ``seed + env_id``, independent of thread scheduling).

Envpool's handle cannot be vmapped, so the env batch stays a plain leading axis: several seeds in
one program are one pool of ``num_seeds * num_envs`` envs, reshaped to ``[num_seeds, num_envs]``
around each step (``goalrl.loop``). ``EnvSpec.num_envs`` is the per-seed count.
"""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from goalrl.layout import action_ids, env_kind, obs_layout

# Exploration signal of Montezuma's Revenge: room, x and y live in these RAM bytes.
MONTEZUMA_RAM = (3, 42, 43)
# Montezuma cells: (room, x // 8, y // 8) over the full byte ranges.
ATARI_CELL_SIZE = 8
ATARI_ROOMS = 256
# MiniGrid positions are clipped into a fixed map, large enough for every registered grid.
MINIGRID_MAX_SIDE = 64


class TimeStep(NamedTuple):
  """What the env returned at one step, for every env of the batch (leading axis ``num_envs``).

  ``reward``/``terminated``/``truncated`` arrived together with ``obs``; ``first`` says ``obs``
  is a reset observation (the previous step ended the episode, or the run just began).
  """
  obs: Any  # uint8 array [N, *obs_shape] (Atari) or dict(image=[N,7,7,3], direction=[N]) (MiniGrid)
  reward: jnp.ndarray  # float32 [N]
  terminated: jnp.ndarray  # bool [N]
  truncated: jnp.ndarray  # bool [N]
  first: jnp.ndarray  # bool [N]


class Signals(NamedTuple):
  """Per-env exploration ids: ``cell`` in ``[0, spec.num_cells)``, ``room`` in ``[0, spec.num_rooms)``."""
  cell: jnp.ndarray  # int32 [N]
  room: jnp.ndarray  # int32 [N]


@dataclasses.dataclass(frozen=True)
class EnvSpec:
  """Static facts about an env batch that networks, replay and the loop need."""
  name: str
  kind: str  # "atari" | "minigrid"
  num_envs: int  # envs per seed on one shard (device): env.num_envs / num_shards
  num_actions: int
  frame_shape: tuple[int, ...]  # one stored frame: (84, 84) Atari, (7, 7, 3) MiniGrid image
  stack: int  # frames per observation (4 for Atari, 1 for MiniGrid)
  num_cells: int  # size of the coverage map
  num_rooms: int  # size of the room map (1 where the env has no rooms)
  has_coverage: bool  # False for Atari games without a known RAM layout
  num_shards: int = 1  # devices over all processes, each stepping num_envs envs per seed
  # The env's action id of each agent action (``env.actions``); () = the env's own actions. Agents
  # and the action log see agent actions; the env boundary (:func:`env_actions`) maps them.
  actions: tuple[int, ...] = ()
  # MiniGrid with ``env.oracle_position``: the observation also carries ``position`` (int32, the
  # agent's cell ``x * MINIGRID_MAX_SIDE + y``, as ``Signals.cell``) for oracle visit counts
  # (``goalrl.counts``, ``optimism.counts="position"``); no network reads it.
  position: bool = False

  @property
  def steps_per_iteration(self) -> int:
    """Env steps one loop iteration takes, per seed, over all shards."""
    return self.num_envs * self.num_shards

  # The observation layout as arrays (``goalrl.layout`` describes it without jax). Every module
  # asks these instead of building observations by env family.

  def zero_obs(self, batch: int | None = None):
    """A zero observation as the agent sees it (MiniGrid direction int32), with a leading batch
    axis of ``batch`` when given: for parameter init and example pytrees."""
    lead = () if batch is None else (batch,)
    if self.kind == "atari":
      return jnp.zeros((*lead, self.stack, *self.frame_shape), jnp.uint8)
    extra = dict(position=jnp.zeros(lead, jnp.int32)) if self.position else {}
    return dict(image=jnp.zeros((*lead, *self.frame_shape), jnp.uint8),
                direction=jnp.zeros(lead, jnp.int32), **extra)

  def newest_frame(self, obs):
    """What replay stores of a batch of observations: the newest frame (MiniGrid: the image and
    the direction as uint8, and the position as int32 where the observation has it)."""
    if self.kind == "atari":
      return obs[:, -1]
    return {**obs, "direction": obs["direction"].astype(jnp.uint8)}

  def zero_frame(self):
    """One stored frame of zeros (no batch axis), the layout replay infers its storage from."""
    return jax.tree.map(lambda x: x[0], self.newest_frame(self.zero_obs(1)))


def make_pool(env_config, seed: int, num_seeds: int = 1, shard: int = 0, num_shards: int = 1):
  """Shard ``shard``'s envpool batch: ``num_seeds * env_config.num_envs / num_shards`` envs for
  seeds ``seed, seed + 1, ...`` (all envs of the run when ``num_shards`` is 1).

  envpool seeds env ``i`` of a pool with ``pool_seed + i``. On one shard, seed ``k`` owns the env
  seeds ``k * num_envs ... (k + 1) * num_envs - 1``, so distinct seeds never share an env, and
  seed ``k`` inside a pool of several seeds steps exactly the envs it steps alone. Shard ``d``'s
  pool starts at ``d * num_seeds * num_envs / num_shards``: the shards split the same env seeds
  (with one seed, shard ``d`` steps envs ``d*E/D ..`` of the one-shard run; see ``goalrl.parallel``).
  """
  import envpool
  kind = env_kind(env_config.name)
  total = env_config.num_envs * num_seeds // num_shards
  kwargs = dict(env_type="gymnasium", num_envs=total, batch_size=total,
                seed=int(seed) * env_config.num_envs + shard * total,
                num_threads=env_config.num_threads)
  if env_config.max_episode_steps > 0:
    kwargs["max_episode_steps"] = env_config.max_episode_steps
  if kind == "atari":
    kwargs.update(repeat_action_probability=env_config.repeat_action_probability,
                  reward_clip=env_config.reward_clip)
  return envpool.make(env_config.name, **kwargs)


def make_spec(env_config, pool, num_shards: int = 1) -> EnvSpec:
  """``num_envs`` of the spec is one shard's envs per seed: ``env.num_envs / num_shards``.
  The observation layout is ``goalrl.layout``'s for the env's family, checked against the pool."""
  layout = obs_layout(env_config.name)
  space = pool.observation_space
  got = tuple(space.shape) if layout.kind == "atari" else tuple(space["image"].shape)
  want = (layout.stack, *layout.frame_shape) if layout.kind == "atari" else layout.frame_shape
  if got != want:
    raise ValueError(f"{env_config.name}: envpool observations {got}, goalrl.layout expects {want}")
  if layout.kind == "atari":
    has_coverage = env_config.name.startswith("MontezumaRevenge")
    side = 256 // ATARI_CELL_SIZE
    num_cells = ATARI_ROOMS * side * side if has_coverage else 1
    num_rooms = ATARI_ROOMS if has_coverage else 1
  else:
    has_coverage, num_cells, num_rooms = True, MINIGRID_MAX_SIDE * MINIGRID_MAX_SIDE, 1
  actions = action_ids(env_config.get("actions", ""), env_config.name)
  return EnvSpec(env_config.name, layout.kind, env_config.num_envs // num_shards,
                 len(actions) or int(pool.action_space.n), layout.frame_shape, layout.stack,
                 num_cells=num_cells, num_rooms=num_rooms, has_coverage=has_coverage,
                 num_shards=num_shards, actions=actions,
                 position=layout.kind == "minigrid" and env_config.get("oracle_position", False))


def env_actions(spec: EnvSpec, actions, xp=np):
  """Agent actions -> the env's action ids (``xp``: ``np`` on the host, ``jnp`` traced)."""
  actions = xp.asarray(actions, xp.int32)
  return xp.asarray(spec.actions, xp.int32)[actions] if spec.actions else actions


def raw_fields(spec: EnvSpec, obs, info) -> dict:
  """The parts of envpool's (obs, info) the loop uses, as a flat dict of arrays (host or traced)."""
  if spec.kind == "atari":
    out = dict(obs=obs, ram=info["ram"][:, list(MONTEZUMA_RAM)])
  else:
    out = dict(image=obs["image"], direction=obs["direction"], agent_pos=info["agent_pos"])
  return out


def to_timestep(spec: EnvSpec, fields: dict, reward, terminated, truncated, first):
  """Raw envpool arrays -> (TimeStep, Signals). Pure jnp; both rollout paths use it."""
  if spec.kind == "atari":
    obs = fields["obs"]
    if spec.has_coverage:
      ram = fields["ram"].astype(jnp.int32)
      room, x, y = ram[:, 0], ram[:, 1], ram[:, 2]
      side = 256 // ATARI_CELL_SIZE
      cell = (room * side + x // ATARI_CELL_SIZE) * side + y // ATARI_CELL_SIZE
    else:
      room = cell = jnp.zeros(reward.shape, jnp.int32)
  else:
    obs = dict(image=fields["image"], direction=fields["direction"].astype(jnp.int32))
    pos = jnp.clip(fields["agent_pos"].astype(jnp.int32), 0, MINIGRID_MAX_SIDE - 1)
    cell = pos[:, 0] * MINIGRID_MAX_SIDE + pos[:, 1]
    room = jnp.zeros_like(cell)
    if spec.position:
      obs["position"] = cell
  ts = TimeStep(obs=obs, reward=jnp.asarray(reward, jnp.float32),
                terminated=jnp.asarray(terminated, bool), truncated=jnp.asarray(truncated, bool),
                first=jnp.asarray(first, bool))
  return ts, Signals(cell=cell, room=room)


# MiniGrid's object indices and door states in the image's first and third planes, and where the
# egocentric 7x7 view puts the agent (its own cell shows what it carries) and the cell it faces.
MINIGRID_DOOR, MINIGRID_KEY = 4, 5
DOOR_OPEN = 0  # door states: 0 open, 1 closed, 2 locked
AGENT_CELL, FRONT_CELL = (3, 6), (3, 5)  # image[x, y] (checked in tests/test_envs.py)


# MiniGrid's direction -> (dx, dy): 0 east, 1 south, 2 west, 3 north.
MINIGRID_DIR_VEC = ((1, 0), (0, 1), (-1, 0), (0, -1))


def minigrid_front_cell(cell, direction):
  """The cell index (``x * MINIGRID_MAX_SIDE + y``, as ``Signals.cell``) the agent faces."""
  vec = jnp.asarray(MINIGRID_DIR_VEC, jnp.int32)[direction]
  x = jnp.clip(cell // MINIGRID_MAX_SIDE + vec[..., 0], 0, MINIGRID_MAX_SIDE - 1)
  y = jnp.clip(cell % MINIGRID_MAX_SIDE + vec[..., 1], 0, MINIGRID_MAX_SIDE - 1)
  return x * MINIGRID_MAX_SIDE + y


def minigrid_view_offset(cell, direction, other):
  """``(forward, lateral)`` int32: where cell ``other`` lies from an agent at ``cell`` facing
  ``direction`` (cells as ``Signals.cell``): steps ahead along its heading and to its right."""
  vec = jnp.asarray(MINIGRID_DIR_VEC, jnp.int32)[direction]
  dx = other // MINIGRID_MAX_SIDE - cell // MINIGRID_MAX_SIDE
  dy = other % MINIGRID_MAX_SIDE - cell % MINIGRID_MAX_SIDE
  return dx * vec[..., 0] + dy * vec[..., 1], dy * vec[..., 0] - dx * vec[..., 1]


def minigrid_in_view(cell, direction, other):
  """bool: cell ``other`` lies in the 7x7 egocentric view of an agent at ``cell`` facing
  ``direction`` (0-6 cells ahead, at most 3 to either side; walls may still hide it)."""
  forward, lateral = minigrid_view_offset(cell, direction, other)
  return (forward >= 0) & (forward <= 6) & (jnp.abs(lateral) <= 3)


def minigrid_grid_distance(cell, other):
  """int32: the Manhattan distance between two cells (as ``Signals.cell``): the fewest steps
  between them on an open grid."""
  return (jnp.abs(other // MINIGRID_MAX_SIDE - cell // MINIGRID_MAX_SIDE)
          + jnp.abs(other % MINIGRID_MAX_SIDE - cell % MINIGRID_MAX_SIDE))


def minigrid_situation(image) -> jnp.ndarray:
  """int32 [N] in ``[0, layout.SITUATIONS)``: the agent's situation in MiniGrid images
  ``[N, 7, 7, 3]``, what it carries and what it faces (object type, and the state of a door
  ahead: open, closed, locked), colours left out. Unlike a view, a situation recurs across
  layouts: "facing the locked door holding the key" in one episode is that situation in every
  episode, so a goal named by it can be reached in a layout the agent has not seen (the goal
  agent's ``archive_cells="situation"``)."""
  image = image.astype(jnp.int32)
  carried = jnp.clip(image[:, AGENT_CELL[0], AGENT_CELL[1], 0], 0, 15)
  ahead = image[:, FRONT_CELL[0], FRONT_CELL[1]]
  return (carried * 16 + jnp.clip(ahead[:, 0], 0, 15)) * 4 + jnp.clip(ahead[:, 2], 0, 3)


def minigrid_events(prev_obs: dict, obs: dict, first) -> dict:
  """Per-env events of one MiniGrid step, read off the observations alone (every MiniGrid/BabyAI
  env, no env internals): ``key`` (bool [N]): the agent carries a key; ``door`` (bool [N]): it
  has just opened a door. A door counts as opened when the cell ahead was a closed or locked door
  and now is an open one, facing the same way: turning changes the direction, and a closed door
  blocks ``forward``, so only ``toggle`` can do that. Nothing happens on a reset step (``first``).
  """
  carried = obs["image"][:, AGENT_CELL[0], AGENT_CELL[1], 0] == MINIGRID_KEY
  ahead = lambda o: o["image"][:, FRONT_CELL[0], FRONT_CELL[1]]
  before, after = ahead(prev_obs), ahead(obs)
  opened = ((before[:, 0] == MINIGRID_DOOR) & (before[:, 2] != DOOR_OPEN)
            & (after[:, 0] == MINIGRID_DOOR) & (after[:, 2] == DOOR_OPEN)
            & (prev_obs["direction"] == obs["direction"]))
  return {"key": carried & ~first, "door": opened & ~first}


def host_reset(spec: EnvSpec, pool) -> dict:
  obs, info = pool.reset()
  n = len(info["env_id"])  # every env of the pool, all seeds
  return _host_output(spec, obs, np.zeros(n, np.float32), np.zeros(n, bool), np.zeros(n, bool),
                      info)


def host_step(spec: EnvSpec, pool, actions: np.ndarray) -> dict:
  obs, reward, term, trunc, info = pool.step(env_actions(spec, actions))
  return _host_output(spec, obs, reward, term, trunc, info)


def host_step_pools(spec: EnvSpec, pools, actions) -> list[dict]:
  """``host_step`` of several pools at once: all are sent their actions (envpool steps them on its
  worker threads) before the first is received."""
  for pool, a in zip(pools, actions):
    pool.send(env_actions(spec, a))
  return [_host_output(spec, *pool.recv()) for pool in pools]


def _host_output(spec, obs, reward, term, trunc, info) -> dict:
  return dict(fields=raw_fields(spec, obs, info), reward=np.asarray(reward, np.float32),
              terminated=np.asarray(term, bool), truncated=np.asarray(trunc, bool))


def make_xla_step(spec: EnvSpec, pool):
  """Returns ``(handle, step)`` where ``step(handle, actions) -> (handle, output dict)`` is jittable."""
  handle, _, _, step = pool.xla()

  def xla_step(handle, actions):
    handle, (obs, reward, term, trunc, info) = step(handle, env_actions(spec, actions, jnp))
    return handle, dict(fields=raw_fields(spec, obs, info), reward=reward, terminated=term,
                        truncated=trunc)

  return handle, xla_step


def replay_actions(spec: EnvSpec, pool, actions: np.ndarray) -> dict:
  """Resets ``pool`` and steps it through ``actions`` ([T, num_envs]); returns the last output.

  Used on resume: envpool's C++ state cannot be checkpointed, but it is a deterministic function
  of the seed and the action history, which the checkpoint stores (1 byte per env step).
  """
  out = host_reset(spec, pool)
  for row in actions:
    out = host_step(spec, pool, row)
  return out
