"""Command line of the gallery index, run as `python -m hpl.index build|search ...`.

Argument parsing only: embedding and searching go through `hpl.engine.ReIDEngine`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hpl.index import KINDS, GalleryIndex, IndexParams

logger = logging.getLogger(__name__)

DESCRIPTION = """Build or search a gallery index.

build   embed every image of --gallery with --checkpoint and write the index to --out.
search  rank the gallery of --index for a --text description or an --image photo. The query is
        embedded with --checkpoint, which must be the checkpoint the index was built with (the
        index manifest stores its SHA-256, not its path, and a different one is rejected).
        Result paths are relative to the gallery folder the index was built from.
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the `build` and `search` subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m hpl.index",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="embed a gallery folder and save its index")
    build.add_argument(
        "--checkpoint", required=True, help="HPL .safetensors checkpoint (path or hf-hub:owner/repo/file)"
    )
    build.add_argument("--gallery", required=True, help="folder of gallery images (searched recursively)")
    build.add_argument(
        "--out", required=True, help="index folder to write (replaced atomically if it exists)"
    )
    build.add_argument(
        "--kind", choices=KINDS, default="flat", help="faiss index kind (default: flat, exact)"
    )
    build.add_argument("--batch-size", type=int, default=32, help="images per forward pass (default: 32)")
    build.add_argument("--device", default="cpu", help="torch device (default: cpu)")

    search = commands.add_parser("search", help="search a saved index by text or by photo")
    search.add_argument("--index", required=True, help="index folder written by `build`")
    search.add_argument("--checkpoint", required=True, help="the checkpoint the index was built with")
    query = search.add_mutually_exclusive_group(required=True)
    query.add_argument("--text", help="description of the person")
    query.add_argument("--image", help="photo of the person")
    search.add_argument("-k", type=int, default=10, help="number of results (default: 10)")
    search.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    return parser


def run_build(args: argparse.Namespace) -> int:
    """Embed the gallery, write the index and report the counts on stdout."""
    from hpl.engine import ReIDEngine

    engine = ReIDEngine.from_checkpoint(args.checkpoint, device=args.device, batch_size=args.batch_size)
    stats = engine.index_folder(args.gallery, index_dir=args.out, params=IndexParams(kind=args.kind))
    source = "reused the cached index" if stats.loaded_from_cache else "embedded"
    _write(f"{source}: {stats.num_images} images of {stats.num_identities} identities in {stats.index_dir}")
    _write(f"skipped {stats.num_skipped} files")
    for line in stats.skipped:
        _write(f"  {line}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    """Load the index, embed the query and write the ranked results as a table on stdout."""
    from hpl.checkpoint import checkpoint_fingerprint
    from hpl.engine import ReIDEngine

    index = GalleryIndex.load(args.index, expected_fingerprint=checkpoint_fingerprint(args.checkpoint))
    engine = ReIDEngine.from_checkpoint(args.checkpoint, device=args.device)
    engine.use_index(index, index_dir=Path(args.index))
    response = (
        engine.search_text(args.text, k=args.k)
        if args.text is not None
        else engine.search_image(args.image, k=args.k)
    )

    for message in response.messages:
        _write(f"note: {message}")
    _write(f"{'rank':>4}  {'score':>7}  {'pid':>5}  {'camid':>5}  path")
    for result in response.results:
        _write(f"{result.rank:>4}  {result.score:>7.4f}  {result.pid:>5}  {result.camid:>5}  {result.path}")
    return 0


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    args = build_parser().parse_args(argv)
    try:
        return run_build(args) if args.command == "build" else run_search(args)
    except (ValueError, FileNotFoundError, NotADirectoryError) as err:
        sys.stderr.write(f"error: {err}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
