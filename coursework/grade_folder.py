#!/usr/bin/python3
"""Grades a folder of submissions into a CSV: one row per student per exercise.

    python3 coursework/grade_folder.py SUBMISSIONS_DIR OUT.csv [--exercises a,b|all] [--timeout SECONDS]

Each subfolder of SUBMISSIONS_DIR is one student's copy (its name is the student's). Columns: student, exercise,
earned, points, checks_passed, checks_total, status (graded, compile_error, timeout, crashed, invalid),
first_failure. One grading build is shared by all (incremental); one failing student never stops the others.
"""
import argparse
import csv
import sys
from pathlib import Path

import grade
import kit


def main(argv):
    ap = argparse.ArgumentParser(prog="grade_folder.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("submissions", type=Path)
    ap.add_argument("out", type=Path, help="the CSV to write")
    ap.add_argument("--exercises", metavar="ID,ID,...|all", help="default: each copy's coursework/assigned.txt, else all")
    ap.add_argument("--timeout", type=float, default=120, help="seconds each grader may run (default 120)")
    ap.add_argument("--workdir", type=Path, help="the grading build (default build-grade/ or $AE_GRADE_DIR)")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    try:
        if not a.submissions.is_dir():
            raise kit.KitError(f"{a.submissions} is not a folder")
        students = sorted(p for p in a.submissions.iterdir() if p.is_dir())
        if not students:
            raise kit.KitError(f"{a.submissions} has no subfolders (one per student)")
        grader = kit.Grader(a.workdir or kit.default_workdir(), jobs=a.jobs, timeout=a.timeout)
    except kit.KitError as e:
        print(f"grade_folder.py: {e}", file=sys.stderr)
        return 2
    rows = []
    for s in students:
        print(f"{s.name}:", file=sys.stderr, flush=True)
        try:
            ids = grade.chosen_for(s, grader.exercises, a.exercises)
            for r in grader.grade(s, ids):
                rows.append(dict(r.as_dict(), student=s.name))
        except Exception as e:  # noqa: BLE001 - whatever one student's copy does, grade the next
            rows.append({"student": s.name, "exercise": "*", "earned": 0, "points": 0, "checks_passed": 0,
                         "checks_total": 0, "status": "invalid", "first_failure": f"not graded: {e}"})
    with open(a.out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=kit.CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {a.out}: {len(students)} students, {len(rows)} rows", file=sys.stderr)
    for s in students:
        mine = [r for r in rows if r["student"] == s.name]
        print(f"  {s.name:<20} {sum(r['earned'] for r in mine)}/{sum(r['points'] for r in mine)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
