#!/usr/bin/python3
"""The coursework kit's shared code: exercises, their solution regions, student copies and grading.

One source of truth: a solution region is a run of whole statements in the library's own code between
    // BEGIN EXERCISE <id>
    // END EXERCISE <id>
(one or more regions per exercise, in the files its statement lists). The statement is coursework/exercises/<id>.md
(front matter: id, title, lesson, slide, points, minutes, files), the grader coursework/graders/<id>.cpp.
A student copy keeps the markers and replaces what is between them by one line that throws; grading puts the
student's regions back into a pristine tree, builds it and runs the grader.

The scripts make_student_copy.py, grade.py, grade_folder.py and prove.py are thin commands over this module;
`python3 coursework/kit.py table` prints the exercise table of docs/TEACHING.md (`--check` compares, `--write`
rewrites it). Python 3 standard library only.
"""
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parent
REPO = KIT.parent
MARKER = re.compile(r"^(\s*)//\s*(BEGIN|END) EXERCISE\s+(\S+)\s*$")
REGION_DIRS = ("autodiff", "nn", "autoencoders", "lessons")  # where solution regions may live
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".cc")
FRONT_KEYS = ("id", "title", "lesson", "slide", "points", "minutes", "files")
TABLE_BEGIN, TABLE_END = "<!-- BEGIN EXERCISE TABLE (python3 coursework/kit.py table --write) -->", "<!-- END EXERCISE TABLE -->"


class KitError(Exception):
    """A problem with the kit's own files or with the input given to a command: one line naming the thing."""


# ---- files ---------------------------------------------------------------------------------------------------

def project_files(root):
    """The project's files (relative paths): git's tracked and untracked-but-not-ignored files, without build
    folders, data or outputs; a folder that is not a git checkout (a student copy) is walked instead."""
    root = Path(root)
    files = None
    if (root / ".git").exists():
        try:
            out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                 capture_output=True, check=True).stdout
            files = [f for f in out.decode().split("\0") if f]
        except (OSError, subprocess.CalledProcessError):
            files = None
    if files is None:
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            rel = Path(dirpath).relative_to(root)
            dirnames[:] = [d for d in dirnames if not (rel == Path(".") and _skipped_top(d)) and d != ".git"]
            files += [str(rel / f) if str(rel) != "." else f for f in filenames]
    return sorted(f for f in files if not _skipped_top(f.split("/")[0]) and (root / f).is_file())


def _skipped_top(name):
    return name.startswith("build") or name in ("data", "out", ".git")


# ---- regions ---------------------------------------------------------------------------------------------------

def find_regions(text, where):
    """[(id, begin_line, end_line, indent)] of a file's regions (0-based line numbers of the two markers).
    Unbalanced, nested or mismatched markers raise KitError naming the file and line."""
    regions, open_ = [], None
    for n, line in enumerate(text.split("\n")):
        m = MARKER.match(line)
        if not m:
            continue
        indent, kind, ex = m.groups()
        if kind == "BEGIN":
            if open_:
                raise KitError(f"{where}:{n + 1}: BEGIN EXERCISE {ex} inside the region of {open_[0]} opened at line {open_[1] + 1}")
            open_ = (ex, n, indent)
        else:
            if not open_:
                raise KitError(f"{where}:{n + 1}: END EXERCISE {ex} without a BEGIN")
            if open_[0] != ex:
                raise KitError(f"{where}:{n + 1}: END EXERCISE {ex} closes the region of {open_[0]} opened at line {open_[1] + 1}")
            regions.append((ex, open_[1], n, open_[2]))
            open_ = None
    if open_:
        raise KitError(f"{where}:{open_[1] + 1}: BEGIN EXERCISE {open_[0]} is never closed (no END EXERCISE {open_[0]})")
    return regions


def region_bodies(text, ex, where):
    """The bodies (text between the markers) of exercise ex's regions in one file, in order."""
    lines = text.split("\n")
    return ["\n".join(lines[b + 1:e]) for (i, b, e, _) in find_regions(text, where) if i == ex]


def replace_bodies(text, ex, bodies, where):
    """The text with the bodies of ex's regions replaced, in order (len(bodies) must match)."""
    lines = text.split("\n")
    mine = [r for r in find_regions(text, where) if r[0] == ex]
    if len(mine) != len(bodies):
        raise KitError(f"{where}: {len(bodies)} regions of {ex} given, the file has {len(mine)}")
    for (_, b, e, _), body in reversed(list(zip(mine, bodies))):
        lines[b + 1:e] = body.split("\n") if body != "" else []
    return "\n".join(lines)


