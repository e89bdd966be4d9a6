"""The benchmark scripts' own logic: the probe's R^2, the reference DQN, steps-to-threshold."""
import json
import os
import sys

import numpy as np
import pytest

from helpers import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import exploration  # noqa: E402
import latent_probe  # noqa: E402
import throughput  # noqa: E402


def test_probe_reads_a_linear_target_and_not_noise():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(4000, 8))
  env_ids = np.arange(4000) % 16
  readable = x @ rng.normal(size=(8, 1)) + 0.05 * rng.normal(size=(4000, 1))
  noise = rng.normal(size=(4000, 1))
  r2 = latent_probe.probe_r2(x, np.c_[readable, noise], env_ids, 16)
  assert r2[0] > 0.99 and r2[1] < 0.05


def test_reference_dqn_steps_and_updates():
  out = throughput.measure_reference("minigrid", 2048, 0)
  assert out["updates"] > 100 and out["sps"] > 0 and out["compile_s"] > 0


def test_steps_to_threshold_needs_enough_episodes():
  rows = [{"step": 10_000, "success_rate": 1.0, "episodes": 1},
          {"step": 20_000, "success_rate": 0.5, "episodes": 40},
          {"step": 30_000, "success_rate": 0.95, "episodes": 40}]
  assert exploration.steps_to(rows, 0.9) == 30_000
  assert exploration.steps_to(rows[:2], 0.9) is None


def test_intervals_are_reproducible_and_old_runs_lack_cells_per_episode():
  """rliable draws from numpy's global RNG: ``interval`` seeds it, so two calls agree whatever
  the global state; runs logged before ``episode_cells`` existed summarise with it as None."""
  values = [0.1, 0.5, 0.2, 0.9, 0.4]
  np.random.seed(1)
  first = exploration.interval(values, 200)
  np.random.seed(2)
  assert exploration.interval(values, 200) == first
  rows = [{"step": s, "success_rate": 0.5, "episodes": 20, "coverage": 9, "perf/sps": 1.0}
          for s in (1000, 2000)]
  assert exploration.seed_result(rows)["final_episode_cells"] is None
  rows[-1]["episode_cells"] = 4.5
  assert exploration.seed_result(rows)["final_episode_cells"] == 4.5


def test_exploration_plots_the_per_episode_metrics_beside_success(tmp_path):
  """The curves figure gets a row per per-episode metric (cells, key carried, doors opened; the
  intervals a column each) when every seed has them; results of older runs, without them, still
  plot, and the table shows them as "-"."""
  import matplotlib.image

  def seed(cells):
    rows = [{"step": s, "success_rate": 0.1 * i, "episodes": 20, "coverage": 9, "perf/sps": 1.0,
             **({"episode_cells": cells + i, "key_rate": 0.1 * i, "episode_doors": 0.5 * i}
                if cells is not None else {})}
            for i, s in enumerate((1000, 2000, 3000))]
    return exploration.seed_result(rows)

  heights = {}
  for name, cells in (("with_cells", 4.0), ("old", None)):
    results = {"Task": {a: {"seeds": [seed(cells), seed(cells)]} for a in ("dqn", "rnd_dqn")}}
    exploration.summarise(results, 3000, 50)
    line = exploration.table(results, 3000, 2).splitlines()[-1]
    assert ("0.20 [" in line and "1.00 [" in line) if cells else line.count(" - ") >= 3, line
    out = tmp_path / name
    out.mkdir()
    exploration.plot(results, str(out))
    heights[name] = matplotlib.image.imread(out / "exploration_curves.png").shape[0]
    assert (out / "exploration_intervals.png").exists()
  assert heights["with_cells"] > 3.2 * heights["old"]  # four rows of panels against one


