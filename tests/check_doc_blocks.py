#!/usr/bin/env python3
"""Runs the examples of a doc page and checks that it shows their real output.

usage: check_doc_blocks.py DOC.md LEADSCORE SRC WORKDIR

In DOC.md, in order:
  * a fenced block whose info string ends in a file name ("```textproto
    lint.textproto", "```text broken.textproto") is written to WORKDIR under
    that name;
  * a ```sh block is run by bash in WORKDIR (with build/leadscore replaced by
    LEADSCORE; examples/ of SRC is copied into WORKDIR first); when the next
    block is a plain ```text block, the commands' stdout must be exactly it;
  * a ```json block shows an excerpt of the output of the ```sh block before
    it: every one of its lines that is not "..." must be a line of that
    output.
Prints one line per failure and "N passed, M failed"; exits 1 on a failure.
"""
import os
import re
import shutil
import subprocess
import sys


def blocks(path):
    out, cur, info = [], None, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if cur is None:
            m = re.match(r"^```(\S*)\s*(\S*)\s*$", line)
            if m:
                cur, info = [], (m.group(1), m.group(2))
        elif line.startswith("```"):
            out.append((info[0], info[1], "".join(l + "\n" for l in cur)))
            cur = None
        else:
            cur.append(line)
    return out


def main():
    doc, leadscore, src, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    shutil.copytree(os.path.join(src, "examples"), os.path.join(work, "examples"),
                    dirs_exist_ok=True)
    passed = failed = 0
    last_stdout = None
    bs = blocks(doc)
    for i, (lang, name, text) in enumerate(bs):
        if name:
            with open(os.path.join(work, name), "w", encoding="utf-8") as f:
                f.write(text)
        elif lang == "sh":
            script = text.replace("build/leadscore", leadscore)
            r = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True,
                               text=True)
            last_stdout = r.stdout
            if i + 1 < len(bs) and bs[i + 1][0] == "text" and not bs[i + 1][1]:
                want = bs[i + 1][2]
                if r.stdout == want:
                    passed += 1
                else:
                    failed += 1
                    print("%s: the output shown after\n%s\nis not what it prints:\n%s"
                          % (doc, text, r.stdout))
        elif lang == "json" and last_stdout is not None:
            lines = set(last_stdout.splitlines())
            for line in text.splitlines():
                if line.strip() in ("...", ""):
                    continue
                if line in lines:
                    passed += 1
                else:
                    failed += 1
                    print("%s: a JSON line the tool does not print: %s" % (doc, line))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
