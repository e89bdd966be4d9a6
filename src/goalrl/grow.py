"""Freeze-and-grow, the note's idea: train a network until its loss stagnates, freeze what was
trained, add a new module that keeps training, and keep it only if it gives a real improvement.

Everything happens inside the compiled training loop, so shapes cannot change when a module is
added. A network that grows therefore declares its ``branches`` up front: submodules named
``grow_0 .. grow_{K-1}`` (see :class:`ResidualBranch`) whose output layer starts at exactly zero,
so a branch that has not trained adds nothing to the network's function. "Adding" branch ``k``
means letting it train; "dropping" it means resetting it to a fresh zero-output initialisation
(parameters and optimiser state). Every parameter carries a module label: ``0`` for the base
network, ``k + 1`` for branch ``grow_k`` (:func:`labels`, from the parameter paths).

Exactly one module trains at a time, the one :func:`training_module` names; all others are
frozen. The freeze is optax masking: :func:`make_optimiser` partitions the parameters by label
(``optax.transforms.partition``) and wraps each module's inner optimiser in
``optax.transforms.conditionally_mask``, fed the training module as an extra argument
(``optimiser.update(..., trainable=module)``). A frozen module gets zero updates and its optimiser
state (Adam moments and step count) stands still, so a module unfrozen after a dropped trial picks
up where it stopped, and a new branch's Adam starts its own bias correction at step 1. The
training module is a traced value, so each vmapped seed grows on its own schedule in one program.
(``optax.masked`` alone would need the mask as Python booleans: one recompile per stage, and one
stage for all seeds.)

The schedule (:func:`step`, one call per update with that update's loss; the loss is averaged
over devices first, so all devices decide alike):

1. the monitored loss is smoothed by a bias-corrected EMA (``ema``), as a batch loss is noisy;
2. while no trial runs, an update that brings the smoothed loss below
   ``best - plateau_tol * |best|`` resets the patience count; after ``patience`` updates without
   one, and while branches are left, the training module is frozen and the next branch starts a
   trial of ``trial_updates`` updates, remembering the smoothed loss at its start as ``baseline``;
3. at the end of the trial the branch is *kept* if the smoothed loss fell below
   ``baseline - margin * |baseline|``: it goes on training (and becomes the module whose plateau
   starts the next trial). Otherwise it is *dropped*: reset to zero output, and the module trained
   before resumes training (its next plateau starts another trial with a fresh branch).

Counters (trials, kept, dropped), the training module and the smoothed and baseline losses are
logged with the ``last/`` metric prefix (the value at the interval's last update); the training
CLI turns changes of the counters into lines of ``events.jsonl`` (:func:`events_between`).

Cost: every branch runs forward and backward at every update, active or not (fixed shapes), so
``branches * width`` should stay small next to the network.

Where it is used: the autoencoder (``agent.encoder.grow``), whose reconstruction loss on its own
stream is a fixed-target regression, so a plateau there does mean the network has run out of
capacity. Nothing here is specific to it: a module adds :func:`add_branches`, its learner uses
:func:`make_optimiser` and calls :func:`step` with its loss. The agents' Q networks do not grow:
their TD losses chase moving targets and rise when the agent finds reward, so their plateaus say
little about capacity.
"""
from __future__ import annotations

import re
from typing import Any, Callable

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from goalrl import parallel

PREFIX = "grow_"
_BRANCH = re.compile(rf"^{PREFIX}(\d+)$")


class ResidualBranch(nn.Module):
  """A new path ``x -> relu(Dense(width)) -> Dense(features)`` whose output layer starts at zero,
  so adding it leaves the network's output unchanged until it trains."""
  features: int
  width: int

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Dense(self.width)(x))
    return nn.Dense(self.features, kernel_init=nn.initializers.zeros)(x)


def add_branches(x, out, branches: int, width: int):
  """``out + sum_k grow_k(x)``: the branches of the calling (compact) module, each fed ``x``."""
  for k in range(branches):
    out = out + ResidualBranch(out.shape[-1], width, name=f"{PREFIX}{k}")(x)
  return out


