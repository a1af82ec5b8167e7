#!/usr/bin/env python3
"""Per-file table of a cargo-mutants run, from its outcome lists.

    python3 tests/mutants/summary.py DIR

DIR holds caught.txt, missed.txt, unviable.txt and timeout.txt (cargo
mutants writes them to mutants.out/; runs are kept under tests/mutants/).
A timeout counts as caught: the mutant made the tests hang, which the run
notices. Prints a Markdown table and the score over viable mutants.
"""
import collections
import pathlib
import sys


def main() -> None:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    outcomes = ("caught", "missed", "unviable", "timeout")
    counts: dict = collections.defaultdict(collections.Counter)
    for outcome in outcomes:
        path = root / f"{outcome}.txt"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.strip():
                counts[line.split(":", 1)[0]][outcome] += 1
    print("| file | mutants | caught | missed | unviable | timeouts |")
    print("|---|---:|---:|---:|---:|---:|")
    total = collections.Counter()
    for file in sorted(counts):
        c = counts[file]
        total.update(c)
        row = [c[o] for o in outcomes]
        print(f"| `{file.removeprefix('mqttx/src/')}` | {sum(row)} | " + " | ".join(map(str, row)) + " |")
    row = [total[o] for o in outcomes]
    print(f"| **total** | **{sum(row)}** | " + " | ".join(f"**{n}**" for n in row) + " |")
    viable = total["caught"] + total["missed"] + total["timeout"]
    if viable:
        caught = total["caught"] + total["timeout"]
        print(f"\n{caught} of {viable} viable mutants caught ({100 * caught / viable:.1f} %).")


if __name__ == "__main__":
    main()
