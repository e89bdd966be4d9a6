"""AMIGo's teacher signal for the goal setter: a record of what became of each goal, and the
teacher's labels and rising difficulty (Campero et al. 2021, "Learning with AMIGo").

AMIGo's teacher proposes goals and is paid ``+alpha`` when the student reaches one in at least
``t*`` steps and ``-beta`` otherwise (too soon, or never); ``t*`` starts at 7 and rises as goals get
easy. So the teacher learns to propose goals at the edge of what the student can reach: far
enough to be worth a trip, near enough to be reached. goalrl keeps the note's setter (the best of
``K`` random candidates by a learned score): with ``agent.goal_score="amigo"`` the score is a
teacher network ``T(s, g)`` regressed on these labels instead of ``Q(s, g)``. Departures from
AMIGo, each for a reason:

* The teacher is a value over ``K`` candidates drawn from the goal archive (real reached states),
  not a policy over grid cells trained by policy gradient: the note's setter, and the archive's
  candidates are what goalrl's goals are.
* A record is a pair of archive cells, the state where the goal was chosen and the goal, plus its
  label; the teacher re-encodes both observations with the current encoder when it trains (as
  goals are: ``goal_agent.current_goals``), so records do not go stale as the encoder moves. A
  record whose cells' replay rows were overwritten (``archive.fresh``) stays out of the loss.
* ``t*`` rises by one each time ``easy_count`` goals have been reached in fewer than ``t*`` steps
  since its last rise (AMIGo counts consecutive easy goals of one env; goalrl's envs end goals
  together, in no order), and never past ``max_goal_steps`` (a goal that old is abandoned).
* The student's reward stays the reach reward of 1 discounted by the achiever's gamma (AMIGo's
  ``1 - 0.9 t / T`` shapes the same preference for short paths).

A goal's steps are the actions taken from its choice to the observation that reached it (1 = the
first action reached it). Pure functions over a fixed-size ring in the agent's jitted state.
"""
from __future__ import annotations

import flax
import jax
import jax.numpy as jnp

# AMIGo's teacher reward: +1 for a goal reached in >= t* steps, -PENALTY otherwise; t* starts here
REWARD, PENALTY, START_DIFFICULTY = 1.0, 0.3, 7


@flax.struct.dataclass
class Records:
  start: jnp.ndarray  # int32 [G]: archive cell of the observation where the goal was chosen
  goal: jnp.ndarray  # int32 [G]: archive cell of the goal
  label: jnp.ndarray  # float32 [G]: REWARD if reached in >= t* steps, else -PENALTY
  count: jnp.ndarray  # int32 []: records written so far (the ring holds the latest G)
  difficulty: jnp.ndarray  # int32 []: t*, the fewest steps a goal must take to pay REWARD
  easy: jnp.ndarray  # int32 []: goals reached in fewer than t* steps since t* last rose


def init(size: int, difficulty: int = START_DIFFICULTY) -> Records:
  return Records(start=jnp.full((size,), -1, jnp.int32), goal=jnp.full((size,), -1, jnp.int32),
                 label=jnp.zeros((size,), jnp.float32), count=jnp.zeros((), jnp.int32),
                 difficulty=jnp.asarray(difficulty, jnp.int32), easy=jnp.zeros((), jnp.int32))


def labels(reached: jnp.ndarray, steps: jnp.ndarray, difficulty: jnp.ndarray) -> jnp.ndarray:
  """float32 [...]: AMIGo's teacher reward for goals that ended ``reached`` (bool) after ``steps``
  actions (int32), under difficulty ``t*``."""
  return jnp.where(reached & (steps >= difficulty), REWARD, -PENALTY).astype(jnp.float32)


def record(records: Records, ended: jnp.ndarray, start: jnp.ndarray, goal: jnp.ndarray,
           reached: jnp.ndarray, steps: jnp.ndarray, easy_count: int,
           max_difficulty: int) -> Records:
  """Writes the goals that ended this step (``ended`` bool [N]: reached, abandoned, or cut by their
  episode's end) into the ring, labelled under the current ``t*``, then raises ``t*`` when
  ``easy_count`` goals have been reached too soon. ``start``, ``goal``: int32 [N] archive cells;
  ``reached`` bool [N]; ``steps`` int32 [N] (see the module doc)."""
  size = records.start.shape[0]
  order = jnp.cumsum(ended.astype(jnp.int32)) - 1  # the k-th ended goal of this step -> slot k
  slot = jnp.where(ended, (records.count + order) % size, size)  # size: dropped
  label = labels(reached, steps, records.difficulty)
  easy = records.easy + jnp.sum(ended & reached & (steps < records.difficulty))
  rise = easy >= easy_count
  return records.replace(
      start=records.start.at[slot].set(start, mode="drop"),
      goal=records.goal.at[slot].set(goal, mode="drop"),
      label=records.label.at[slot].set(label, mode="drop"),
      count=records.count + jnp.sum(ended),
      difficulty=jnp.where(rise, jnp.minimum(records.difficulty + 1, max_difficulty),
                           records.difficulty),
      easy=jnp.where(rise, 0, easy))


def sample(records: Records, key, batch: int):
  """``(start, goal, label, valid)`` [batch]: records drawn uniformly among those written
  (``valid`` False for every row while none is)."""
  filled = jnp.minimum(records.count, records.start.shape[0])
  idx = jax.random.randint(key, (batch,), 0, jnp.maximum(filled, 1))
  return (records.start[idx], records.goal[idx], records.label[idx],
          jnp.broadcast_to(filled > 0, (batch,)))
