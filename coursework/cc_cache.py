#!/usr/bin/python3
"""The grading build's compiler launcher (CMAKE_CXX_COMPILER_LAUNCHER): a small object cache for the files that
hold exercise regions. Grading puts a student's region into a file and then the pristine text back, again and
again; each version compiles once, after that its object file comes from the cache. The key is the compiler's
command line and the preprocessed source (what ccache calls the preprocessor mode), so a header change is seen.
Other files are compiled as usual. Cache: $AE_CC_CACHE, else .ae_cc_cache/ in the build folder.

    cc_cache.py <compiler> <arguments...>
"""
import hashlib
import os
import shutil
import subprocess
import sys


def main(argv):
    args = argv[1:]
    if "-c" not in args or "-o" not in args:
        os.execvp(args[0], args)
    src = args[args.index("-c") + 1]
    try:
        with open(src, encoding="utf-8", errors="replace") as f:
            if "EXERCISE" not in f.read():
                os.execvp(args[0], args)
    except OSError:
        os.execvp(args[0], args)
    obj = args[args.index("-o") + 1]
    dep = args[args.index("-MF") + 1] if "-MF" in args else None
    pre, skip = [], 0
    for i, a in enumerate(args):  # the same command, preprocessing only, to stdout, no depfile
        if skip:
            skip -= 1
            continue
        if a in ("-o", "-MT", "-MF", "-MQ"):
            skip = 1
            continue
        if a in ("-MD", "-MMD", "-c"):
            continue
        pre.append(a)
    r = subprocess.run(pre + ["-E", src], capture_output=True)
    if r.returncode != 0:  # let the real compile report it
        os.execvp(args[0], args)
    key = hashlib.sha256(("\0".join(pre)).encode() + b"\0" + r.stdout).hexdigest()
    cache = os.environ.get("AE_CC_CACHE") or os.path.join(os.getcwd().split("/CMakeFiles")[0], ".ae_cc_cache")
    entry = os.path.join(cache, key[:2], key)
    if os.path.exists(entry + ".o"):
        shutil.copyfile(entry + ".o", obj)
        if dep and os.path.exists(entry + ".d"):
            shutil.copyfile(entry + ".d", dep)
        return 0
    rc = subprocess.run(args).returncode
    if rc == 0:
        os.makedirs(os.path.dirname(entry), exist_ok=True)
        tmp = f"{entry}.{os.getpid()}"
        shutil.copyfile(obj, tmp + ".o")
        if dep and os.path.exists(dep):
            shutil.copyfile(dep, tmp + ".d")
            os.replace(tmp + ".d", entry + ".d")
        os.replace(tmp + ".o", entry + ".o")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
