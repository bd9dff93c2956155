"""Latency of a text query through the app's HTTP API against the bare engine call.

Serves the app on 127.0.0.1 and times `engine.search_text` directly, then the `/search_text` endpoint
through gradio_client with one client and with several concurrent clients. Prints p50/p95, the
ratios to the bare call, failed requests and the machine. Uses the demo checkpoint and gallery from
assets/ when both exist, else a random-init hpl-tiny model and a generated gallery, and prints which.

    python benchmarks/app.py [--requests 40] [--clients 8] [--time-limit 120] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

import app as app_module  # noqa: E402
from hpl.engine import ReIDEngine  # noqa: E402

QUERIES = (
    "a man in a red jacket and black trousers",
    "a woman with a white shirt holding a phone",
    "a person seen from the back with a grey backpack",
)


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_engine(workdir: Path) -> tuple[ReIDEngine, str]:
    """Return the demo engine, or one on a generated gallery when the demo assets are missing."""
    if app_module.DEFAULT_CHECKPOINT.is_file() and app_module.DEFAULT_GALLERY.is_dir():
        engine = ReIDEngine.from_checkpoint(
            app_module.DEFAULT_CHECKPOINT, gallery=app_module.DEFAULT_GALLERY, cache_root=workdir / "cache"
        )
        return engine, f"demo checkpoint and gallery ({engine.stats().num_images} images)"

    from gallery_helpers import make_gallery, save_tiny_checkpoint

    checkpoint = save_tiny_checkpoint(workdir / "tiny.safetensors")
    gallery = make_gallery(workdir / "gallery", num_pids=50, num_cameras=4)
    engine = ReIDEngine.from_checkpoint(checkpoint, gallery=gallery, cache_root=workdir / "cache")
    return (
        engine,
        f"generated gallery ({engine.stats().num_images} images), random-init hpl-tiny (demo assets missing)",
    )


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Return (p50, p95) of latencies in milliseconds."""
    ordered = sorted(samples)
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return statistics.median(ordered) * 1000, ordered[p95_index] * 1000


def time_engine(engine: ReIDEngine, requests: int) -> list[float]:
    latencies = []
    for number in range(requests):
        started = time.perf_counter()
        engine.search_text(QUERIES[number % len(QUERIES)], k=10)
        latencies.append(time.perf_counter() - started)
    return latencies


def time_clients(url: str, clients: int, requests: int, deadline: float) -> tuple[list[float], int, int]:
    """Send `requests` text queries spread over `clients` threads, returning latencies, failures and requests not sent."""
    from gradio_client import Client

    latencies: list[float] = []
    failures = [0]
    skipped = [0]
    lock = threading.Lock()
    per_client = [requests // clients + (1 if index < requests % clients else 0) for index in range(clients)]

    def run(count: int) -> None:
        client = Client(url, verbose=False)
        for number in range(count):
            if time.monotonic() > deadline:
                with lock:
                    skipped[0] += count - number
                return
            started = time.perf_counter()
            try:
                items, _ = client.predict(QUERIES[number % len(QUERIES)], 10, -1, api_name="/search_text")
                ok = len(items) == 10
            except Exception as err:  # a failed request is counted and reported, not fatal
                sys.stderr.write(f"request failed: {err!r}\n")
                ok = False
            with lock:
                latencies.append(time.perf_counter() - started)
                failures[0] += 0 if ok else 1

    threads = [threading.Thread(target=run, args=(count,)) for count in per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures[0], skipped[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="requests per measurement (default: 40)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default: 8)")
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds for all HTTP runs (default: 120)"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch intra-op threads (default: torch's choice)"
    )
    args = parser.parse_args()
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as workdir:
        engine, source = load_engine(Path(workdir))
        time_engine(engine, 3)  # warm-up
        bare = time_engine(engine, args.requests)

        demo = app_module.build_app(engine)
        demo.queue(default_concurrency_limit=app_module.MODEL_CONCURRENCY_LIMIT)
        port = free_port()
        demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + args.time_limit
        try:
            time_clients(url, 1, 3, deadline)  # warm-up
            single, single_failed, single_skipped = time_clients(url, 1, args.requests, deadline)
            concurrent, many_failed, many_skipped = time_clients(url, args.clients, args.requests, deadline)
        finally:
            demo.close()

    bare_p50, bare_p95 = percentiles(bare)
    rows = [("engine.search_text (bare)", bare, 0, 0)]
    rows.append(("HTTP, 1 client", single, single_failed, single_skipped))
    rows.append((f"HTTP, {args.clients} concurrent clients", concurrent, many_failed, many_skipped))

    import torch

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}; Python {platform.python_version()}")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads; load average {load} at the end"
    )
    print(f"gallery: {source}")
    print(
        f"requests per row: {args.requests}, k=10, model concurrency limit {app_module.MODEL_CONCURRENCY_LIMIT}"
    )
    print()
    print("| path | requests | failed | p50 ms | p95 ms | p50 / bare | p95 / bare |")
    print("|---|---|---|---|---|---|---|")
    for name, samples, failed, skipped in rows:
        p50, p95 = percentiles(samples)
        done = f"{len(samples)}" + (f" ({skipped} not sent: time limit)" if skipped else "")
        print(
            f"| {name} | {done} | {failed} | {p50:.1f} | {p95:.1f} | {p50 / bare_p50:.1f}x | {p95 / bare_p95:.1f}x |"
        )


if __name__ == "__main__":
    main()
