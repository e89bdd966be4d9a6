"""The compiled training chunk: ``lax.scan`` of act -> observe (replay add + updates) -> env step.

One iteration steps all ``num_envs`` envs once. It is two pure functions around the env step:

* :func:`policy` (agent acts on the current ``TimeStep``, then stores it and runs due updates);
* :func:`advance` (turns the env's output into the next ``TimeStep``, episode statistics and
  coverage).

The ``xla`` rollout scans ``policy -> env.xla() step -> advance`` inside one jitted program; the
``host`` rollout calls the same two functions, jitted separately, around envpool's host step.
Python sees the state only between chunks (one chunk = one log interval), where it logs,
checkpoints and prints.

Devices: the state is a global array with a leading device axis ``[devices, ...]``, and every
compiled function runs once per device (``parallel.over_devices``, axis name ``parallel.AXIS``):
each device steps its own env pool and replay, gradients and metrics are averaged over the axis
(``goalrl.parallel`` has the design). One device is the same program on an axis of size one.

Seeds: below the device axis the state carries a seed axis ``[num_seeds, ...]`` and
``policy``/``advance`` are mapped over it (``over_seeds``), so one seed is the same code path as
sixteen. Each seed has its own keys, networks, replay, episode statistics and coverage; the envs
of all seeds on a device form that device's envpool pool, whose batch is reshaped
``[num_seeds * num_envs] <-> [num_seeds, num_envs]`` around the step. Everything the run needs to
continue lives in :class:`LoopState`, except the env itself (see ``envs.replay_actions``) and the
action log kept by the host for it.
"""
from __future__ import annotations

import functools
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np

from goalrl import envs, parallel
from goalrl.agents.base import LAST, Agent
from goalrl.envs import EnvSpec, TimeStep


@flax.struct.dataclass
class LoopState:
  agent: Any  # the agent's own state pytree
  timestep: TimeStep  # current env output, leading axis num_envs
  key: jnp.ndarray
  env_steps: jnp.ndarray  # int32, env steps of this seed so far, over all devices
  episode_return: jnp.ndarray  # float32 [N], running return of the current episodes
  episode_length: jnp.ndarray  # int32 [N]
  visit_counts: jnp.ndarray  # int32 [spec.num_cells]: env steps per cell, this device's envs, whole run
  visited_rooms: jnp.ndarray  # bool [spec.num_rooms]
  # Distinct cells per episode (where every episode draws a new layout, the run-wide coverage
  # saturates; this count does not), kept in O(N) work per step, with no clearing at resets:
  cell_stamps: jnp.ndarray  # int32 [N, spec.num_cells]: the episode (its start iteration) that
  #                           last visited each cell, -1 = never
  episode_cells: jnp.ndarray  # int32 [N]: distinct cells of each env's current episode
  # MiniGrid events of each env's current episode (``envs.minigrid_events``; Atari: zeros):
  episode_key: jnp.ndarray  # bool [N]: the agent has carried a key
  episode_doors: jnp.ndarray  # int32 [N]: distinct doors it has opened (reopening one: no count)
  door_stamps: jnp.ndarray  # int32 [N, spec.num_cells] (Atari: [N, 1]): the episode that last
  #                           opened a door at each cell, -1 = never (as ``cell_stamps``)


