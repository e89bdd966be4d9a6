"""Checkpoints on orbax: the whole ``LoopState`` (params, optimiser state, replay contents, keys,
counters, coverage maps) plus the action log that rebuilds the envs.

Orbax writes each step into a temporary directory and renames it when complete, so a run killed
mid-save leaves the previous checkpoint intact and the partial one is ignored on restore. Saves
are synchronous: the next chunk donates the state's buffers, and a checkpoint is taken at most
every few chunks.

The state is saved as this process's host arrays with their leading device axis
(``parallel.to_local``), and restored as host arrays that ``parallel.to_global`` places back on
the devices. With several processes
(``jax.distributed``) each process saves its own devices' shards under
``checkpoints/process_<index>/``, on its own (no cross-process barrier: the shards differ).
"""
from __future__ import annotations

import os
import shutil
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp


def make_manager(workdir: str, max_to_keep: int) -> ocp.CheckpointManager:
  directory = os.path.join(os.path.abspath(workdir), "checkpoints")
  process, count = jax.process_index(), jax.process_count()
  if count > 1:
    directory = os.path.join(directory, f"process_{process}")
  os.makedirs(directory, exist_ok=True)
  options = ocp.CheckpointManagerOptions(
      max_to_keep=max_to_keep, create=False, enable_async_checkpointing=False,
      multiprocessing_options=ocp.options.MultiprocessingOptions(
          primary_host=process, active_processes={process} if count > 1 else None))
  return ocp.CheckpointManager(directory, options=options, item_names=("state", "actions"))


def save(manager: ocp.CheckpointManager, step: int, state, actions: np.ndarray) -> None:
  """``state``: host arrays (``parallel.to_local``)."""
  manager.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(state),
      actions=ocp.args.StandardSave({"actions": actions})))
  manager.wait_until_finished()


def restore(manager: ocp.CheckpointManager, template):
  """Newest readable ``(step, state, actions)``, or ``None`` when there is none.

  ``template`` is the state's structure (flax dataclasses) with this process's shapes and dtypes
  (arrays or ``ShapeDtypeStruct``s). A checkpoint that fails to restore (corrupt files, or a
  step directory damaged outside orbax) is moved aside to ``checkpoints_unreadable/`` (kept, not
  deleted, and out of the way of the new save of that step), with a warning, and the one before it
  is used.
  """
  # Host arrays in, host arrays out (np.empty only reserves address space).
  abstract = jax.tree.map(lambda x: np.empty(x.shape, x.dtype), template)
  for step in sorted(manager.all_steps(), reverse=True):
    try:
      restored = manager.restore(step, args=ocp.args.Composite(
          state=ocp.args.StandardRestore(abstract), actions=ocp.args.StandardRestore()))
      actions = np.asarray(restored.actions["actions"], np.uint8)
    except Exception as err:  # orbax/tensorstore raise many types for damaged files
      aside = os.path.join(os.path.dirname(str(manager.directory)), "checkpoints_unreadable")
      os.makedirs(aside, exist_ok=True)
      shutil.move(os.path.join(str(manager.directory), str(step)),
                  os.path.join(aside, f"{step}-{int(time.time())}"))
      manager.reload()
      print(f"warning: checkpoint {step} in {manager.directory} cannot be read "
            f"({type(err).__name__}: {(str(err).splitlines() or [''])[0][:200]}); moved it to "
            f"{aside} and trying an older one", file=sys.stderr)
      continue
    return step, restored.state, actions
  return None
