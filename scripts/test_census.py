#!/usr/bin/env python3
"""Compares the doctest test cases compiled into a build's test binaries with the ones that
ran (the names tests/support/doctest_main.cpp appended to the log named by
SEEDSCOPE_TESTS_RAN). Prints both counts; exits 1 when a compiled case did not run, a case
ran that is not compiled, or a case ran twice.

usage: test_census.py BUILD_DIR RAN_LOG LABEL"""
import collections
import subprocess
import sys
from pathlib import Path


def compiled(build_dir: Path):
    names = []
    for binary in sorted((build_dir / "tests").glob("*_tests")):
        out = subprocess.run([str(binary), "--list-test-cases", "--no-skip", "--reporters=ctest", "--no-version"],
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            hex_name, sep, _ = line.partition("\t")
            if sep:
                names.append(bytes.fromhex(hex_name).decode("utf-8", "replace"))
    return names


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    build_dir, log, label = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    want = compiled(build_dir)
    ran = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    counts = collections.Counter(ran)
    missing = sorted(set(want) - set(counts))
    unexpected = sorted(set(counts) - set(want))
    twice = sorted(n for n, c in counts.items() if c > 1)
    print(f"{label}: {len(want)} test cases compiled, {len(counts)} ran")
    for title, names in (("compiled but did not run", missing), ("ran but not compiled", unexpected),
                         ("ran more than once", twice)):
        for n in names:
            print(f"  {title}: {n}")
    if len(set(want)) != len(want):
        print("  two compiled test cases share a name")
        return 1
    return 1 if missing or unexpected or twice else 0


if __name__ == "__main__":
    sys.exit(main())
