#!/usr/bin/python3
"""The coursework kit's proof (CTest coursework_kit): every grader can fail and can pass.

    python3 coursework/prove.py --workdir DIR

 1. builds a grading copy of the project (one configure and build; then incremental);
 2. the solution (this project, unchanged) scores full marks on every exercise;
 3. the student copy with every exercise (make_student_copy.py --all) scores 0 on each, with the skeleton's
    message, and compiles as a whole;
 4. a copy with two exercises selected: those score 0, every other one full marks;
 5. each wrong-answer fixture (coursework/fixtures/*.fixture), graded as a folder of submissions with
    grade_folder.py, scores as it says (partial marks naming its failing check; a compile error 0 with the
    compiler's message, the other exercise of that submission still graded);
 6. a submission that hangs is stopped after the time limit and the other exercise still graded.
Exercises, graders and fixtures are found by glob: new ones are proven too. Exit status 1 when any step fails.
"""
import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import kit

failures = []


def expect(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def script(name, *args, timeout=3600):
    r = subprocess.run([sys.executable, str(kit.KIT / name), *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        failures.append(f"{name} {' '.join(map(str, args))} exited with {r.returncode}: {kit._last_lines(r.stderr)}")
        print(r.stdout + r.stderr, flush=True)
    return r


def graded(name, *args, timeout=3600):
    """Runs grade.py --json; returns {exercise: result dict} and prints the table."""
    r = script("grade.py", *args, "--json", timeout=timeout)
    try:
        rows = json.loads(r.stdout)
    except json.JSONDecodeError:
        return {}
    results = []
    for d in rows:
        res = kit.Result(d["exercise"], d["points"])
        res.earned, res.passed, res.checks, res.message = d["earned"], d["checks_passed"], d["checks"], d["first_failure"]
        results.append(res)
    print(f"\n{name}:\n" + kit.format_table(results, width=90) + "\n", flush=True)
    return {d["exercise"]: d for d in rows}


def main(argv):
    ap = argparse.ArgumentParser(prog="prove.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, required=True, help="a folder for the grading build and the copies")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--exercises", metavar="ID,ID,...", help="prove only these (while writing one); default every one, "
                    "and then an incomplete exercise is a failure")
    a = ap.parse_args(argv)
    t_start = time.time()
    timings = []

    def step(name, t0):
        timings.append((name, time.time() - t0))

    work = a.workdir.resolve()
    gdir, copies = work / "grading", work / "copies"
    if copies.exists():
        shutil.rmtree(copies)
    copies.mkdir(parents=True)
    common = ["--workdir", gdir, "--jobs", a.jobs]

    t0 = time.time()
    try:
        exercises = kit.load(strict=not a.exercises)
        if a.exercises:
            exercises = {i: exercises[i] for i in kit.select(exercises, a.exercises)}
        fixtures = [f for f in kit.fixtures(kit.load(quiet=True)) if f.exercise in exercises]
        if not a.exercises:
            _, current = kit.table_in_doc(kit.REPO / "docs" / "TEACHING.md")
            expect(current == kit.table(exercises), "docs/TEACHING.md's exercise table matches the statements' front matter")
    except kit.KitError as e:
        print(f"prove.py: {e}", file=sys.stderr)
        return 1
    ids = sorted(exercises)
    print(f"{len(ids)} exercises ({', '.join(ids)}), {len(fixtures)} fixtures", flush=True)

    # 0. clear errors: an unknown exercise, a folder that is not empty, markers that do not pair up
    r = subprocess.run([sys.executable, str(kit.KIT / "make_student_copy.py"), "--exercises", "no_such_exercise", copies / "x"],
                       capture_output=True, text=True)
    expect(r.returncode == 2 and "unknown exercise no_such_exercise" in r.stderr, "make_student_copy.py names an unknown exercise")
    (copies / "full").mkdir()
    (copies / "full" / "a_file").write_text("")
    r = subprocess.run([sys.executable, str(kit.KIT / "make_student_copy.py"), "--all", copies / "full"], capture_output=True, text=True)
    expect(r.returncode == 2 and "exists and is not an empty folder" in r.stderr, "make_student_copy.py refuses a folder that is not empty")
    for text, says in [("// BEGIN EXERCISE a\n", "is never closed"), ("// END EXERCISE a\n", "without a BEGIN"),
                       ("// BEGIN EXERCISE a\n// END EXERCISE b\n", "closes the region of a")]:
        try:
            kit.find_regions(text, "f.cpp")
            expect(False, f"unbalanced markers are refused ({says})")
        except kit.KitError as e:
            expect(says in str(e) and "f.cpp:" in str(e), f"unbalanced markers are refused: {e}")

    # 1. the grading build
    g = kit.Grader(gdir, jobs=a.jobs)
    g.build_all(ids)
    g.release()  # the grade.py runs below take the workdir's lock
    step("configure + build of the grading copy", t0)

    # 2. the solution
    t0 = time.time()
    sol = graded("the solution (this project)", kit.REPO, "--exercises", ",".join(ids), *common)
    for i in ids:
        r = sol.get(i)
        expect(r is not None and r["earned"] == r["points"] and r["status"] == "graded" and r["checks_passed"] == r["checks_total"] > 0,
               f"solution: {i} scores full marks ({r and r['earned']}/{exercises[i].points}; {r and r['first_failure']})")
    step("grading the solution", t0)

    # 3. the student copy with every exercise
    t0 = time.time()
    skel = copies / "skeleton"
    script("make_student_copy.py", "--exercises", ",".join(ids), skel)
    expect((skel / "STUDENT.md").is_file() and not (skel / "coursework" / "fixtures").exists(),
           "the student copy has STUDENT.md and no wrong-answer fixtures")
    expect(all((skel / "coursework" / "exercises" / f"{i}.md").is_file() for i in ids), "the student copy has every statement")
    throws = sum((skel / f).read_text().count("is yours to write") for f in {f for e in exercises.values() for f in e.files})
    expect(throws == sum(sum(e.regions.values()) for e in exercises.values()),
           f"every region of the student copy throws ({throws} regions)")
    sk = graded("the student copy, every exercise (the skeleton)", skel, *common)
    for i in ids:
        r = sk.get(i)
        expect(r is not None and r["earned"] == 0 and r["status"] == "graded" and "is yours to write" in r["first_failure"],
               f"skeleton: {i} scores 0 and says whose it is ({r and r['earned']}/{exercises[i].points}, {r and r['status']})")
    g = kit.Grader(gdir, jobs=a.jobs)
    err = g.build_copy(skel, ids)
    g.release()
    expect(err is None, f"the whole student copy compiles ({err})")
    step("grading the skeleton", t0)

    # 4. a subset
    t0 = time.time()
    chosen = [ids[0], ids[len(ids) // 2]]
    sub = copies / "subset"
    script("make_student_copy.py", "--exercises", ",".join(chosen), sub)
    rs = graded(f"a copy with {', '.join(chosen)} selected", sub, "--exercises", ",".join(ids), *common)
    for i in ids:
        r, want = rs.get(i), (0 if i in chosen else exercises[i].points)
        expect(r is not None and r["earned"] == want, f"subset: {i} scores {want} ({r and r['earned']})")
    step("grading a subset copy", t0)

    # 5. the fixtures as a folder of submissions, 6. a hang
    t0 = time.time()
    folder, hangs = copies / "submissions", copies / "hangs"
    folder.mkdir()
    hangs.mkdir()
    neighbour = {}
    for fx in fixtures:
        dest = (hangs if fx.expect == "timeout" else folder) / fx.name
        kit.make_student_copy(dest, [], exercises=exercises)
        fx.apply(dest, exercises)
        neighbour[fx.name] = next(i for i in ids if i != fx.exercise)
        also = [neighbour[fx.name]] if fx.expect in ("compile_error", "timeout") else []
        (dest / "coursework" / "assigned.txt").write_text("".join(x + "\n" for x in [fx.exercise] + also))
    if any(folder.iterdir()):
        out_csv = copies / "grades.csv"
        script("grade_folder.py", folder, out_csv, "--timeout", 600, *common)
        rows = list(csv.DictReader(open(out_csv))) if out_csv.exists() else []
        print(f"\n{out_csv}:\n" + (out_csv.read_text() if out_csv.exists() else "(not written)"), flush=True)
        for fx in fixtures:
            if fx.expect == "timeout":
                continue
            mine = {r["exercise"]: r for r in rows if r["student"] == fx.name}
            r, pts = mine.get(fx.exercise), exercises[fx.exercise].points
            earned = int(r["earned"]) if r else -1
            if fx.expect == "partial":
                ok = r is not None and 0 < earned < pts and r["status"] == "graded" and fx.failing in r["first_failure"]
            elif fx.expect == "zero":
                ok = r is not None and earned == 0 and r["status"] == "graded" and fx.failing in r["first_failure"]
            else:
                ok = r is not None and earned == 0 and r["status"] == "compile_error" and "error" in r["first_failure"]
                n = mine.get(neighbour[fx.name])
                expect(n is not None and int(n["earned"]) == exercises[n["exercise"]].points,
                       f"fixture {fx.name}: the submission's other exercise {neighbour[fx.name]} is still graded, full marks")
            expect(ok, f"fixture {fx.name}: {fx.expect}, {earned}/{pts}, first failure '{r and r['first_failure'][:100]}' "
                       f"(expected to name '{fx.failing}')")
    step("grading the fixtures (grade_folder.py)", t0)
    t0 = time.time()
    for fx in [f for f in fixtures if f.expect == "timeout"]:
        rh = graded(f"fixture {fx.name} (a hang), time limit 15 s", hangs / fx.name, "--timeout", 15, *common)
        r, n = rh.get(fx.exercise), rh.get(neighbour[fx.name])
        expect(r is not None and r["status"] == "timeout" and "stopped after" in r["first_failure"] and r["earned"] < r["points"],
               f"fixture {fx.name}: stopped after 15 s and reported ({r and r['status']}: {r and r['first_failure']})")
        expect(n is not None and n["earned"] == n["points"], f"fixture {fx.name}: the other exercise {neighbour[fx.name]} still graded")
    step("grading a hang", t0)

    print("\ntimings:")
    for name, s in timings:
        print(f"  {name:<45} {s:6.0f} s")
    print(f"  {'total':<45} {time.time() - t_start:6.0f} s")
    if failures:
        print(f"\n{len(failures)} failures:\n  " + "\n  ".join(failures))
        return 1
    print("\nevery grader fails on the skeleton, passes on the solution, and the fixtures score as stated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
