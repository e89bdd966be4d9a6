#!/usr/bin/env bash
# Builds .gpu/site.tgz: the Python packages goalrl needs that a lent GPU machine's python3 (3.12,
# with jax + CUDA, flax, optax, chex, orbax) lacks, for a machine with no network. Run here, where
# pip reaches PyPI; the device tool carries .gpu (keep .gpu/ and .whl/ in .git/info/exclude).
# envpool is trimmed to its Atari and MiniGrid envs (its full wheel and assets are ~115 MB, over
# the 64 MiB a device call may carry; the trimmed site packs to ~12 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .whl .gpu
PLAT="--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
for pkg in envpool==1.2.5 envpool-assets==0.3.0 dm-env==1.6 dm-tree==0.1.10 gymnasium==1.4.0 \
    Farama-Notifications==0.0.6 flashbax==0.1.3 ml-collections==1.1.0 tensorboardX==2.6.5 \
    optree==0.20.0; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp $PLAT -d .whl "$pkg"
done
site=$(mktemp -d)
for w in .whl/*.whl; do (cd "$site" && unzip -q -o "$OLDPWD/$w"); done
for family in box2d classic_control gfootball highway jumanji mujoco pgx procgen toy_text vizdoom; do
  find "$site/envpool/$family" -name "*.so*" -delete
done
rm -rf "$site"/envpool_assets/{gfootball,mujoco,procgen,vizdoom}
cat > "$site/envpool/entry.py" <<'PY'
"""Trimmed for goalrl's GPU runs: only the Atari and MiniGrid families are carried."""
import envpool.atari.registration  # noqa: F401
import envpool.minigrid.registration  # noqa: F401
PY
tar czf .gpu/site.tgz -C "$site" .
rm -rf "$site"
ls -la .gpu/site.tgz
