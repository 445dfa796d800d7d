"""The mutation score of a finished ``mutmut run``, net of the mutants judged equivalent (`make mutation`).

Run from the folder mutmut ran in (the one holding ``mutants/``). The score is
``killed / (killed + survived)`` in percent, where a mutant that made the tests time out counts as
killed (the tests noticed) and every other verdict but ``killed`` (survived, no tests, suspicious,
segfault, not checked) counts as survived. Mutants listed in the equivalents file
(``tests/sim/mutation_equivalents.md``) are left out of both counts, but only while each still is
what the file says: the file gives every equivalent mutant's diff, and an entry whose diff no longer
matches ``mutmut show`` (the code changed), or whose mutant is now killed, fails the check, so the
list cannot silently excuse a different mutant. Exits 1 below ``--min`` percent or on a stale list.

The equivalents file: for each mutant a heading ``### `<mutant name>` `` followed by its reason in
prose and its diff in a ```` ```diff ```` block (the changed lines, as ``mutmut show`` prints them).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

#: Verdicts that count as killed: the tests failed, or ran past their time limit.
KILLED = ("killed", "timeout")

_ENTRY = re.compile(r"^### `(?P<name>[^`]+)`\s*$(?P<body>.*?)(?=^### |\Z)", re.M | re.S)
_DIFF = re.compile(r"```diff\n(?P<diff>.*?)```", re.S)


def changed_lines(diff: str) -> list[str]:
    """The removed and added lines of a unified diff (``-``/``+``, not the ``---``/``+++`` headers),
    stripped of trailing space: what identifies a mutation whatever its line numbers."""
    return [line.rstrip() for line in diff.splitlines()
            if line[:1] in "+-" and not line.startswith(("---", "+++"))]


def read_equivalents(path: Path) -> dict[str, list[str]]:
    """Mutant name -> its changed lines, from the equivalents file; raises ValueError naming an
    entry without a diff block."""
    entries = {}
    for match in _ENTRY.finditer(path.read_text(encoding="utf-8")):
        diff = _DIFF.search(match["body"])
        if diff is None or not changed_lines(diff["diff"]):
            raise ValueError(f"{path}: equivalent mutant {match['name']} has no ```diff block of its change")
        entries[match["name"]] = changed_lines(diff["diff"])
    return entries


def parse_results(text: str) -> dict[str, str]:
    """Mutant name -> verdict, from the lines ``    <name>: <verdict>`` of ``mutmut results --all true``."""
    verdicts = {}
    for line in text.splitlines():
        name, sep, verdict = line.strip().rpartition(": ")
        if sep and name and "__mutmut_" in name:
            verdicts[name] = verdict
    return verdicts


def score(verdicts: dict[str, str], equivalent: set[str]) -> tuple[int, int, float]:
    """(killed, survived, percent killed) over the mutants not judged equivalent; 100 when none."""
    counted = {name: v for name, v in verdicts.items() if name not in equivalent}
    killed = sum(v in KILLED for v in counted.values())
    survived = len(counted) - killed
    return killed, survived, 100.0 * killed / (killed + survived) if counted else 100.0


def mutmut(*args: str) -> str:
    """Output of one mutmut command, run by the same interpreter in the current folder."""
    done = subprocess.run([sys.executable, "-m", "mutmut", *args], capture_output=True, text=True, check=True)
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--equivalents", type=Path, required=True, help="the list of equivalent mutants (markdown)")
    parser.add_argument("--min", type=float, default=90.0, help="lowest acceptable score, percent killed")
    args = parser.parse_args(argv)
    if not 0 <= args.min <= 100:
        parser.error(f"--min must be a percentage from 0 to 100, got {args.min}")

    verdicts = parse_results(mutmut("results", "--all", "true"))
    if not verdicts:
        print("mutation: no mutants found; run `mutmut run` in this folder first", file=sys.stderr)
        return 1
    equivalents = read_equivalents(args.equivalents)
    problems = []
    for name, lines in equivalents.items():
        if name not in verdicts:
            problems.append(f"{name} is listed as equivalent but no longer exists")
        elif verdicts[name] in KILLED:
            problems.append(f"{name} is listed as equivalent but the tests kill it: remove it from the list")
        elif changed_lines(mutmut("show", name)) != lines:
            problems.append(f"{name} is listed as equivalent but its change differs now: check it again")

    killed, survived, percent = score(verdicts, set(equivalents))
    by_verdict = Counter(v for n, v in verdicts.items() if n not in equivalents)
    print(f"mutation: {len(verdicts)} mutants, {len(equivalents)} judged equivalent ({args.equivalents.name}); "
          f"of the rest {killed} killed, {survived} survived: score {percent:.1f}% (at least {args.min:g}% needed)")
    print("  verdicts: " + ", ".join(f"{v} {c}" for v, c in sorted(by_verdict.items())))
    for name, verdict in sorted(verdicts.items()):
        if verdict not in KILLED and name not in equivalents:
            print(f"  {verdict}: {name}   (mutmut show {name})")
    for problem in problems:
        print(f"  error: {problem}", file=sys.stderr)
    return 0 if percent >= args.min and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