@flax.struct.dataclass
class GrowState:
  updates: jnp.ndarray  # int32: losses seen
  ema: jnp.ndarray  # float32: uncorrected EMA accumulator of the loss
  smoothed: jnp.ndarray  # float32: bias-corrected EMA
  best: jnp.ndarray  # float32: lowest smoothed loss since the training module last changed
  since_best: jnp.ndarray  # int32: updates since ``best`` last improved by ``plateau_tol``
  kept: jnp.ndarray  # int32: branches kept (they are modules 1..kept)
  on_trial: jnp.ndarray  # bool: branch ``kept`` (module kept + 1) is on trial
  trial_left: jnp.ndarray  # int32: updates left in the trial
  baseline: jnp.ndarray  # float32: smoothed loss when the current/last trial started (0: none)
  trials: jnp.ndarray  # int32: trials started
  dropped: jnp.ndarray  # int32: trials that ended in a drop


def init() -> GrowState:
  i, f = (lambda v: jnp.asarray(v, jnp.int32)), (lambda v: jnp.asarray(v, jnp.float32))
  # Finite starts (the run's NaN/Inf guard checks every float of the state): no loss seen yet
  # counts as the largest float, no trial yet as baseline 0.
  return GrowState(updates=i(0), ema=f(0.0), smoothed=f(0.0), best=f(jnp.finfo(jnp.float32).max),
                   since_best=i(0), kept=i(0), on_trial=jnp.zeros((), bool), trial_left=i(0),
                   baseline=f(0.0), trials=i(0), dropped=i(0))


def training_module(state: GrowState) -> jnp.ndarray:
  """The one module that trains now: 0 = the base network, k + 1 = branch ``grow_k``."""
  return jnp.where(state.on_trial, state.kept + 1, state.kept)


def step(state: GrowState, loss, cfg, branches: int):
  """Advances the schedule by one update whose loss was ``loss`` (see the module doc).

  Returns ``(state, dropped)``: ``dropped`` (bool) says that the branch on trial was dropped at
  this update and must be reset (:func:`reset_inactive`). ``cfg`` is ``config.agent.encoder.grow``.
  """
  loss = parallel.mean(jnp.asarray(loss, jnp.float32))
  updates = state.updates + 1
  ema = cfg.ema * state.ema + (1.0 - cfg.ema) * loss
  smoothed = ema / (1.0 - cfg.ema ** updates.astype(jnp.float32))
  # Relative to |loss|: an unbiased MMD term can take a total loss slightly below zero.
  improved = smoothed < state.best - cfg.plateau_tol * jnp.abs(state.best)
  best = jnp.where(improved, smoothed, state.best)
  since_best = jnp.where(improved, 0, state.since_best + 1)

  # A trial that ends now: keep or drop.
  trial_left = jnp.where(state.on_trial, state.trial_left - 1, 0)
  ends = state.on_trial & (trial_left <= 0)
  keep = ends & (smoothed < state.baseline - cfg.margin * jnp.abs(state.baseline))
  drop = ends & ~keep
  # A plateau with branches left: start a trial (never at the update a trial ends).
  start = (~state.on_trial & (since_best >= cfg.patience) & (state.kept < branches))

  kept = state.kept + keep.astype(jnp.int32)
  on_trial = (state.on_trial & ~ends) | start
  changed = ends | start  # the training module changes: patience counts afresh
  best = jnp.where(keep | start, smoothed, jnp.where(drop, state.baseline, best))
  since_best = jnp.where(changed, 0, since_best)
  return GrowState(
      updates=updates, ema=ema, smoothed=smoothed, best=best, since_best=since_best, kept=kept,
      on_trial=on_trial, trial_left=jnp.where(start, cfg.trial_updates, trial_left),
      baseline=jnp.where(start, smoothed, state.baseline),
      trials=state.trials + start.astype(jnp.int32),
      dropped=state.dropped + drop.astype(jnp.int32)), drop


def labels(params) -> Any:
  """The module of every parameter (an int pytree like ``params``): ``k + 1`` under a
  ``grow_k`` submodule, else 0."""

  def label(path, _):
    for entry in path:
      match = _BRANCH.match(str(getattr(entry, "key", "")))
      if match:
        return int(match.group(1)) + 1
    return 0

  return jax.tree_util.tree_map_with_path(label, params)


