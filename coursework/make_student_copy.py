#!/usr/bin/python3
"""Makes a student's copy of the project: the chosen exercises' solution regions replaced by a line that throws.

    python3 coursework/make_student_copy.py --all DEST
    python3 coursework/make_student_copy.py --exercises sparse_kl,corruption DEST

DEST gets the project's files (no build folders, data, outputs or wrong-answer fixtures), the chosen exercises'
statements in coursework/exercises/, STUDENT.md (the exercises, points, time, how to build and grade oneself) and
coursework/assigned.txt (the chosen ids, which grade.py grades by default). Regions of exercises not chosen keep
their solution. See docs/TEACHING.md.
"""
import argparse
import sys

import kit


def main(argv):
    ap = argparse.ArgumentParser(prog="make_student_copy.py", description=__doc__.split("\n\n")[0])
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every exercise")
    which.add_argument("--exercises", metavar="ID,ID,...", help="these exercises (python3 coursework/kit.py list)")
    ap.add_argument("dest", help="a new (or empty) folder")
    a = ap.parse_args(argv)
    try:
        exercises = kit.load()
        chosen = kit.select(exercises, "all" if a.all else a.exercises)
        kit.make_student_copy(a.dest, chosen, exercises=exercises)
    except (kit.KitError, OSError) as e:
        print(f"make_student_copy.py: {e}", file=sys.stderr)
        return 2
    points = sum(exercises[c].points for c in chosen)
    minutes = sum(exercises[c].minutes for c in chosen)
    print(f"wrote {a.dest}: {len(chosen)} exercises ({', '.join(chosen)}), {points} points, about {minutes} minutes; "
          f"see {a.dest}/STUDENT.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