def init_state(agent: Agent, spec: EnvSpec, key, reset_output: dict, shard=0) -> LoopState:
  """The state at step 0 of one seed on one shard, from its pool's reset output.

  The agent (parameters, optimiser) comes from the seed's key alone, so every shard starts from
  the same one; the loop key, which drives acting and replay sampling, is folded with the shard
  index (shard 0 keeps the seed's own, so a one-device run is unchanged)."""
  k_agent, k_loop = jax.random.split(key)
  k_loop = jnp.where(shard == 0, k_loop, jax.random.fold_in(k_loop, shard))
  ts, signals = envs.to_timestep(spec, reset_output["fields"], reset_output["reward"],
                                 reset_output["terminated"], reset_output["truncated"],
                                 jnp.ones(spec.num_envs, bool))
  return LoopState(
      agent=agent.init(k_agent), timestep=ts, key=k_loop, env_steps=jnp.zeros((), jnp.int32),
      episode_return=jnp.zeros(spec.num_envs, jnp.float32),
      episode_length=jnp.zeros(spec.num_envs, jnp.int32),
      visit_counts=jnp.zeros(spec.num_cells, jnp.int32).at[signals.cell].add(1),
      visited_rooms=jnp.zeros(spec.num_rooms, bool).at[signals.room].set(True),
      **_visit(jnp.full((spec.num_envs, spec.num_cells), -1, jnp.int32),
               jnp.zeros(spec.num_envs, jnp.int32), signals.cell,
               episode=jnp.zeros(spec.num_envs, jnp.int32)),
      episode_key=jnp.zeros(spec.num_envs, bool),
      episode_doors=jnp.zeros(spec.num_envs, jnp.int32),
      door_stamps=jnp.full((spec.num_envs, spec.num_cells if spec.kind == "minigrid" else 1), -1,
                           jnp.int32))


def _visit(stamps, counts, cell, episode) -> dict:
  """Each env's visit of ``cell`` in its ``episode`` (an id: the iteration it started at):
  counted when that episode has not stamped the cell yet, then stamped."""
  rows = jnp.arange(stamps.shape[0])
  new = stamps[rows, cell] != episode
  return dict(cell_stamps=stamps.at[rows, cell].set(episode),
              episode_cells=counts + new.astype(jnp.int32))


def split_seeds(tree, num_seeds: int):
  """Leading axis ``[num_seeds * n]`` -> ``[num_seeds, n]`` on every leaf."""
  return jax.tree.map(lambda x: x.reshape(num_seeds, -1, *x.shape[1:]), tree)


def merge_seeds(tree):
  return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), tree)


def over_seeds(fn, num_seeds: int, in_axes=0):
  """``jax.vmap(fn, in_axes)`` over the seed axis, or ``fn`` itself for one seed.

  With one seed the chunk drops the seed axis once at its start and restores it at its end
  (``squeeze_seed``/``expand_seed``): a size-1 vmap turns every conv with batched params into a
  grouped conv (measured 4x slower for the Atari encoder on XLA:CPU), and squeezing inside the
  scan body copies the replay every iteration (MiniGrid DQN fell from 5.8k to 1.7k steps/s).
  """
  return jax.vmap(fn, in_axes=in_axes) if num_seeds > 1 else fn


def squeeze_seed(tree, num_seeds: int):
  return tree if num_seeds > 1 else jax.tree.map(lambda x: x[0], tree)


def expand_seed(tree, num_seeds: int):
  return tree if num_seeds > 1 else jax.tree.map(lambda x: x[None], tree)


def init_states(agent: Agent, spec: EnvSpec, seed: int, num_seeds: int, reset_outputs: dict,
                shards, mesh) -> LoopState:
  """States ``[device, seed, ...]`` of seeds ``seed .. seed + num_seeds - 1`` over ``mesh``, from
  this process's pool resets stacked along axis 0 (global shard indices ``shards``). Built on the
  devices themselves: a replay is never materialised on the host."""
  keys = jnp.stack([jax.random.PRNGKey(seed + i) for i in range(num_seeds)])

  def per_device(out, shard):
    return jax.vmap(lambda k, o: init_state(agent, spec, k, o, shard))(
        keys, split_seeds(out, num_seeds))

  return parallel.over_devices(per_device, mesh)(
      *parallel.to_global((reset_outputs, np.asarray(shards, np.int32)), mesh))


def policy(agent: Agent, ls: LoopState):
  key, k_act, k_observe = jax.random.split(ls.key, 3)
  agent_state, actions, act_metrics = agent.act(ls.agent, ls.timestep, k_act, ls.env_steps)
  agent_state, observe_metrics = agent.observe(agent_state, ls.timestep, actions, k_observe,
                                               ls.env_steps)
  return ls.replace(agent=agent_state, key=key), actions, (act_metrics, observe_metrics)