def skeleton_line(ex, indent):
    return f'{indent}throw std::logic_error("exercise {ex} is yours to write: see coursework/exercises/{ex}.md");'


def skeleton_bodies(text, ex, where):
    return [skeleton_line(ex, indent) for (i, _, _, indent) in find_regions(text, where) if i == ex]


def ensure_stdexcept(text):
    """Adds #include <stdexcept> after the first #include when the file has none (the skeleton's throw needs it)."""
    if re.search(r"^\s*#\s*include\s*<stdexcept>", text, re.M):
        return text
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if re.match(r"^\s*#\s*include\b", line):
            lines.insert(n + 1, "#include <stdexcept>")
            return "\n".join(lines)
    return "#include <stdexcept>\n" + text


# ---- exercises ---------------------------------------------------------------------------------------------------

class Exercise:
    def __init__(self, meta, statement, grader):
        self.meta, self.statement, self.grader = meta, statement, grader
        self.id = meta["id"]
        self.points = int(meta["points"])
        self.minutes = int(meta["minutes"])
        self.files = [f.strip() for f in meta["files"].split(",") if f.strip()]
        # the lessons to build for its milestones: the front matter's, and any the grader runs
        named = [l for l in re.split(r"[,;\s]+", meta["lesson"]) if re.fullmatch(r"\d\d_\w+", l)]
        runs = re.findall(r'run_lesson\(\s*"(\d\d_\w+)"', grader.read_text(encoding="utf-8")) if grader.is_file() else []
        self.lessons = list(dict.fromkeys(named + runs))
        self.regions = {}  # file -> number of regions


def read_front_matter(path):
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise KitError(f"{path}: the statement must start with a front-matter block (a line '---')")
    meta = {}
    for n, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            break
        if not line.strip():
            continue
        if ":" not in line:
            raise KitError(f"{path}:{n}: front-matter line without 'key: value': {line.strip()}")
        k, v = line.split(":", 1)
        meta[k.strip()] = v.strip()
    else:
        raise KitError(f"{path}: the front-matter block is not closed by a line '---'")
    missing = [k for k in FRONT_KEYS if not meta.get(k)]
    if missing:
        raise KitError(f"{path}: front matter lacks {', '.join(missing)}")
    for k in ("points", "minutes"):
        if not re.fullmatch(r"\d+", meta[k]) or int(meta[k]) <= 0:
            raise KitError(f"{path}: {k} must be a positive whole number, not '{meta[k]}'")
    if meta["id"] != Path(path).stem:
        raise KitError(f"{path}: id '{meta['id']}' differs from the file's name")
    return meta, "\n".join(lines[n:])


def scan_regions(root, files=None):
    """{exercise: {file: number of regions}} over the library's source files."""
    root = Path(root)
    found = {}
    for f in files if files is not None else project_files(root):
        if f.split("/")[0] not in REGION_DIRS or not f.endswith(SOURCE_SUFFIXES):
            continue
        text = (root / f).read_text(encoding="utf-8")
        if "EXERCISE" not in text:
            continue
        for ex, *_ in find_regions(text, f):
            found.setdefault(ex, {}).setdefault(f, 0)
            found[ex][f] += 1
    return found


