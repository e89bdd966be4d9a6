"""Data-parallel training over devices and hosts: one shard of envs and replay per device.

Layout (the Anakin pattern): every device of every process runs the whole training chunk on its
own shard: ``env.num_envs / D`` envs (its own envpool pool and XLA handle), its own replay of
``agent.replay_size / D`` rows, and its own keys. Parameters and optimiser states are identical on
every device: they start from the same key, and each optimiser begins with
:func:`mean_gradients`, a ``lax.pmean`` over the named axis :data:`AXIS`, so every device applies
the same averaged update. A device samples ``agent.batch_size / D`` transitions from its replay
(the optimistic samples are mixed into that per-device batch), so the global batch and the
replay ratio stay those of the config whatever ``D``. Metrics are reduced over the axis too:
episode sums by ``psum``, coverage maps by ``pmax`` (a cell visited on any device), update metrics
by ``pmean``.

One device is the same code path with ``D = 1``: ``pmap`` over one device, means over an axis of
size one. ``D`` is ``parallel.devices`` local devices (0 = all) times ``jax.process_count()``.

Why ``pmap`` and not ``shard_map``: each device owns a different envpool pool, reached through a
per-device XLA handle, and state that is per-device by nature (replay, env state, keys). ``pmap``
maps one function over exactly that leading device axis, and across hosts it takes each process's
local shards as they are; ``shard_map`` would need global ``jax.Array``s assembled from process-local
data (``jax.make_array_from_process_local_data``) for state that is never global. The
collectives are the same (``pmap`` lowers to the same SPMD program).

What differs from a one-device run with the same global batch: the env and replay shards. Which
transitions a batch holds depends on ``D`` (each device samples its own replay), so learning
curves at different ``D`` are statistically, not bitwise, alike. The update itself is the same:
the mean over devices of per-device mean gradients is the gradient of the global batch's mean
loss (``tests/test_parallel.py`` checks the agents' update at 2 devices against 1 to 1e-5).

Env seeds: with one seed, device ``d`` of ``D`` runs envs ``d*E/D .. (d+1)*E/D - 1`` of the
``E`` a one-device run steps, so the run steps the same envs on any number of devices. With
``S`` seeds vmapped on ``D > 1`` devices, each device's pool holds ``S*E/D`` envs with consecutive
envpool seeds (envpool seeds a pool consecutively), so the run uses the same ``S*E`` env seeds as
on one device but deals them to seeds differently: seed ``k`` then equals seed ``k`` run alone on
``D`` devices statistically, not bitwise (see ``envs.make_pool``).
"""
from __future__ import annotations

import os

import jax
import optax

AXIS = "devices"

# Agent keys sized for the whole run that each device holds a 1/D share of.
PER_DEVICE_KEYS = ("batch_size", "replay_size", "encoder.batch_size", "encoder.stream_size")


def _axis_bound() -> bool:
  try:
    jax.lax.axis_size(AXIS)
  except NameError:
    return False
  return True


def mean_gradients() -> optax.GradientTransformation:
  """First link of every optimiser: replaces the gradients by their mean over the devices.

  Inside the training loop the axis is always bound (``pmap`` over one or more devices). Agent
  functions called directly, outside the loop (unit tests), have no device axis: then this is the
  identity, which is what a mean over one device is.
  """

  def update(updates, state, params=None):
    del params
    if _axis_bound():
      updates = jax.lax.pmean(updates, AXIS)
    return updates, state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def gather(x):
  """``x`` of every device, concatenated along axis 0 (``x`` itself outside the loop)."""
  return jax.lax.all_gather(x, AXIS, tiled=True) if _axis_bound() else x


def local_device_count(config) -> int:
  """``parallel.devices`` resolved: 0 means every local device."""
  return config.parallel.devices or jax.local_device_count()


def check(config, local_devices: int, num_processes: int) -> None:
  """The device layout errors :func:`goalrl.config.validate` cannot see without jax (the device
  count): raised as ``ConfigError`` before any env is built or anything compiles."""
  from goalrl.config import ConfigError
  available = jax.local_device_count()
  if config.parallel.devices > available:
    raise ConfigError(
        f"parallel.devices={config.parallel.devices} but this process sees {available} "
        f"{jax.default_backend()} device(s) ({jax.local_devices()[0].device_kind}); use a "
        f"number in 1..{available}, or 0 for all of them. On CPU, XLA_FLAGS="
        "--xla_force_host_platform_device_count=N pretends to have N devices.")
  shards = local_devices * num_processes
  bad = []
  for key in ("env.num_envs", *("agent." + k for k in PER_DEVICE_KEYS)):
    value = config
    for part in key.split("."):
      value = value.get(part) if value is not None else None
    if value is not None and value % shards:
      bad.append(f"{key}={value}")
  if bad:
    raise ConfigError(
        f"{', '.join(bad)} must be divisible by the number of devices, {shards} "
        f"({local_devices} per process x {num_processes} process(es)): each device holds an "
        "equal share of the envs, the replay and the batch. Change those values, or set "
        "parallel.devices.")


def per_device_agent(agent_cfg, num_shards: int):
  """A copy of ``config.agent`` with the :data:`PER_DEVICE_KEYS` divided by ``num_shards``."""
  cfg = agent_cfg.copy_and_resolve_references()
  for key in PER_DEVICE_KEYS:
    *path, leaf = key.split(".")
    node = cfg
    for part in path:
      node = node.get(part)
    if node is not None and leaf in node:
      node[leaf] = node[leaf] // num_shards
  return cfg


def initialize_distributed(coordinator: str | None, num_processes: int | None,
                           process_id: int | None) -> None:
  """``jax.distributed.initialize`` when a coordinator is given (flags, or the environment
  variables ``JAX_COORDINATOR_ADDRESS``, ``JAX_NUM_PROCESSES``, ``JAX_PROCESS_ID``); a single
  process otherwise. Must run before anything touches a device."""
  coordinator = coordinator or os.environ.get("JAX_COORDINATOR_ADDRESS")
  if not coordinator:
    return
  env = lambda name: int(os.environ[name]) if os.environ.get(name) else None
  num_processes = num_processes if num_processes is not None else env("JAX_NUM_PROCESSES")
  process_id = process_id if process_id is not None else env("JAX_PROCESS_ID")
  jax.distributed.initialize(coordinator, num_processes=num_processes, process_id=process_id)


def shard_ids(local_devices: int):
  """Global indices of this process's shards: process ``p`` owns ``p*L .. p*L + L - 1``."""
  start = jax.process_index() * local_devices
  return list(range(start, start + local_devices))


def devices(local_devices: int):
  """The devices ``pmap`` maps over: the first ``local_devices`` of every process, in process
  order. ``pmap`` wants the global list in every process (given only the local ones, its
  collectives would stay inside each process); its leading axis is still this process's share."""
  return [d for p in range(jax.process_count())
          for d in [d for d in jax.devices() if d.process_index == p][:local_devices]]