def advance(spec: EnvSpec, ls: LoopState, out: dict):
  """Env output -> next LoopState and this iteration's episode sums."""
  prev = ls.timestep
  ts, signals = envs.to_timestep(spec, out["fields"], out["reward"], out["terminated"],
                                 out["truncated"], prev.terminated | prev.truncated)
  # A reset step is not a step of the new episode: it only returns the reset observation.
  ep_return = jnp.where(ts.first, 0.0, ls.episode_return + ts.reward)
  ep_length = jnp.where(ts.first, 0, ls.episode_length + 1)
  done = ts.terminated | ts.truncated
  # A new episode starts from its reset cell alone; the terminal obs's cell still counts.
  episode = ls.env_steps // spec.steps_per_iteration + 1 - ep_length  # id: its start iteration
  visit = _visit(ls.cell_stamps, jnp.where(ts.first, 0, ls.episode_cells), signals.cell,
                 episode=episode)
  ep_key = jnp.where(ts.first, False, ls.episode_key)
  ep_doors = jnp.where(ts.first, 0, ls.episode_doors)
  door_stamps = ls.door_stamps
  if spec.kind == "minigrid":
    events = envs.minigrid_events(prev.obs, ts.obs, ts.first)
    # A door counts once per episode: by its cell (the one ahead), stamped like visited cells.
    rows = jnp.arange(spec.num_envs)
    door = envs.minigrid_front_cell(signals.cell, ts.obs["direction"])
    new_door = events["door"] & (door_stamps[rows, door] != episode)
    door_stamps = door_stamps.at[rows, door].set(
        jnp.where(events["door"], episode, door_stamps[rows, door]))
    ep_key, ep_doors = ep_key | events["key"], ep_doors + new_door.astype(jnp.int32)
  episodes = {
      "done": done.sum(), "return": jnp.sum(jnp.where(done, ep_return, 0.0)),
      "length": jnp.sum(jnp.where(done, ep_length, 0)),
      # MiniGrid pays a positive reward only when the mission is accomplished.
      "success": jnp.sum(ts.terminated & (ts.reward > 0)),
      "cells": jnp.sum(jnp.where(done, visit["episode_cells"], 0)),
      "key": jnp.sum(done & ep_key), "doors": jnp.sum(jnp.where(done, ep_doors, 0)),
  }
  ls = ls.replace(
      timestep=ts, env_steps=ls.env_steps + spec.steps_per_iteration, episode_return=ep_return,
      episode_length=ep_length, episode_key=ep_key, episode_doors=ep_doors,
      door_stamps=door_stamps, visit_counts=ls.visit_counts.at[signals.cell].add(1),
      visited_rooms=ls.visited_rooms.at[signals.room].set(True), **visit)
  return ls, episodes


def summarise(spec: EnvSpec, ls: LoopState, act_metrics, observe_metrics, episodes) -> dict:
  """Per-iteration stacks of one chunk -> the scalars of one log row (NaN = nothing to report).

  Runs on every device and reduces over the device axis: the row is the same on all of them.
  """
  total = lambda x: jax.lax.psum(x, parallel.AXIS)
  n = total(episodes["done"].sum())
  per_episode = lambda x: jnp.where(n > 0, total(x.sum()) / jnp.maximum(n, 1), jnp.nan)
  row = {"episodes": n, "episode_return": per_episode(episodes["return"]),
         "episode_length": per_episode(episodes["length"])}
  if spec.kind == "minigrid":
    row["success_rate"] = per_episode(episodes["success"])
    row["key_rate"] = per_episode(episodes["key"])  # ended episodes in which a key was carried
    # distinct doors opened per ended episode (MultiRoom: rooms reached beyond the first, or one
    # fewer: its rooms are a chain, and a door opens only from the room before it)
    row["episode_doors"] = per_episode(episodes["doors"])
  if spec.has_coverage:
    union = lambda x: jax.lax.pmax(x.astype(jnp.int32), parallel.AXIS)
    row["coverage"] = union(ls.visit_counts > 0).sum()
    row["episode_cells"] = per_episode(episodes["cells"])
    if spec.kind == "atari":
      row["rooms"] = union(ls.visited_rooms).sum()
  row.update(act_row(act_metrics, per_episode))
  updated = observe_metrics["updated"]
  count = updated.sum()  # the update schedule is the same on every device
  row["updates"] = count
  last = jnp.max(jnp.where(updated > 0, jnp.arange(updated.shape[0]), 0))
  for k, v in observe_metrics.items():
    if k.startswith(LAST):  # the value at the last update (the same on every device)
      row[k[len(LAST):]] = jnp.where(count > 0, jax.lax.pmean(v[last], parallel.AXIS), jnp.nan)
    elif k != "updated":
      mean = jax.lax.pmean(jnp.sum(v * updated) / jnp.maximum(count, 1), parallel.AXIS)
      row[k] = jnp.where(count > 0, mean, jnp.nan)
  row["_health"] = health(ls, observe_metrics)
  return row


