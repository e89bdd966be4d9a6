#!/usr/bin/env bash
# The exploration issue's contract: the note's design stays reachable. Runs each latent agent's
# :quick at commit 81aed7c (a temporary git worktree) and today's :quick with the note's design
# (goalrl.config.GOAL_NOTE_DESIGN / OPTIMISTIC_NOTE_DESIGN, and the env's own seven actions, as
# every agent had then), then compares metrics.jsonl row by row (perf/ keys aside; keys logged only
# today, and the two goal metrics redefined since, are listed, not compared). Exit 1 on any
# difference. ~2 min on 2 CPU cores.
#   bash benchmarks/note_same_metrics.sh
# Measured 2026-11-30 (fifth session): goal_agent 4 rows, 0 differences (goal_q and goal_distance
# redefined); optimistic_dqn 4 rows, 0 differences.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
TMP=$(mktemp -d)
trap 'git worktree remove --force "$TMP/old" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
git worktree add -f "$TMP/old" 81aed7c -q --detach
for agent in goal_agent optimistic_dqn; do
  (cd "$TMP/old" && PYTHONPATH=src "$ROOT/.venv/bin/python" -m goalrl.train \
     --config=experiments/$agent.py:quick --workdir="$TMP/old_$agent" > "$TMP/old_$agent.log" 2>&1)
  # shellcheck disable=SC2046
  PYTHONPATH=src .venv/bin/python -m goalrl.train --config=experiments/$agent.py:quick \
    --workdir="$TMP/new_$agent" --config.env.actions= $(PYTHONPATH=src .venv/bin/python -c "
from goalrl import config
design = {'goal_agent': config.GOAL_NOTE_DESIGN, 'optimistic_dqn': config.OPTIMISTIC_NOTE_DESIGN}
def flags(d, prefix):
  for k, v in d.items():
    v = '(' + ','.join(map(str, v)) + ',)' if isinstance(v, tuple) else v  # one shell word
    yield from flags(v, prefix + k + '.') if isinstance(v, dict) else [f'--config.{prefix}{k}={v}']
print(' '.join(flags(design['$agent'], 'agent.')))") > "$TMP/new_$agent.log" 2>&1
done
PYTHONPATH=src .venv/bin/python - "$TMP" <<'PY'
import json, sys
tmp, bad = sys.argv[1], 0
# Metrics whose definition changed since 81aed7c (not the behaviour they report): since
# 2026-11-30 (RESULTS §14) the goal's Q and distance at choice are means over the goals chosen in
# the interval, not over its steps. Listed, not compared.
REDEFINED = {"goal_q", "goal_distance"}
for agent in ("goal_agent", "optimistic_dqn"):
  read = lambda w: [json.loads(l) for l in open(f"{tmp}/{w}_{agent}/metrics.jsonl")]
  old, new = read("old"), read("new")
  diffs = [(o["step"], k, o[k], n.get(k)) for o, n in zip(old, new) for k in sorted(o)
           if not k.startswith("perf/") and k not in REDEFINED and o[k] != n.get(k)]
  added = sorted({k for n in new for k in n} - {k for o in old for k in o})
  redefined = sorted(REDEFINED & {k for o in old for k in o})
  bad += bool(diffs) or len(old) != len(new)
  print(f"{agent}: {len(old)} rows at 81aed7c, {len(new)} today, {len(diffs)} differences"
        f"{' e.g. ' + str(diffs[:3]) if diffs else ''}; logged only today: {', '.join(added)}"
        f"{'; redefined, not compared: ' + ', '.join(redefined) if redefined else ''}")
sys.exit(bad)
PY
