"""Checkpoints on orbax: the whole ``LoopState`` (params, optimiser state, replay contents, keys,
counters, coverage maps) plus the action log that rebuilds the envs.

Orbax writes each step into a temporary directory and renames it when complete, so a run killed
mid-save leaves the previous checkpoint intact and the partial one is ignored on restore. Saves
are synchronous: the next chunk donates the state's buffers, and a checkpoint is taken at most
every few chunks.
"""
from __future__ import annotations

import os

import jax
import numpy as np
import orbax.checkpoint as ocp


def make_manager(workdir: str, max_to_keep: int) -> ocp.CheckpointManager:
  options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                         enable_async_checkpointing=False)
  return ocp.CheckpointManager(os.path.join(os.path.abspath(workdir), "checkpoints"),
                               options=options, item_names=("state", "actions"))


def save(manager: ocp.CheckpointManager, step: int, state, actions: np.ndarray) -> None:
  manager.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(state),
      actions=ocp.args.StandardSave({"actions": actions})))
  manager.wait_until_finished()


def restore(manager: ocp.CheckpointManager, template):
  """Latest ``(step, state, actions)``, or ``None`` when the workdir has no checkpoint.

  ``template`` is a freshly initialised state: it gives the pytree structure (flax dataclasses)
  and the shapes/dtypes to restore into.
  """
  step = manager.latest_step()
  if step is None:
    return None
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
  restored = manager.restore(step, args=ocp.args.Composite(
      state=ocp.args.StandardRestore(abstract), actions=ocp.args.StandardRestore()))
  return step, restored.state, np.asarray(restored.actions["actions"], np.uint8)
