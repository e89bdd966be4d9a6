"""Goals in latent space: the goal setter, the goal state machine, the actor's intrinsic reward
and hindsight relabelling. Pure functions over per-env arrays; ``agents/goal_agent.py`` wires them.

* Goal setter: ``K`` candidates per env (from the goal archive of reached states,
  ``goalrl.archive``; or from the latent prior N(0, I), a bank of recently encoded real states, or
  half each), keep the one with the highest Q(s, g) (plus the archive's novelty), optionally
  among those the actor values as reachable only (``reachable_scores``, MEGA's filter; or by rank,
  ``most_reachable_scores``).
* Variants of the actor's task:
  - ``progress``: reward = decrease of the distance to the goal; a new goal every step;
  - ``reach``: reward 1 when the distance falls under ``reach_threshold`` (then the actor's episode
    ends); the goal is kept until reached or *abandoned*: Q(s, g) fell under
    ``abandon_threshold`` or the goal is ``max_goal_steps`` old. Counting abandoned goals makes the
    note's known risk visible: a setter that keeps picking unreachable goals never rewards the actor.
* Distance: Euclidean in latent space, or a learned estimate of steps (the note's "option 1").
* Hindsight ("future" strategy of HER): a fraction of actor samples get as goal the latent of a
  state reached later in the same episode; rewards are recomputed for the new goal.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


def latent_distance(z: jnp.ndarray, g: jnp.ndarray) -> jnp.ndarray:
  return jnp.linalg.norm(z - g, axis=-1)


def candidates(key, num_envs: int, k: int, bank: jnp.ndarray, bank_filled: jnp.ndarray,
               source: str) -> jnp.ndarray:
  """``[num_envs, k, D]`` candidate goals. ``bank`` [M, D] holds real latents, ``bank_filled`` of
  them valid; with an empty bank, replay candidates fall back to the prior."""
  k_prior, k_pick = jax.random.split(key)
  prior = jax.random.normal(k_prior, (num_envs, k, bank.shape[-1]))
  idx = jax.random.randint(k_pick, (num_envs, k), 0, jnp.maximum(bank_filled, 1))
  real = jnp.where(bank_filled > 0, bank[idx], prior)
  if source == "prior":
    return prior
  if source == "replay":
    return real
  return jnp.where((jnp.arange(k) < k // 2)[None, :, None], prior, real)


def select_goal(scores: jnp.ndarray, cands: jnp.ndarray, best: jnp.ndarray | None = None):
  """The candidate with the highest score for each env, and its index: ``scores`` [N, K] (Q(s, g),
  plus any optimism), ``cands`` [N, K, D]. ``best`` [N] picks given indices instead (an ablation)."""
  best = jnp.argmax(scores, axis=-1) if best is None else best
  return jnp.take_along_axis(cands, best[:, None, None], axis=1)[:, 0], best


def reachable_scores(scores: jnp.ndarray, values: jnp.ndarray, cutoff: float) -> jnp.ndarray:
  """MEGA's reachability filter: the setter's ``scores`` [N, K] where the actor's value of reaching
  the candidate from the current state, ``values`` [N, K], is at least ``cutoff``, and ``-inf``
  where it is below. An env with no candidate above the cutoff scores its candidates by ``values``
  instead (it gets the one the actor knows best how to reach). Rare states of other layouts
  (procedurally generated tasks) cannot be reached from this episode; the filter relies on the
  actor, trained with hindsight, valuing them low (on DoorKey-8x8 it did not yet at 50k env steps,
  RESULTS.md §11)."""
  ok = values >= cutoff
  return jnp.where(ok.any(axis=-1, keepdims=True), jnp.where(ok, scores, -jnp.inf), values)


def most_reachable_scores(scores: jnp.ndarray, values: jnp.ndarray, top: int) -> jnp.ndarray:
  """MEGA's filter by rank: the setter's ``scores`` [N, K] among each env's ``top`` candidates of
  highest reaching ``values`` [N, K] (ties at the cut kept), ``-inf`` elsewhere. A cutoff on the
  values (``reachable_scores``) keeps nothing out where the reaching network values every candidate
  high, as hindsight-trained values do for goals they have never failed to reach (on
  DoorKey-16x16 the achiever valued every candidate above 0.9 ** 10 by 20k env steps while
  reaching 5% of its goals, RESULTS.md §33); a rank still orders them."""
  kth = jax.lax.top_k(values, top)[0][..., -1:]  # each env's top-th highest value
  return jnp.where(values >= kth, scores, -jnp.inf)


class GoalEvents(NamedTuple):
  reached: jnp.ndarray  # bool [N]
  abandoned: jnp.ndarray  # bool [N]
  renew: jnp.ndarray  # bool [N]: a new goal is chosen now


def goal_events(variant: str, first: jnp.ndarray, distance: jnp.ndarray, q_now: jnp.ndarray,
                age: jnp.ndarray, reach_threshold: float, abandon_threshold: float,
                max_goal_steps: int) -> GoalEvents:
  """What happens to each env's current goal at this step (before acting)."""
  reached = ~first & (distance < reach_threshold)
  if variant == "progress":
    return GoalEvents(reached=reached, abandoned=jnp.zeros_like(first),
                      renew=jnp.ones_like(first))
  abandoned = ~first & ~reached & ((q_now < abandon_threshold) | (age >= max_goal_steps))
  return GoalEvents(reached=reached, abandoned=abandoned, renew=first | reached | abandoned)


def intrinsic_reward(variant: str, d_tm1: jnp.ndarray, d_t: jnp.ndarray, reach_threshold: float):
  """The actor's reward for a step that moved the distance to the goal from ``d_tm1`` to ``d_t``,
  and whether that step ends the actor's episode (``reach``: the goal was reached)."""
  if variant == "progress":
    return d_tm1 - d_t, jnp.zeros(d_t.shape, bool)
  reached = d_t < reach_threshold
  return reached.astype(jnp.float32), reached


def match_distance(distance: jnp.ndarray, key: jnp.ndarray, goal_key: jnp.ndarray) -> jnp.ndarray:
  """The distance an exact reach test reads: 0 where the observation's ``key`` is the goal's
  ``goal_key``, +inf where it is not, and ``distance`` where the goal has no key (-1). Keys are
  archive cells with ``reach_test="cell"`` (Go-Explore's cells: the goal's own view; -1 a prior
  draw before anything was archived) or true poses with ``reach_test="pose"`` (an oracle: the
  goal's cell and heading, whatever changed in the view; -1 where the goal's stored view was
  overwritten)."""
  return jnp.where(goal_key < 0, distance, jnp.where(key == goal_key, 0.0, jnp.inf))


def future_offsets(key, ended: jnp.ndarray) -> jnp.ndarray:
  """HER "future": for each window, an offset ``k >= 1`` to a later row of the same episode.

  ``ended`` [B, H] says row ``j0 + k`` (k = 1..H) ended the episode; offsets stop at that row.
  """
  horizon = ended.shape[1]
  last = jnp.where(ended.any(axis=1), jnp.argmax(ended, axis=1) + 1, horizon)  # 1..H
  return 1 + jnp.floor(jax.random.uniform(key, last.shape) * last).astype(jnp.int32)


def relabel(key, goals: jnp.ndarray, future: jnp.ndarray, fraction: float):
  """Replaces the goal of a ``fraction`` of rows by ``future`` latents; returns (goals, mask)."""
  mask = jax.random.uniform(key, goals.shape[:1]) < fraction
  return jnp.where(mask[:, None], future, goals), mask