def load(root=REPO, strict=False, quiet=False):
    """Every exercise of the kit at root: statement, grader, regions in exactly the files it lists. An incomplete
    exercise (one of those missing, a bad front matter) raises KitError when strict (prove.py), else it is left out
    with a warning on stderr, so that one exercise being written does not stop the grading of the others.
    Markers that do not pair up always raise (no copy can be made of such a file)."""
    root = Path(root)
    graders = {p.stem for p in (root / "coursework" / "graders").glob("*.cpp")}
    regions = scan_regions(root)
    exercises, problems, named = {}, [], set()
    for s in sorted((root / "coursework" / "exercises").glob("*.md")):
        named.add(s.stem)
        try:
            meta, _ = read_front_matter(s)
            ex = Exercise(meta, s, root / "coursework" / "graders" / f"{meta['id']}.cpp")
            if ex.id not in graders:
                raise KitError(f"exercise {ex.id}: no grader coursework/graders/{ex.id}.cpp")
            have = regions.get(ex.id, {})
            if not have:
                raise KitError(f"exercise {ex.id}: no region '// BEGIN EXERCISE {ex.id}' in the library's code")
            if set(have) != set(ex.files):
                raise KitError(f"exercise {ex.id}: its statement lists files {', '.join(ex.files)} but its regions are in "
                               f"{', '.join(sorted(have))}")
            ex.regions = have
            exercises[ex.id] = ex
        except KitError as e:
            problems.append(str(e))
    for ex in sorted(set(regions) - named):
        problems.append(f"regions of exercise {ex} in {', '.join(regions[ex])} have no statement coursework/exercises/{ex}.md")
    for g in sorted(graders - named):
        problems.append(f"grader coursework/graders/{g}.cpp has no statement coursework/exercises/{g}.md")
    if problems and strict:
        raise KitError(problems[0] + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""))
    if problems and not quiet:
        print(f"warning: {len(problems)} problems leave exercises out, e.g. {problems[0]} (python3 coursework/kit.py "
              "list shows them all)", file=sys.stderr)
    load.problems = problems
    return exercises


def select(exercises, spec):
    """'all' or a comma list of ids -> [ids]; an unknown id raises naming it and the known ones."""
    if spec in (None, "", "all"):
        return sorted(exercises)
    chosen = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [c for c in chosen if c not in exercises]
    if unknown:
        raise KitError(f"unknown exercise {', '.join(unknown)} (the exercises: {', '.join(sorted(exercises))})")
    return list(dict.fromkeys(chosen))


# ---- wrong-answer fixtures -----------------------------------------------------------------------------------------

class Fixture:
    """coursework/fixtures/<name>.fixture: a plausible wrong answer (or a broken one) for one exercise.
        # what the mistake is (comment lines start with #)
        exercise: sparse_kl
        expect: partial          (partial | zero | compile_error | timeout)
        failing: value on a worked example     (a part of the first failing check's name; for partial and zero)
        --- region 2
        ...the code that replaces the body of the exercise's region 2...
    Regions are numbered from 1 in the order of the statement's files, then of the lines; regions not given keep
    the solution."""

    def __init__(self, path, exercises):
        self.path, self.name = Path(path), Path(path).stem
        head, self.regions, current = {}, {}, None
        for n, line in enumerate(self.path.read_text(encoding="utf-8").split("\n"), start=1):
            m = re.match(r"^--- region (\d+)", line)
            if m:
                current = int(m[1])
                self.regions[current] = []
            elif current is not None:
                self.regions[current].append(line)
            elif line.strip() and not line.startswith("#"):
                if ":" not in line:
                    raise KitError(f"{self.path}:{n}: expected 'key: value' or '--- region N'")
                k, v = line.split(":", 1)
                head[k.strip()] = v.strip()
        self.exercise, self.expect, self.failing = head.get("exercise"), head.get("expect"), head.get("failing", "")
        if self.exercise not in exercises:
            raise KitError(f"{self.path}: unknown exercise '{self.exercise}'")
        if self.expect not in ("partial", "zero", "compile_error", "timeout"):
            raise KitError(f"{self.path}: expect must be partial, zero, compile_error or timeout, not '{self.expect}'")
        if self.expect in ("partial", "zero") and not self.failing:
            raise KitError(f"{self.path}: a 'failing:' line must name the check that fails")
        total = sum(exercises[self.exercise].regions.values())
        if not self.regions or any(not 1 <= r <= total for r in self.regions):
            raise KitError(f"{self.path}: give regions between 1 and {total} ('--- region N')")
        for r in self.regions:  # drop the blank line before the next '--- region'
            while self.regions[r] and not self.regions[r][-1].strip():
                self.regions[r].pop()

    def apply(self, copy, exercises):
        """Puts the fixture's regions into the exercise's files of a copy of the project."""
        ex, k = exercises[self.exercise], 0
        for f in ex.files:
            p = Path(copy) / f
            text = p.read_text(encoding="utf-8")
            bodies = region_bodies(text, ex.id, f)
            for j in range(len(bodies)):
                k += 1
                if k in self.regions:
                    bodies[j] = "\n".join(self.regions[k])
            p.write_text(replace_bodies(text, ex.id, bodies, f), encoding="utf-8")


def fixtures(exercises, root=REPO):
    return [Fixture(p, exercises) for p in sorted((Path(root) / "coursework" / "fixtures").glob("*.fixture"))]