def act_row(act_metrics: dict, per_episode) -> dict:
  """The act metrics' part of a log row, by key prefix: ``sum/X``, an event count, becomes
  ``X_per_episode``; ``num/X`` over ``den/X`` (:func:`goalrl.losses.masked_metric`), both summed
  over the chunk and the devices, becomes ``X``: a mean over the steps and envs where an event
  happened (NaN when none did; a per-step masked mean averaged over the chunk would count the
  steps without one as 0); any other key is the chunk's mean."""
  total = lambda x: jax.lax.psum(x.sum(), parallel.AXIS)
  row = {}
  for k, v in act_metrics.items():
    if k.startswith("sum/"):  # event counts, reported per finished episode
      row[k[4:] + "_per_episode"] = per_episode(v)
    elif k.startswith("num/"):
      den = total(act_metrics["den/" + k[4:]])
      row[k[4:]] = jnp.where(den > 0, total(v) / jnp.maximum(den, 1e-12), jnp.nan)
    elif not k.startswith("den/"):
      row[k] = jax.lax.pmean(v.mean(), parallel.AXIS)
  return row


def health(ls: LoopState, observe_metrics) -> dict:
  """NaN/Inf guard, computed inside the chunk: which update metrics went non-finite and at which
  iteration first, and whether every float in the agent's state (params, optimiser, replay) is
  finite, on any device. One reduction per chunk; the host stops the run on a failure, before
  checkpointing (every process sees the same verdict, so all stop together)."""
  updated = observe_metrics["updated"] > 0
  bad = {k: ~jnp.isfinite(v) & updated for k, v in observe_metrics.items() if k != "updated"}
  any_bad = jnp.any(jnp.stack(list(bad.values())), axis=0)
  floats = [x for x in jax.tree.leaves(ls.agent) if jnp.issubdtype(x.dtype, jnp.floating)]
  finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in floats]))
  never = any_bad.shape[0]
  first = jax.lax.pmin(jnp.where(any_bad.any(), jnp.argmax(any_bad), never), parallel.AXIS)
  return {"bad_metrics": {k: jax.lax.pmax(v.any().astype(jnp.int32), parallel.AXIS) > 0
                          for k, v in bad.items()},
          "first_bad_iteration": jnp.where(first == never, -1, first),
          "state_finite": jax.lax.pmin(finite.astype(jnp.int32), parallel.AXIS) > 0}


def make_snapshot(agent: Agent, mesh):
  """Compiled ``LoopState [devices, seeds, ...] -> (visit counts [seeds, cells] summed over
  devices, goal-strip panels of each seed's env 0 on device 0 or None)`` for ``goalrl.pictures``.
  Its results are replicated, so every process can read them; only they leave the device (never
  the replay)."""
  from jax.sharding import NamedSharding, PartitionSpec

  def snapshot(ls: LoopState):
    panels = None
    if agent.pictures is not None:
      first = lambda tree: jax.tree.map(lambda x: x[0], tree)
      panels = jax.vmap(agent.pictures)(first(ls.agent), first(ls.timestep))
    return ls.visit_counts.sum(0), panels

  return jax.jit(snapshot, out_shardings=NamedSharding(mesh, PartitionSpec()))


