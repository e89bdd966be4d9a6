"""Goal setter, goal state machine, intrinsic rewards and hindsight relabelling."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from goalrl import goals


def test_goal_setter_returns_the_candidate_with_highest_q():
  key = jax.random.PRNGKey(0)
  cands = jax.random.normal(key, (5, 16, 3))
  q = jax.random.normal(jax.random.PRNGKey(1), (5, 16))
  goal, index = goals.select_goal(q, cands)
  for env in range(5):
    best = int(np.argmax(np.asarray(q[env])))
    np.testing.assert_array_equal(goal[env], cands[env, best])
    assert int(index[env]) == best
  given = jnp.arange(5) % 16  # an ablation's own picks
  goal, index = goals.select_goal(q, cands, given)
  np.testing.assert_array_equal(goal, cands[jnp.arange(5), given])


def test_reachability_filter_keeps_the_setter_on_goals_the_actor_can_reach():
  scores = jnp.array([[5.0, 1.0, 3.0, 0.5], [5.0, 1.0, 3.0, 0.5]])
  values = jnp.array([[0.1, 0.9, 0.6, 0.2], [0.1, 0.2, 0.3, 0.05]])  # env 1: none reachable
  filtered = goals.reachable_scores(scores, values, cutoff=0.5)
  _, index = goals.select_goal(filtered, jnp.zeros((2, 4, 3)))
  # env 0: the best score among candidates valued >= 0.5 (not the unreachable top score);
  # env 1: nothing passes, so the candidate the actor values most.
  assert index.tolist() == [2, 2]
  assert bool(jnp.all(jnp.isinf(filtered[0, jnp.array([0, 3])])))
  # By rank: each env's 2 most reachable candidates, whatever their values (env 1's are all low).
  ranked = goals.most_reachable_scores(scores, values, top=2)
  _, index = goals.select_goal(ranked, jnp.zeros((2, 4, 3)))
  assert index.tolist() == [2, 2]
  assert jnp.isfinite(ranked).sum(axis=1).tolist() == [2, 2]
  # Rank first, then the cutoff: env 0 keeps 1 and 2 (both >= 0.5), env 1 falls back to values.
  both = goals.reachable_scores(ranked, values, cutoff=0.5)
  assert goals.select_goal(both, jnp.zeros((2, 4, 3)))[1].tolist() == [2, 2]


@pytest.mark.parametrize("source", ["prior", "replay", "both"])
def test_candidates_come_from_the_configured_source(source):
  bank = jnp.full((10, 4), 50.0)
  cands = goals.candidates(jax.random.PRNGKey(0), 3, 8, bank, jnp.array(10), source)
  from_bank = np.asarray(jnp.all(cands == 50.0, axis=-1))
  expected = {"prior": 0, "replay": 8, "both": 4}[source]
  assert from_bank.sum(axis=1).tolist() == [expected] * 3
  # An empty bank falls back to the prior instead of offering zeros.
  empty = goals.candidates(jax.random.PRNGKey(0), 3, 8, jnp.zeros((10, 4)), jnp.array(0), source)
  assert not bool(jnp.any(jnp.all(empty == 0.0, axis=-1)))


def _events(variant, q_now, age=0, distance=5.0, first=False):
  return goals.goal_events(variant, jnp.array([first]), jnp.array([distance]), jnp.array([q_now]),
                           jnp.array([age]), reach_threshold=1.0, abandon_threshold=0.1,
                           max_goal_steps=20)


def test_reach_abandons_goal_when_q_drops_under_threshold():
  kept = _events("reach", q_now=0.5)
  assert not bool(kept.abandoned[0]) and not bool(kept.renew[0])
  dropped = _events("reach", q_now=0.05)
  assert bool(dropped.abandoned[0]) and bool(dropped.renew[0]) and not bool(dropped.reached[0])


def test_reach_abandons_old_goals_and_renews_reached_or_new_episode():
  assert bool(_events("reach", q_now=0.5, age=20).abandoned[0])
  reached = _events("reach", q_now=0.05, distance=0.5)
  assert bool(reached.reached[0]) and not bool(reached.abandoned[0]) and bool(reached.renew[0])
  first = _events("reach", q_now=0.05, first=True)
  assert bool(first.renew[0]) and not bool(first.abandoned[0]) and not bool(first.reached[0])


def test_progress_renews_every_step_and_never_abandons():
  ev = _events("progress", q_now=-1.0, age=100)
  assert bool(ev.renew[0]) and not bool(ev.abandoned[0])


def test_intrinsic_rewards():
  r, stop = goals.intrinsic_reward("progress", jnp.array([3.0]), jnp.array([2.5]), 1.0)
  assert float(r[0]) == 0.5 and not bool(stop[0])
  r, stop = goals.intrinsic_reward("reach", jnp.array([3.0, 1.5]), jnp.array([0.5, 1.2]), 1.0)
  assert r.tolist() == [1.0, 0.0] and stop.tolist() == [True, False]


def test_future_offsets_stay_inside_the_episode():
  ended = jnp.array([[False, True, False, False], [False] * 4, [True, False, False, False]])
  offsets = jax.vmap(lambda k: goals.future_offsets(k, ended))(
      jax.random.split(jax.random.PRNGKey(0), 200))
  offsets = np.asarray(offsets)
  assert set(offsets[:, 0]) == {1, 2} and set(offsets[:, 1]) == {1, 2, 3, 4}
  assert set(offsets[:, 2]) == {1}


@pytest.mark.parametrize("variant", ["progress", "reach"])
def test_her_relabelled_rewards_match_the_relabelled_goals(variant):
  """Relabel with the latent actually reached next: the reward must say so."""
  key = jax.random.PRNGKey(0)
  z0 = jax.random.normal(key, (64, 8))
  z1 = z0 + 0.3 * jax.random.normal(jax.random.PRNGKey(1), (64, 8))
  original = jax.random.normal(jax.random.PRNGKey(2), (64, 8)) * 5.0
  relabelled, mask = goals.relabel(jax.random.PRNGKey(3), original, z1, fraction=0.5)
  assert 16 < int(mask.sum()) < 48
  np.testing.assert_array_equal(relabelled[mask], z1[mask])
  np.testing.assert_array_equal(relabelled[~mask], original[~mask])
  d0 = goals.latent_distance(z0, relabelled)
  d1 = goals.latent_distance(z1, relabelled)
  r, stop = goals.intrinsic_reward(variant, d0, d1, reach_threshold=0.5)
  m = np.asarray(mask)
  if variant == "reach":
    assert np.all(np.asarray(r)[m] == 1.0) and np.all(np.asarray(stop)[m])
    np.testing.assert_array_equal(np.asarray(r)[~m], (np.asarray(d1)[~m] < 0.5).astype(float))
  else:
    np.testing.assert_allclose(np.asarray(r)[m], np.asarray(d0)[m], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(r), np.asarray(d0 - d1), rtol=1e-6)