def test_merge_keeps_earlier_entries_the_new_runs_lack_and_refuses_another_budget(tmp_path):
  seed = lambda v: {"steps_to_90": v}
  path = tmp_path / "exploration.json"
  path.write_text(json.dumps({"steps": 1000, "seeds": 2, "results": {
      "DoorKey-8x8": {"dqn": {"seeds": [seed(1), seed(2)]}, "rnd_dqn": {"seeds": [seed(3)]}},
      "MultiRoom-N4-S5": {"dqn": {"seeds": [seed(4), seed(5)]}}}}))
  results = {"MultiRoom-N4-S5": {"dqn": {"seeds": [seed(6), seed(7)]}}}
  exploration.merge_previous(results, str(path), 1000, 2)
  # the new runs win; an earlier entry of another seed count is not taken
  assert results == {"MultiRoom-N4-S5": {"dqn": {"seeds": [seed(6), seed(7)]}},
                     "DoorKey-8x8": {"dqn": {"seeds": [seed(1), seed(2)]}}}
  with pytest.raises(SystemExit, match="1000 steps x 2 seeds"):
    exploration.merge_previous({}, str(path), 2000, 2)


def test_doorkey_summary_compares_a_metric_at_equal_steps(tmp_path):
  """``dqn_doorkey.py --metric``: a run's and a reference table's metric, each averaged over the
  rows from ``at - WINDOW`` to ``at`` of every seed, then over seeds."""
  import dqn_doorkey
  setting = tmp_path / "runs" / "mine"
  for seed, doors in enumerate((1.0, 3.0)):
    os.makedirs(setting / "seeds" / str(seed))
    with open(setting / "seeds" / str(seed) / "metrics.jsonl", "w") as f:
      for step in (10_000, 20_000, 30_000):
        f.write(json.dumps({"step": step, "success_rate": 0.0, "episode_doors": doors * step / 1e4,
                            "perf/sps": 1.0, "episodes": 10}) + "\n")
  (setting / "config.json").write_text("{}")
  curve = lambda v: [[s, v] for s in (10_000, 20_000, 30_000)]
  table = {"results": {"MultiRoom-N4-S5": {"dqn": {"seeds": [
      {"curve": curve(0.0), "doors_curve": curve(0.5), "steps_to_90": None, "sps": 1.0}]}}}}
  (tmp_path / "table.json").write_text(json.dumps(table))
  mine = dqn_doorkey.summarise([(None, str(tmp_path / "runs"))], 20_000, 50, "episode_doors")
  ref = dqn_doorkey.reference(str(tmp_path / "table.json"), "MultiRoom-N4-S5", 20_000, 50,
                              "episode_doors")
  # seed 0: rows at 10k and 20k hold 1 and 2 doors, seed 1: 3 and 6 -> 1.5 and 4.5
  assert mine["mine"]["summary"]["metric_at"] == {"mean": 3.0, "min": 1.5, "max": 4.5}
  assert next(iter(ref.values()))["summary"]["metric_at"]["mean"] == 0.5
  text = dqn_doorkey.table({**mine, **ref}, 20_000, "episode_doors")
  assert "episode_doors @20k" in text and "3.00 [1.50, 4.50]" in text
  # both of this setting's seeds (1.5, 4.5) score above the reference's one (0.5): P(X > Y) = 1;
  # against itself, every pair but the equal ones splits evenly: 0.5
  better = dqn_doorkey.improvements(mine, ref, 20_000, 50, "episode_doors")
  assert list(better.values()) == [{"p": 1.0, "ci95": [1.0, 1.0]}]
  same = dqn_doorkey.improvements(mine, mine, 20_000, 50, "episode_doors")
  assert same["mine > mine"]["p"] == 0.5


