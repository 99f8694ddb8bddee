"""What each step of the block encoding buys: bytes per raw sample, in process.

    python bench/encoding_steps_bench.py [--minutes 120]

One simulated node per shape (bench/disk_bench.py's desktop8 and server32), `--minutes` of
1 s samples, each minute encoded as a block by variants of hub/store/sqlite/blocks.py: the
format 1 encoder of commit 4da2131 (read with `git show`, so run this inside the checkout),
then the shipped encoder with its later steps undone one by one (source patched in memory).
Reports payload bytes per sample (the block's zstd frame; pages and index come on top, see
disk_bench.py). The first minute is left out (its rates are null).
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from disk_bench import SHAPES, timestamps  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FORMAT1 = "4da2131"


def patched(src: str, old: str, new: str) -> str:
    if src.count(old) != 1:
        raise SystemExit(f"blocks.py changed: cannot undo a step ({old!r} not found once)")
    return src.replace(old, new)


def variants() -> list[tuple[str, str]]:
    now = (ROOT / "hub/store/sqlite/blocks.py").read_text()
    old = subprocess.run(["git", "show", f"{FORMAT1}:hub/store/sqlite/blocks.py"], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    no_offsets = patched(now, "if int(tops0[row]).bit_length() < width:", "if False:")
    map_header = patched(no_offsets, "header = [FORMAT, list(hashes), _runs(seq), [len(t) for t in tables], cols]",
                         'header = {"v": FORMAT, "shapes": list(hashes), "seq": _runs(seq), '
                         '"counts": [len(t) for t in tables], "cols": cols}')
    no_bits = patched(map_header, "if int(top).bit_length() <= MAX_BITS_WIDTH:", "if False:")
    return [("format 1", old), ("+ delta of delta where narrower", no_bits),
            ("+ float bits as integers (ts)", map_header), ("+ header as a list", no_offsets),
            ("+ plain offsets where narrower (shipped)", now)]


def load(name: str, src: str, folder: Path):
    path = folder / f"{name}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, default=120)
    args = ap.parse_args(argv)
    if not 2 <= args.minutes <= 1440:
        raise SystemExit("--minutes must be 2-1440")
    with tempfile.TemporaryDirectory(prefix="forge-encoding-steps-") as tmp:
        encoders = [(name, load(f"blocks_variant_{i}", src, Path(tmp))) for i, (name, src) in enumerate(variants())]
        for shape in ("desktop8", "server32"):
            sample, _ = SHAPES[shape].make(0)
            stamps = list(timestamps(1764200000.0 // 60 * 60, args.minutes * 60, random.Random(0)))
            samples = [sample(t) for t in stamps]
            for name, module in encoders:
                size = sum(len(module.encode(samples[m * 60:(m + 1) * 60]).data) for m in range(1, args.minutes))
                print(f"{shape}: {name}: {size / ((args.minutes - 1) * 60):.1f} B per sample")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