# ---- the teacher's table -------------------------------------------------------------------------------------------

def table(exercises):
    rows = ["| exercise | title | lesson | slide | points | minutes | files |", "|---|---|---|---|---:|---:|---|"]
    for ex in sorted(exercises.values(), key=lambda e: (e.meta["lesson"], e.id)):
        m = {k: v.replace("|", "\\|") for k, v in ex.meta.items()}  # a | inside a cell would end it
        rows.append(f"| [{ex.id}](../coursework/exercises/{ex.id}.md) | {m['title']} | {m['lesson']} | {m['slide']} | "
                    f"{ex.points} | {ex.minutes} | {', '.join('`' + f + '`' for f in ex.files)} |")
    total_p = sum(e.points for e in exercises.values())
    total_m = sum(e.minutes for e in exercises.values())
    rows.append(f"| **all {len(exercises)}** | | | | **{total_p}** | **{total_m}** | |")
    return "\n".join(rows)


def table_in_doc(doc):
    text = Path(doc).read_text(encoding="utf-8")
    if TABLE_BEGIN not in text or TABLE_END not in text:
        raise KitError(f"{doc}: no exercise table between '{TABLE_BEGIN}' and '{TABLE_END}'")
    return text, text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()


# ---- student copies ------------------------------------------------------------------------------------------------

def make_student_copy(dest, chosen, root=REPO, exercises=None):
    """Copies the project to dest with the chosen exercises' regions replaced; writes STUDENT.md and
    coursework/assigned.txt (the chosen ids). Fixtures (wrong answers) are not copied. The other exercises keep
    their solution, markers, statement and grader (so that the kit still reads the copy)."""
    root, dest = Path(root), Path(dest)
    exercises = exercises or load(root)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise KitError(f"{dest} exists and is not an empty folder")
    files = project_files(root)
    chosen_files = {f for c in chosen for f in exercises[c].files}
    for f in files:
        parts = f.split("/")
        if parts[0] == "coursework" and len(parts) > 1 and parts[1] == "fixtures":
            continue
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        if f in chosen_files:
            text = (root / f).read_text(encoding="utf-8")
            for c in chosen:
                if f in exercises[c].files:
                    text = replace_bodies(text, c, skeleton_bodies(text, c, f), f)
            target.write_text(ensure_stdexcept(text), encoding="utf-8")
            shutil.copymode(root / f, target)
        else:
            shutil.copy2(root / f, target)
    (dest / "coursework" / "assigned.txt").write_text("".join(c + "\n" for c in chosen), encoding="utf-8")
    (dest / "STUDENT.md").write_text(student_index(chosen, exercises), encoding="utf-8")


def student_index(chosen, exercises):
    rows = "\n".join(f"| [{c}](coursework/exercises/{c}.md) | {exercises[c].meta['title']} | {exercises[c].meta['lesson']} | "
                     f"{exercises[c].points} | {exercises[c].minutes} | {', '.join(exercises[c].files)} |" for c in chosen)
    total_p = sum(exercises[c].points for c in chosen)
    total_m = sum(exercises[c].minutes for c in chosen)
    return f"""# Your coursework

This is the autoencoder library with some function bodies taken out. Each one now throws
`exercise <id> is yours to write`; write it back between its markers

    // BEGIN EXERCISE <id>
    ... your code ...
    // END EXERCISE <id>

and leave the markers where they are: only the code between them is graded, against the rest of the library as
the teacher has it (your edits elsewhere are not looked at). The headers your code needs are already included.

| exercise | title | lesson | points | minutes (about) | where |
|---|---|---|---:|---:|---|
{rows}
| **total** | | | **{total_p}** | **{total_m}** | |

Each statement (follow the links) gives the slide and its formula, what the function receives and returns, hints,
and the checks that grade it with their points.

## Build, run, grade yourself

    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DAE_BUILD_BENCH=OFF
    cmake --build build -j2
    ./build/lessons/lesson04_sparse --quick          # a lesson, with your code in it
    python3 coursework/grade.py .                    # the graders, on your code: a table of points

`grade.py .` builds a private copy of this folder in build-grade/ and runs each exercise's grader there (the
grader programs are coursework/graders/<id>.cpp: read them, they are the tests your teacher runs). The teacher
grades each exercise with your regions of that exercise only, the rest of the library being the reference, so a
mistake in one exercise does not cost points in another. The Boost tests (`ctest --test-dir build`) call your
functions too: they fail until your code is right.
"""