def test_pooled_seeds_join_batches_count_the_budget_and_refuse_a_seed_twice(tmp_path):
  """``pooled_seeds.py``: seeds 0-1 of one run and 2 of another make one setting; a seed that
  reaches 0.9 after the budget counts as the budget; the same seed in two runs is refused;
  ``--window`` with ``--per_episode`` averages a wider window over its finished episodes."""
  import pooled_seeds

  def run(name, seeds):  # seed -> its success per row at 10k, 20k, 30k (key rate: 1 - success)
    for seed, successes in seeds.items():
      os.makedirs(tmp_path / name / "seeds" / str(seed))
      with open(tmp_path / name / "seeds" / str(seed) / "metrics.jsonl", "w") as f:
        for i, success in enumerate(successes):
          f.write(json.dumps({"step": 10_000 * (i + 1), "success_rate": success,
                              "key_rate": 1 - success, "episodes": 10}) + "\n")
    return str(tmp_path / name)

  a = run("a", {0: [0.5, 0.95, 1.0], 1: [0.95, 1.0, 1.0]})
  b = run("b", {2: [0.1, 0.2, 0.95]})
  s = pooled_seeds.summarise(pooled_seeds.pooled([a, b]), 20_000, 20_000, 50)
  assert s["seeds"] == [0, 1, 2] and s["steps_to_90"] == [20_000, 10_000, 20_000]
  assert s["reached"] == 2  # seed 2 gets there at 30k, past the 20k budget
  assert s["success_at"] == pytest.approx([0.725, 0.975, 0.15])
  keys = pooled_seeds.summarise(pooled_seeds.pooled([a, b]), 20_000, 20_000, 50, "key_rate")
  assert keys["success_at"] == pytest.approx([0.275, 0.025, 0.85])  # --metric key_rate
  # --window 20k --per_episode: seed 0's rows at 20k-40k weigh by their episodes (10, 10, 30)
  with open(os.path.join(a, "seeds", "0", "metrics.jsonl"), "a") as f:
    f.write(json.dumps({"step": 40_000, "success_rate": 0.0, "episodes": 30}) + "\n")
  wide = pooled_seeds.summarise(pooled_seeds.pooled([a]), 40_000, 40_000, 50, window=20_000,
                                per_episode=True)
  assert wide["success_at"][0] == pytest.approx((10 * 0.95 + 10 * 1.0 + 30 * 0.0) / 50)
  with pytest.raises(SystemExit, match="seed 0 appears twice"):
    pooled_seeds.pooled([a, a])


def test_pooled_seeds_take_a_tables_seeds_only_where_it_was_made_alike(tmp_path):
  """``pooled_seeds.py``'s ``TABLE.json:NAME`` part: a table's seeds join a run's as they stand
  there (in seed order); a table made with another --at, or a seed in both, is refused."""
  import pooled_seeds
  os.makedirs(tmp_path / "b" / "seeds" / "5")
  with open(tmp_path / "b" / "seeds" / "5" / "metrics.jsonl", "w") as f:
    for step, success in ((10_000, 0.5), (20_000, 0.95)):
      f.write(json.dumps({"step": step, "success_rate": success, "episodes": 10}) + "\n")
  table = {"budget": 20_000, "at": 20_000, "window": 10_000, "per_episode": False,
           "settings": {"a": {"seeds": [0, 1], "last_step": 30_000, "steps_to_90": [20_000, 10_000],
                              "reached": 2, "success_at": [0.7, 0.9]}}}
  with open(tmp_path / "t.json", "w") as f:
    json.dump(table, f)
  part = pooled_seeds.from_table(f"{tmp_path}/t.json:a", 20_000, 20_000, window=10_000)
  s = pooled_seeds.summarise(pooled_seeds.pooled([str(tmp_path / "b")]), 20_000, 20_000, 50,
                             window=10_000, tables=(part,))
  assert s["seeds"] == [0, 1, 5] and s["steps_to_90"] == [20_000, 10_000, 20_000]
  assert s["success_at"] == pytest.approx([0.7, 0.9, 0.725]) and s["reached"] == 3
  assert s["last_step"] == 20_000
  with pytest.raises(SystemExit, match="at 20000 there, 30000 here"):
    pooled_seeds.from_table(f"{tmp_path}/t.json:a", 20_000, 30_000, window=10_000)
  with pytest.raises(SystemExit, match="no setting 'c'"):
    pooled_seeds.from_table(f"{tmp_path}/t.json:c", 20_000, 20_000, window=10_000)
  with pytest.raises(SystemExit, match="a seed appears twice"):
    pooled_seeds.summarise({}, 20_000, 20_000, 50, tables=(part, part))