def make_optimiser(inner: Callable[[], optax.GradientTransformation], params,
                   branches: int) -> optax.GradientTransformation:
  """Device-mean of the gradients, then ``inner()`` per module, each masked unless it is the
  training module: call ``update(grads, opt_state, params, trainable=training_module(s))``."""
  module_of = labels(params)

  def masked(k):
    return optax.transforms.conditionally_mask(
        inner(), lambda _, trainable: trainable == k, forward_extra_args=True)

  groups = {str(k): masked(k) for k in range(branches + 1)}
  return optax.chain(parallel.mean_gradients(), optax.transforms.partition(
      groups, jax.tree.map(str, module_of)))


def reset_inactive(state: GrowState, params, opt_state, fresh_params, fresh_opt_state):
  """Every branch beyond the ``state.kept`` kept ones (so the one just dropped) back to its fresh
  parameters and optimiser state (``make_optimiser``'s layout); called when a trial is dropped.

  The base network (module 0) is never reset, so its leaves are passed through in Python, not
  by a traced ``where``: its part of ``fresh_params`` is then dead code that XLA removes. That
  matters under vmapped seeds, where the caller's ``lax.cond`` on a per-seed ``dropped`` becomes
  a select that computes this at every update (a whole fresh autoencoder made the run 3x slower).
  """
  module_of = labels(params)
  params = jax.tree.map(lambda p, f, m: p if m == 0 else jnp.where(m > state.kept, f, p),
                        params, fresh_params, module_of)
  inner, fresh_inner = opt_state[1].inner_states, fresh_opt_state[1].inner_states
  new_inner = {k: inner[k] if k == "0" else jax.tree.map(
      lambda s, f: jnp.where(int(k) > state.kept, f, s), inner[k], fresh_inner[k])
               for k in inner}
  opt_state = (opt_state[0], opt_state[1]._replace(inner_states=new_inner), *opt_state[2:])
  return params, opt_state


def metrics(state: GrowState) -> dict:
  """The schedule's counters, logged at the last update of every interval (``last/`` keys)."""
  f = lambda x: jnp.asarray(x, jnp.float32)
  return {"last/grow_trials": f(state.trials), "last/grow_kept": f(state.kept),
          "last/grow_dropped": f(state.dropped), "last/grow_module": f(training_module(state)),
          "last/grow_loss": f(state.smoothed), "last/grow_baseline": f(state.baseline)}


def events_between(before: dict | None, row: dict) -> list[dict] | None:
  """Event records (for ``events.jsonl``) from the counters of two consecutive log rows: which
  trials started, and which ended kept or dropped, in the interval that ``row`` closes.

  The schedule runs inside the compiled chunk, so a record is dated by the log row that follows
  it, and its other fields (branches kept, training module, smoothed and trial-baseline losses)
  are those at that row's step. When a trial ends and the next starts within one interval, the
  baseline shown is the new trial's; a ``log_every`` under the trial length keeps them apart."""
  if row.get("grow_trials") is None:  # no update in this interval: nothing to compare
    return None
  get = lambda r, k: int(r.get(k) or 0) if r else 0
  out = []
  for kind, key in (("branch_kept", "grow_kept"), ("branch_dropped", "grow_dropped"),
                    ("trial_started", "grow_trials")):
    for _ in range(get(row, key) - get(before, key)):
      out.append({"step": row["step"], "event": kind, "branches_kept": get(row, "grow_kept"),
                  "training_module": get(row, "grow_module"),
                  "trial_baseline_loss": row.get("grow_baseline"),
                  "smoothed_loss": row.get("grow_loss")})
  return out


def describe(event: dict) -> str:
  """One line for the console."""
  number = lambda x: "n/a" if x is None else f"{x:.4g}"
  return (f"freeze-and-grow {event['event']} at step {event['step']}: "
          f"{event['branches_kept']} branch(es) kept, module {event['training_module']} trains, "
          f"smoothed loss {number(event['smoothed_loss'])} (trial baseline "
          f"{number(event['trial_baseline_loss'])})")
