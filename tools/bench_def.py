#!/usr/bin/env python3
"""Benchmark: DEF parse + validate of a 1 MB file against configparser on the same-size INI.

The DEF is the shipped UCCE template repeated with every section renamed (and the
references renamed with it), so the validator has real cross references to resolve.
The INI is the same text with indentation and the Siebel-only syntax removed, read by
``configparser`` configured to accept it (``=`` only, no interpolation).  Both are timed
in this one run; the figure that matters is the ratio.  Target: <= 2x configparser.

``--unresolved`` builds the same file but renames every reference differently from the
section it meant (``AnswerCall_3`` is referred to as ``AnswerCall-3``): thousands of
references do not resolve and each gets a "did you mean" suggestion, whose cost must not
grow with the file.  It also prints how many suggestions name the intended section.

    python tools/bench_def.py [--size-mb 1.0] [--repeat 5] [--unresolved]
"""

from __future__ import annotations

import argparse
import configparser
import re
import statistics
import time
from pathlib import Path

from siebel_gateway.def_file import check_bytes

ROOT = Path(__file__).resolve().parents[1]


def build_def(target: int, unresolved: bool = False) -> str:
    template = (ROOT / "def_templates/siebel-ucce.def").read_text()
    names = set(re.findall(r"^\s*\[[A-Za-z ]+:([^\]]+)\]", template, re.M))
    head, _, body = template.partition("[Profile:")
    body = "[Profile:" + body
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    pattern = re.compile(r"(?<=[:\"])(" + alternatives + r")(?=[\]\"])")
    chunks = [head]
    size, i = len(head), 0
    while size < target:
        chunk = body if i == 0 else pattern.sub(rf"\g<1>_{i}", body)
        if unresolved and i:  # the references miss their sections by one character
            chunk = re.sub(r'(?<=")(' + alternatives + rf')_{i}(?=")', rf"\g<1>-{i}", chunk)
        chunks.append(chunk)
        size += len(chunk)
        i += 1
    return "".join(chunks)


def suggestion_quality(problems: list[object]) -> tuple[int, int, int]:
    """(unresolved references, with a suggestion, suggesting the intended section)."""
    refs = hinted = right = 0
    for p in problems:
        m = re.search(r"refers to \[\w+:([^\]]+)\], which does not exist(?: \(did you "
                      r"mean '([^']+)'\?)?", getattr(p, "message", ""))
        if m is None:
            continue
        refs += 1
        if m.group(2):
            hinted += 1
            right += m.group(2) == re.sub(r"-(\d+)$", r"_\1", m.group(1))
    return refs, hinted, right


def to_ini(text: str) -> str:
    lines = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(";"):
            continue
        lines.append(s)
    return "\n".join(lines) + "\n"


def best(fn: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--unresolved", action="store_true",
                    help="thousands of references that do not resolve (suggestions)")
    args = ap.parse_args()
    def_text = build_def(int(args.size_mb * 1_000_000), args.unresolved)
    ini_text = to_ini(def_text)
    while len(ini_text) < len(def_text):  # same size: pad with more sections
        ini_text += to_ini(build_def(len(def_text) - len(ini_text)))
    ini_text = ini_text[: len(def_text)].rsplit("\n[", 1)[0] + "\n"
    data = def_text.encode()

    result = check_bytes(data, "bench.def")
    errors = result.errors
    if errors and not args.unresolved:
        raise SystemExit(f"benchmark DEF has errors: {errors[0].format()}")
    refs, hinted, right = suggestion_quality(list(errors))
    if args.unresolved:
        print(f"unresolved references: {refs}, with a suggestion: {hinted}, naming the "
              f"intended section: {right} ({len(errors)} errors in all)")

    def run_def() -> None:
        check_bytes(data, "bench.def")

    def run_ini() -> None:
        cp = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False,
                                       comment_prefixes=(";",), empty_lines_in_values=False)
        cp.read_string(ini_text)

    t_def = best(run_def, args.repeat)
    t_ini = best(run_ini, args.repeat)
    sections = len(result.model.sections)
    print(f"DEF file: {len(data) / 1e6:.2f} MB, {sections} sections, "
          f"{sum(len(s.params) for s in result.model.sections)} parameters, "
          f"{len(result.warnings)} warnings")
    print(f"INI file: {len(ini_text.encode()) / 1e6:.2f} MB (configparser)")
    print(f"parse+validate DEF : best {min(t_def) * 1e3:7.1f} ms  median "
          f"{statistics.median(t_def) * 1e3:7.1f} ms")
    print(f"configparser INI   : best {min(t_ini) * 1e3:7.1f} ms  median "
          f"{statistics.median(t_ini) * 1e3:7.1f} ms")
    print(f"ratio (best)       : {min(t_def) / min(t_ini):.2f}x  (target <= 2.00x)")


if __name__ == "__main__":
    main()
