#!/usr/bin/python3
"""Grades one student copy: a table of exercise, points, checks passed and the first failing check.

    python3 coursework/grade.py STUDENT_COPY [--exercises a,b|all] [--timeout SECONDS] [--json | --csv]

For each exercise, the student's code between its markers goes into a pristine copy of this project (kept in
--workdir, default build-grade/ here, or $AE_GRADE_DIR), the grader and the lessons its milestone runs are rebuilt
incrementally, and the grader runs with a time limit; then the files go back to pristine. A region that does not
compile scores 0 with the first compiler error; a grader stopped by the time limit keeps the checks it finished;
the other exercises are graded all the same. By default the exercises in the copy's coursework/assigned.txt
(written by make_student_copy.py), else all. Exit status 0 when everything was graded (whatever the score).
"""
import argparse
import csv
import json
import sys
from pathlib import Path

import kit


def parse(argv, prog="grade.py"):
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("student", help="the student's copy (a folder)")
    ap.add_argument("--exercises", metavar="ID,ID,...|all", help="default: the copy's coursework/assigned.txt, else all")
    ap.add_argument("--timeout", type=float, default=120, help="seconds each grader may run (default 120)")
    ap.add_argument("--workdir", type=Path, help="the grading build (default build-grade/ or $AE_GRADE_DIR)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel compile jobs (default 2)")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of the table")
    out.add_argument("--csv", action="store_true", help="print CSV instead of the table")
    return ap.parse_args(argv)


def chosen_for(student, exercises, spec):
    if spec:
        return kit.select(exercises, spec)
    assigned = Path(student) / "coursework" / "assigned.txt"
    if assigned.is_file():
        return kit.select(exercises, ",".join(l.strip() for l in assigned.read_text().splitlines() if l.strip()))
    return sorted(exercises)


def main(argv):
    a = parse(argv)
    try:
        if not Path(a.student).is_dir():
            raise kit.KitError(f"{a.student} is not a folder")
        grader = kit.Grader(a.workdir or kit.default_workdir(), jobs=a.jobs, timeout=a.timeout)
        ids = chosen_for(a.student, grader.exercises, a.exercises)
        results = grader.grade(a.student, ids)
    except kit.KitError as e:
        print(f"grade.py: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
    elif a.csv:
        w = csv.DictWriter(sys.stdout, fieldnames=kit.CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in results:
            w.writerow(dict(r.as_dict(), student=Path(a.student).name))
    else:
        print(kit.format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
