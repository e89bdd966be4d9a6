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

One device is the same code path with ``D = 1``: a mesh of one device, means over an axis of
size one (skipped when tracing, see :func:`mean_gradients`). ``D`` is ``parallel.devices`` local
devices (0 = all) times ``jax.process_count()``.

The mapping is ``jax.jit(jax.shard_map(...))`` over a one-axis :func:`make_mesh` of every
process's devices (:func:`over_devices`); the state is a global ``jax.Array`` whose leading axis
(one entry per device) is sharded over the mesh. Why not ``pmap``, which maps exactly such a
leading axis: a donated buffer comes back as a copy from ``pmap`` (jax 0.10.2, CPU), while
``jit(shard_map)`` updates it in place. Measured on a 29 MB uint8 replay-shaped buffer with one
row written per call: 1.5 ms per ``pmap`` call against 0.03 ms, and the replay's memory doubled at
every call, which a GB-sized Atari replay cannot afford. Host code meets the global arrays only
through :func:`to_global` (this process's shards in) and :func:`to_local` (its shards out), which
work the same with one process or many.

What differs from a one-device run with the same global batch: the env and replay shards. Which
transitions a batch holds depends on ``D`` (each device samples its own replay), so learning
curves at different ``D`` are statistically, not bitwise, alike. The update itself is the same:
the mean over devices of per-device mean gradients is the gradient of the global batch's mean
loss (``tests/test_parallel.py``: five Adam steps of the DQN loss on 2 devices equal 1 device to
1e-6). Exactly so when every transition is valid: the replay masks windows that start on a
terminal observation, and each device divides by its own count of valid ones, so a batch with
masked windows weights devices equally rather than transitions (a few per batch at most).

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
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from goalrl.config import ConfigError

AXIS = "devices"

# Agent keys sized for the whole run that each device holds a 1/D share of.
PER_DEVICE_KEYS = ("batch_size", "replay_size", "encoder.batch_size", "encoder.stream_size")


def _across_devices() -> bool:
  """Whether there is more than one device to reduce over (known when tracing). An all-reduce
  over one CPU device still costs a rendezvous: skipping it made single-device MiniGrid DQN 6%
  faster (6.9k -> 7.3k env steps/s, ``benchmarks/seeds_sps.py``)."""
  try:
    return jax.lax.axis_size(AXIS) > 1
  except NameError:
    return False


def mean_gradients() -> optax.GradientTransformation:
  """First link of every optimiser: replaces the gradients by their mean over the devices.

  Inside the training loop the axis is always bound (``over_devices``, one device or more). Over one
  device, or for agent functions called outside the loop (unit tests, no device axis), this is the
  identity, which is what a mean over one device is.
  """

  def update(updates, state, params=None):
    del params
    if _across_devices():
      updates = jax.lax.pmean(updates, AXIS)
    return updates, state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def mean(x):
  """``x`` averaged over the devices (``x`` itself on one device or outside the loop)."""
  return jax.lax.pmean(x, AXIS) if _across_devices() else x


def gather(x):
  """``x`` of every device, concatenated along axis 0 (``x`` itself outside the loop)."""
  return jax.lax.all_gather(x, AXIS, tiled=True) if _across_devices() else x


def local_device_count(config) -> int:
  """``parallel.devices`` resolved: 0 means every local device."""
  return config.parallel.devices or jax.local_device_count()


def check(config, local_devices: int, num_processes: int) -> None:
  """The device layout errors :func:`goalrl.config.validate` cannot see without jax (the device
  count): raised as ``ConfigError`` before any env is built or anything compiles."""
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


def make_mesh(local_devices: int) -> Mesh:
  """A one-axis mesh of the first ``local_devices`` of every process, in process order, so mesh
  position ``p*L + l`` is process ``p``'s device ``l`` (its shard index)."""
  devices = [d for p in range(jax.process_count())
             for d in [d for d in jax.devices() if d.process_index == p][:local_devices]]
  return Mesh(np.array(devices), (AXIS,))


def over_devices(fn, mesh: Mesh, donate_argnums=()):
  """``fn`` of one device's arguments (no device axis), run on every device of ``mesh`` with the
  named axis bound: the arguments and results are global arrays with a leading device axis."""
  squeeze = lambda tree: jax.tree.map(lambda x: x[0], tree)
  expand = lambda tree: jax.tree.map(lambda x: x[None], tree)
  # check_vma=False: every value is per-device here (no replicated outputs to type-check), and the
  # agents' cond/scan branches mix device-varying state with constants, which the check rejects.
  mapped = jax.shard_map(lambda *args: expand(fn(*squeeze(args))), mesh=mesh,
                         in_specs=PartitionSpec(AXIS), out_specs=PartitionSpec(AXIS),
                         check_vma=False)
  return jax.jit(mapped, donate_argnums=donate_argnums)


def to_global(tree, mesh: Mesh):
  """Host arrays ``[local devices, ...]`` of this process -> global arrays over ``mesh``."""
  sharding = NamedSharding(mesh, PartitionSpec(AXIS))
  return jax.tree.map(
      lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), tree)


def to_local(tree):
  """Global arrays -> host arrays ``[local devices, ...]`` of this process's shards, in order."""

  def local(x):
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
      shards = sorted(x.addressable_shards, key=lambda s: s.index[0].start)
      return np.concatenate([np.asarray(s.data) for s in shards])
    return np.asarray(x)

  return jax.tree.map(local, tree)