# ---- grading -------------------------------------------------------------------------------------------------------

class Result:
    def __init__(self, exercise, points):
        self.exercise, self.points = exercise, points
        self.earned, self.checks, self.passed = 0, [], 0
        self.status = "graded"  # graded | compile_error | timeout | crashed | invalid
        self.message = ""       # the first failing check's name and reason, or what went wrong
        self.seconds = 0.0

    def as_dict(self):
        return {"exercise": self.exercise, "earned": self.earned, "points": self.points, "checks_passed": self.passed,
                "checks_total": len(self.checks), "status": self.status, "first_failure": self.message,
                "seconds": round(self.seconds, 1), "checks": self.checks}


class Grader:
    """A pristine copy of the project in workdir/src built in workdir/build, reused across submissions: for each
    exercise the student's regions go into the pristine files, the grader and the lessons it needs are rebuilt
    (incrementally), the grader runs under a time limit, and the files go back to pristine before the next one."""

    def __init__(self, workdir, root=REPO, jobs=2, log=None, timeout=120, build_timeout=1800):
        self.root, self.workdir = Path(root).resolve(), Path(workdir).resolve()
        # the build folder inside the copy, as build/ is in the project: ccache then sees the same relative paths in
        # both and the first grading build takes the project's own objects from the cache
        self.src = self.workdir / "src"
        self.build = self.src / "build"
        self.jobs, self.timeout, self.build_timeout = jobs, timeout, build_timeout
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.exercises = load(self.root)
        self.pristine = {}  # file -> text, for every file holding a region
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.workdir / ".lock", "w")  # one grading at a time in a workdir
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.log(f"waiting for another grading in {self.workdir} to finish")
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._sync()

    def release(self):
        """Lets another grading use the workdir (a grade.py that prove.py runs, say); this object is done."""
        if self._lock:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _sync(self):
        files = project_files(self.root)
        if (self.workdir / "build" / "CMakeCache.txt").exists():  # the layout before the build moved into src/
            shutil.rmtree(self.workdir / "build")
        self.src.mkdir(parents=True, exist_ok=True)
        wanted = set(files)
        for f in files:
            a, b = self.root / f, self.src / f
            data = a.read_bytes()
            if not b.exists() or b.read_bytes() != data:
                b.parent.mkdir(parents=True, exist_ok=True)
                b.write_bytes(data)
                shutil.copymode(a, b)
        for dirpath, dirnames, filenames in os.walk(self.src):  # files gone from the project (e.g. a removed grader)
            if Path(dirpath) == self.src:
                dirnames[:] = [d for d in dirnames if not _skipped_top(d)]  # the grading build and its outputs
            for fn in filenames:
                rel = str((Path(dirpath) / fn).relative_to(self.src))
                if rel not in wanted:
                    (Path(dirpath) / fn).unlink()
        for ex in self.exercises.values():
            for f in ex.files:
                self.pristine[f] = (self.root / f).read_text(encoding="utf-8")
        if not (self.build / "CMakeCache.txt").exists():
            self.log(f"configuring the grading build in {self.build}")
            r = subprocess.run(["cmake", "-S", str(self.src), "-B", str(self.build), "-DCMAKE_BUILD_TYPE=Release",
                                "-DAE_BUILD_BENCH=OFF", "-DAE_BUILD_LESSONS=ON", "-DAE_BUILD_TESTS=ON"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise KitError("cmake could not configure the grading build: " + _last_lines(r.stdout + r.stderr))

    def _write(self, f, text):
        p = self.src / f
        if p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")

    def restore(self):
        for f, text in self.pristine.items():
            self._write(f, text)

    def targets(self, ids):
        t = []
        for i in ids:
            t += [f"grade_{i}"] + [f"lesson{l}" for l in self.exercises[i].lessons]
        return list(dict.fromkeys(t))

    def make(self, targets):
        """Builds the targets; returns None or the first compiler error (file:line: error: ...)."""
        try:
            r = subprocess.run(["cmake", "--build", str(self.build), "-j", str(self.jobs), "--target", *targets],
                               capture_output=True, text=True, timeout=self.build_timeout)
        except subprocess.TimeoutExpired:
            return f"the build took longer than {self.build_timeout} s"
        if r.returncode == 0:
            return None
        return first_error(r.stdout + "\n" + r.stderr, str(self.src) + "/")

    def build_all(self, ids):
        """Builds the graders and lessons of ids with the pristine files (one configure + build, then incremental)."""
        self.restore()
        t0 = time.time()
        err = self.make(self.targets(ids))
        if err:
            raise KitError("the pristine project does not build: " + err)
        self.log(f"built the grading tree ({time.time() - t0:.0f} s)")

    def build_copy(self, student, ids):
        """Builds the graders and lessons with every region of ids taken from the student's copy at once (the
        student's whole copy compiles); returns None or the first compiler error. The files go back to pristine."""
        try:
            for f in sorted({f for i in ids for f in self.exercises[i].files}):
                text = self.pristine[f]
                for i in ids:
                    if f in self.exercises[i].files:
                        text = replace_bodies(text, i, self.student_bodies(student, self.exercises[i])[f], f)
                self._write(f, ensure_stdexcept(text))
            return self.make(self.targets(ids) + ["lesson_support"])
        finally:
            self.restore()

    def student_bodies(self, student, ex):
        """{file: [bodies]} of exercise ex in the student's copy; KitError when a file or its markers are missing."""
        out = {}
        for f in ex.files:
            p = Path(student) / f
            if not p.is_file():
                raise KitError(f"{f} is missing from the submission")
            try:
                text = p.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise KitError(f"{f} is not UTF-8 text")
            bodies = region_bodies(text, ex.id, f)
            want = ex.regions[f]
            if len(bodies) != want:
                raise KitError(f"{f} has {len(bodies)} regions of {ex.id}, expected {want}: keep the "
                               f"'// BEGIN EXERCISE {ex.id}' and '// END EXERCISE {ex.id}' lines")
            out[f] = bodies
        return out

    def grade(self, student, ids, timeout=None):
        """[Result] for the exercises ids of the student copy (a folder); one failing never stops the others."""
        timeout = timeout or self.timeout
        results = []
        for i in ids:
            ex = self.exercises[i]
            res = Result(i, ex.points)
            t0 = time.time()
            try:
                self._grade_one(student, ex, res, timeout)
            except KitError as e:
                res.status, res.message = "invalid", str(e)
            finally:
                self.restore()
            res.seconds = time.time() - t0
            self.log(f"  {i}: {res.earned}/{res.points} ({res.status}, {res.seconds:.0f} s)")
            results.append(res)
        return results

    def _grade_one(self, student, ex, res, timeout):
        try:
            bodies = self.student_bodies(student, ex)
        except KitError as e:
            res.status, res.message = "invalid", str(e)
            return
        for f, b in bodies.items():
            text = self.pristine[f]
            if region_bodies(text, ex.id, f) != b:
                self._write(f, ensure_stdexcept(replace_bodies(text, ex.id, b, f)))
        err = self.make(self.targets([ex.id]))
        if err:
            res.status, res.message = "compile_error", "does not compile: " + err
            return
        self._run(ex, res, timeout)

    def _run(self, ex, res, timeout):
        lessons = Path(tempfile.mkdtemp(prefix="ae_lessons_"))
        try:
            for l in ex.lessons:  # only the lessons just built with this submission
                exe = self.build / "lessons" / f"lesson{l}"
                if exe.exists():
                    (lessons / f"lesson{l}").symlink_to(exe)
            env = dict(os.environ, AE_LESSONS_DIR=str(lessons), AE_NUM_THREADS="1")
            if (self.root / "data").is_dir() and not env.get("AE_DATA_DIR"):
                env["AE_DATA_DIR"] = str(self.root / "data")
            exe = self.build / "coursework" / f"grade_{ex.id}"
            if not exe.is_file():
                raise KitError(f"the build made no grader {exe}")
            with tempfile.TemporaryFile(mode="w+") as out:
                p = subprocess.Popen([str(exe)], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(lessons),
                                     start_new_session=True)
                try:
                    rc = p.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, 9)  # the grader and any lesson it started
                    p.wait()
                    rc = None
                out.seek(0)
                text = out.read()
        finally:
            shutil.rmtree(lessons, ignore_errors=True)
        score = parse_output(text, res)
        if rc is None:
            res.status = "timeout"
            last = res.checks[-1]["name"] if res.checks else None
            res.message = (f"stopped after {timeout} s (a hang?)" + (f", in the check after '{last}'" if last else
                                                                     ", in its first check"))
        elif rc != 0 or score is None:
            res.status = "crashed"
            why = f"signal {-rc}" if rc < 0 else f"exit status {rc}"
            res.message = f"the grader stopped ({why}) after {len(res.checks)} checks: " + _last_lines(text, 1)
        elif score[1] != ex.points:
            res.status = "invalid"
            res.message = f"the grader's points add up to {score[1]}, the statement says {ex.points}"


def parse_output(text, res):
    """Reads CHECK and SCORE lines into res; returns (earned, total) of the SCORE line or None."""
    score = None
    for line in text.splitlines():
        m = re.match(r"^CHECK (\d+)/(\d+) (.*?) :: (.*)$", line)
        if m:
            e, p, name, why = int(m[1]), int(m[2]), m[3], m[4]
            res.checks.append({"name": name, "earned": e, "points": p, "message": why})
            res.earned += e
            if why == "ok" and e == p:
                res.passed += 1
            elif not res.message:
                res.message = f"{name}: {why}"
        m = re.match(r"^SCORE (\S+) (\d+)/(\d+)$", line)
        if m:
            score = (int(m[2]), int(m[3]))
    return score


def first_error(log, strip_prefix=""):
    for line in log.splitlines():
        if re.search(r"\berror\b", line) and ":" in line and not line.startswith(("make", "gmake", "ninja")):
            return line.replace(strip_prefix, "").strip()
    return _last_lines(log.replace(strip_prefix, ""), 1)


def _last_lines(text, n=3):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:]) if lines else "(no output)"


