"""results.py - bench/RESULTS.md is made of sections, one per benchmark
script; each script replaces only its own section (between markers)."""
import os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
HEADER = """# lore benchmark results

Each section is written by the script it names, which runs lore and, where
the section says so, the peers in the same invocation.  Machine: the
project's Debian 12 machine (2 vCPU, shared: figures are medians and the
ratios matter more than the absolute numbers).
"""


def write_section(name, body):
    begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    text = open(PATH).read() if os.path.exists(PATH) else HEADER
    block = "%s\n## %s\n\n%s\n%s" % (begin, name, body.rstrip(), end)
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(PATH, "w") as f:
        f.write(text)
