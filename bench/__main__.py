"""Run every benchmark, then print all their `bench <name>: <number>` lines together, last.

`make bench` runs this (python -m bench). Each module runs in its own process, so one's warm
caches and memory do not flatter another; `python -m bench NAME …` runs only those.
"""

from __future__ import annotations

import subprocess
import sys
import time

MODULES = (
    # runs (issue 5)
    "stream_overhead",
    "chunk_to_screen",
    # media (issue 6)
    "probe_speed",
    "staging_rss",
    # chapters (issue 7)
    "shot_detect",
    "chapters_first_visible",
    "chapter_seek",  # issue 13
    # embeddings (issue 8)
    "projection",
    "projection_scale",  # issue 16
    "map_open",
    "map_open_1m",  # issue 16
    "first_map",
    "map_prefetch",
    "first_paint",  # issue 16
    "query",
    "search_index",  # issue 16
    "query_1m",  # issue 16
    "embed_job",
    "library_resume",  # issue 16
    # history (issue 9)
    "store_overhead",
    "history_open",
    "side_by_side",
    # a team's instances sharing one history (issue 14)
    "history_query",
    "cross_instance",
    # the prompt lab (issue 15)
    "lab",
    "lab_batch",  # issue 15
    # a server that runs for weeks (issue 13)
    "soak",
)


def main(names: list[str]) -> int:
    figures: list[str] = []
    failed: list[str] = []
    for name in names or MODULES:
        print(f"== bench.{name}", flush=True)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", f"bench.{name}"], capture_output=True, text=True
        )
        print(result.stdout, end="")
        if result.returncode:
            print(result.stderr, end="", file=sys.stderr)
            failed.append(name)
        figures += [line for line in result.stdout.splitlines() if line.startswith("bench ")]
        print(f"   ({time.monotonic() - started:.0f} s)\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    print("\n".join(figures))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