def format_table(results, width=140):
    head = f"{'exercise':<24} {'points':>8} {'checks':>7}  first failing check"
    rows = [head, "-" * len(head)]
    for r in results:
        msg = r.message or "-"
        first = next((c for c in r.checks if c["message"] != "ok"), None)
        if first and r.status == "graded" and len(msg) > width:  # shorten the check's name, keep the reason
            name = first["name"] if len(first["name"]) <= 40 else first["name"][:37] + "..."
            msg = f"{name}: {first['message']}"
        if len(msg) > width:
            msg = msg[:width - 3] + "..."
        rows.append(f"{r.exercise:<24} {f'{r.earned}/{r.points}':>8} {f'{r.passed}/{len(r.checks)}':>7}  {msg}")
    te, tp = sum(r.earned for r in results), sum(r.points for r in results)
    rows.append(f"{'total':<24} {f'{te}/{tp}':>8}")
    return "\n".join(rows)


CSV_FIELDS = ["student", "exercise", "earned", "points", "checks_passed", "checks_total", "status", "first_failure"]


def default_workdir(root=REPO):
    return Path(os.environ.get("AE_GRADE_DIR") or (Path(root) / "build-grade"))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="kit.py", description="The exercise table of docs/TEACHING.md, from the statements.")
    ap.add_argument("command", choices=["table", "list"])
    ap.add_argument("--check", action="store_true", help="fail if docs/TEACHING.md's table differs")
    ap.add_argument("--write", action="store_true", help="rewrite docs/TEACHING.md's table")
    a = ap.parse_args(argv)
    try:
        exercises = load(REPO, strict=a.check, quiet=a.command == "list")
        if a.command == "list":
            for e in sorted(exercises):
                print(e, exercises[e].points, exercises[e].minutes, ",".join(exercises[e].files))
            for p in load.problems:
                print(f"left out: {p}")
            return 0
        t = table(exercises)
        doc = REPO / "docs" / "TEACHING.md"
        if a.check or a.write:
            text, current = table_in_doc(doc)
            if a.write:
                before, rest = text.split(TABLE_BEGIN, 1)
                doc.write_text(before + TABLE_BEGIN + "\n" + t + "\n" + TABLE_END + rest.split(TABLE_END, 1)[1], encoding="utf-8")
                print(f"wrote the table of {len(exercises)} exercises into {doc}")
            elif current != t:
                print(f"docs/TEACHING.md: the exercise table differs from the statements' front matter; run "
                      f"python3 coursework/kit.py table --write\n--- expected:\n{t}\n--- found:\n{current}", file=sys.stderr)
                return 1
            else:
                print(f"docs/TEACHING.md: the table matches the {len(exercises)} statements")
        else:
            print(t)
        return 0
    except KitError as e:
        print(f"kit.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