def _per_seed_summary(spec: EnvSpec, num_seeds: int):
  """``summarise`` of every seed (rows with a leading seed axis) from a squeezed-or-not state
  and per-iteration stacks ``[T, (num_seeds,) ...]``."""
  fn = over_seeds(lambda ls, a, o, e: summarise(spec, ls, a, o, e), num_seeds, (0, 1, 1, 1))
  return lambda *args: expand_seed(fn(*args), num_seeds)


def _env_axis(num_seeds: int):
  """(seed-shaped actions -> pool batch, pool output -> seed-shaped) for the env step."""
  if num_seeds == 1:
    return (lambda x: x), (lambda x: x)
  return merge_seeds, lambda out: split_seeds(out, num_seeds)


def make_xla_chunk(agent: Agent, spec: EnvSpec, xla_step, length: int, num_seeds: int, mesh):
  """``chunk(ls, handles) -> (ls, handles, actions uint8 [D, length, S*N], row)``: one compiled
  program run on every device of ``mesh`` (``handles``: each device's envpool XLA handle).

  ``row`` holds one value per device and seed for every key (leading axes ``[D, num_seeds]``),
  the same on every device.
  """
  policies = over_seeds(lambda ls: policy(agent, ls), num_seeds)
  advances = over_seeds(lambda ls, out: advance(spec, ls, out), num_seeds)
  to_pool, from_pool = _env_axis(num_seeds)

  def body(carry, _):
    ls, handle = carry
    ls, actions, (act_m, obs_m) = policies(ls)
    handle, out = xla_step(handle, to_pool(actions))
    ls, episodes = advances(ls, from_pool(out))
    return (ls, handle), (to_pool(actions).astype(jnp.uint8), act_m, obs_m, episodes)

  def chunk(ls, handle):
    (ls, handle), (actions, act_m, obs_m, episodes) = jax.lax.scan(
        body, (squeeze_seed(ls, num_seeds), handle), None, length=length)
    row = _per_seed_summary(spec, num_seeds)(ls, act_m, obs_m, episodes)
    return expand_seed(ls, num_seeds), handle, actions, row

  # Donating the state lets XLA update the replay in place: no second copy of a GB-sized buffer.
  return parallel.over_devices(chunk, mesh, donate_argnums=0)


def make_host_chunk(agent: Agent, spec: EnvSpec, pools, length: int, num_seeds: int, mesh):
  """Same contract as :func:`make_xla_chunk`, stepping this process's envpools (``pools[d]`` for
  its local device ``d``) on the host between compiled calls (``handles`` unused)."""
  to_pool, from_pool = _env_axis(num_seeds)
  over = functools.partial(parallel.over_devices, mesh=mesh)
  policy_fn = over(over_seeds(lambda ls: policy(agent, ls), num_seeds), donate_argnums=0)
  advance_fn = over(lambda ls, out: over_seeds(lambda l, o: advance(spec, l, o), num_seeds)(
      ls, from_pool(out)), donate_argnums=0)
  summarise_fn = over(_per_seed_summary(spec, num_seeds))
  squeeze, expand = (over(functools.partial(f, num_seeds=num_seeds), donate_argnums=0)
                     for f in (squeeze_seed, expand_seed))

  def chunk(ls, handles):
    ls = squeeze(ls)
    actions_log, per_iteration = [], []
    for _ in range(length):
      ls, actions, (act_m, obs_m) = policy_fn(ls)
      actions = parallel.to_local(actions).reshape(len(pools), -1).astype(np.uint8)
      outs = envs.host_step_pools(spec, pools, actions)
      out = parallel.to_global(jax.tree.map(lambda *xs: np.stack(xs), *outs), mesh)
      ls, episodes = advance_fn(ls, out)
      actions_log.append(actions)
      per_iteration.append((act_m, obs_m, episodes))
    # Per-iteration stacks along axis 1, after the device axis (global arrays stay sharded).
    act_m, obs_m, episodes = jax.tree.map(lambda *xs: jnp.stack(xs, axis=1), *per_iteration)
    row = summarise_fn(ls, act_m, obs_m, episodes)
    return expand(ls), handles, np.stack(actions_log, axis=1), row

  return chunk
