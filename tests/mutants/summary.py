#!/usr/bin/env python3
"""Per-file table of cargo-mutants runs, from their outcome lists.

    python3 tests/mutants/summary.py DIR [DIR ...]

Each DIR holds caught.txt, missed.txt, unviable.txt and timeout.txt (cargo
mutants writes them to mutants.out/; runs are kept under tests/mutants/).
Given several runs, oldest first, a file's figures come from the last run
that mutated it (a later run was on newer code), and files no longer in
the repository are left out. A timeout counts as caught: the mutant made
the tests hang, which the run notices. Prints a Markdown table and the
score over viable mutants.
"""
import collections
import pathlib
import sys

OUTCOMES = ("caught", "missed", "unviable", "timeout")


def read_run(root: pathlib.Path) -> dict:
    counts: dict = collections.defaultdict(collections.Counter)
    for outcome in OUTCOMES:
        path = root / f"{outcome}.txt"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.strip():
                counts[line.split(":", 1)[0]][outcome] += 1
    return counts


def main() -> None:
    roots = [pathlib.Path(arg) for arg in sys.argv[1:]] or [pathlib.Path(".")]
    counts: dict = {}
    for root in roots:
        counts.update(read_run(root))
    repo = pathlib.Path(__file__).resolve().parents[2]
    gone = sorted(f for f in counts if not (repo / f).exists())
    print("| file | mutants | caught | missed | unviable | timeouts |")
    print("|---|---:|---:|---:|---:|---:|")
    total = collections.Counter()
    for file in sorted(set(counts) - set(gone)):
        c = counts[file]
        total.update(c)
        row = [c[o] for o in OUTCOMES]
        print(f"| `{file.removeprefix('mqttx/src/')}` | {sum(row)} | " + " | ".join(map(str, row)) + " |")
    row = [total[o] for o in OUTCOMES]
    print(f"| **total** | **{sum(row)}** | " + " | ".join(f"**{n}**" for n in row) + " |")
    viable = total["caught"] + total["missed"] + total["timeout"]
    if viable:
        caught = total["caught"] + total["timeout"]
        print(f"\n{caught} of {viable} viable mutants caught ({100 * caught / viable:.1f} %).")
    if gone:
        print("\nLeft out, no longer in the repository: " + ", ".join(f"`{f}`" for f in gone) + ".")


if __name__ == "__main__":
    main()
