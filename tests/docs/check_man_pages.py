#!/usr/bin/env python3
"""Check that each program given answers --help and has a man page that matches it.

For every PROG: `PROG --help` exits 0 and prints a usage line on stdout; docs/PROG.1
exists; groff renders it as man(1) does (tbl, -man, -ww, -Tutf8) without a warning; every
long option --help lists appears in the man page; and every long option the man page's
OPTIONS section describes (in a .TP tag) appears in --help. A program whose --help lists
commands ('COMMAND --help' tells more) is checked with their --help too. Prints every problem, then exits 1 if there was one.

    check_man_pages.py --docs DOCS_DIR PROG_PATH...
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

LONG_OPT = re.compile(r"--[a-z][a-z0-9-]*")
USAGE = re.compile(r"^\s*usage:", re.IGNORECASE | re.MULTILINE)


def long_opts(text):
    return {m.rstrip("-") for m in LONG_OPT.findall(text)}


def subcommands(help_text):
    """Commands a program with subcommands lists ('Commands:' then '  NAME  what it does'),
    when its --help says 'COMMAND --help' tells more: their --help is part of its own."""
    if "COMMAND --help" not in help_text:
        return []
    m = re.search(r"^Commands:\n((?:[ \t]+\S.*\n)+)", help_text, re.MULTILINE)
    return re.findall(r"^\s+([a-z][a-z-]*)\s", m.group(1), re.MULTILINE) if m else []


def run_help(argv):
    return subprocess.run(argv + ["--help"], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=20)


def man_plain(source):
    """The man page source with troff escapes that split an option name taken out."""
    text = source.replace("\\-", "-")
    text = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", text)  # font changes
    text = re.sub(r"\\[&%:]", "", text)  # zero-width breaks and non-breaks
    return text


def options_section_tags(source):
    """Long options in the .TP tags of the OPTIONS section(s) of a man page."""
    tags, in_opts, tag_next = set(), False, False
    for line in source.splitlines():
        if line.startswith(".SH"):
            in_opts = "OPTIONS" in line.upper()
            continue
        if not in_opts:
            continue
        if line.startswith(".TP"):
            tag_next = True
            continue
        if tag_next:
            tags |= long_opts(man_plain(line))
            tag_next = False
    return tags


def check(prog, docs):
    name = os.path.basename(prog)
    problems = []
    try:
        r = run_help([prog])
        helps = [r.stdout]
        for cmd in subcommands(r.stdout):
            c = run_help([prog, cmd])
            if c.returncode != 0:
                problems.append(f"{name}: '{cmd} --help' exited {c.returncode}, not 0")
            helps.append(c.stdout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return [f"{name}: '{prog} --help' did not run: {e}"]
    help_text = "\n".join(helps)
    if r.returncode != 0:
        problems.append(f"{name}: '--help' exited {r.returncode}, not 0 (stderr: "
                        f"{r.stderr.strip()[:200]!r}): handle -h/--help in its option parsing")
    if not USAGE.search(r.stdout):
        problems.append(f"{name}: '--help' printed no 'usage:' line on stdout "
                        f"(got {r.stdout[:120]!r})")
    page = os.path.join(docs, name + ".1")
    if not os.path.isfile(page):
        problems.append(f"{name}: no man page {page}: write one in troff -man, like "
                        f"docs/offrx-send.1")
        return problems
    # As man(1) renders it on an 80-column terminal: tables through tbl, every warning on.
    g = subprocess.run(["groff", "-t", "-man", "-ww", "-Tutf8", "-z", page],
                       capture_output=True, text=True, env=dict(os.environ, LC_ALL="C.UTF-8"))
    if g.returncode != 0 or g.stderr.strip():
        problems.append(f"{name}: 'groff -t -man -ww -Tutf8 -z {page}' warns "
                        f"(exit {g.returncode}):\n    "
                        + "\n    ".join(g.stderr.strip().splitlines()[:20]))
    with open(page, encoding="utf-8") as f:
        source = f.read()
    plain = man_plain(source)
    for opt in sorted(long_opts(help_text)):
        if not re.search(re.escape(opt) + r"(?![a-z0-9-])", plain):
            problems.append(f"{name}: --help lists {opt}, which {page} does not mention")
    help_opts = long_opts(help_text)
    for opt in sorted(options_section_tags(source) - help_opts):
        problems.append(f"{name}: {page} describes {opt} under OPTIONS, which --help does "
                        f"not list")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", required=True, help="the directory of the man pages")
    ap.add_argument("programs", nargs="+", help="paths of the built programs")
    a = ap.parse_args()
    if not shutil.which("groff"):
        print("check_man_pages: groff is not installed: install the Debian package "
              "groff-base (scripts/install-deps does)", file=sys.stderr)
        return 1
    problems = []
    for prog in a.programs:
        p = check(prog, a.docs)
        print(f"{os.path.basename(prog)}: {'ok' if not p else f'{len(p)} problem(s)'}")
        problems += p
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"all {len(a.programs)} programs have --help and a matching man page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
