#!/usr/bin/python3
"""repl_pty.py - the REPL as a person uses it: keys typed into a
pseudo-terminal, the screen read back.  Completion, Ctrl-C, history,
=expr, help(topic), -v and -l.  Usage: repl_pty.py LORE_BINARY"""
import os
import pty
import re
import select
import signal
import sys
import tempfile
import time

LORE = sys.argv[1]
TIMEOUT = 20  # seconds to wait for any expected output (sanitizer builds are slow)
fails = 0


class Session:
    """lore running on a pseudo-terminal, with what it printed so far."""

    def __init__(self, args, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(LORE, [LORE] + args, env)
        self.out = b""

    def read(self, timeout=0.0):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the program ended
            return None
        if not data:
            return None
        self.out += data
        return True

    def expect(self, pattern, timeout=TIMEOUT):
        """Waits until the output since `mark` matches pattern (bytes regex)."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.out[self.mark:])
            if m:
                self.mark += m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or self.read(left) is None:
                raise AssertionError("timed out waiting for %r; screen so far:\n%s"
                                     % (pattern, self.out[self.mark:].decode(errors="replace")))

    def send(self, keys):
        self.mark = len(self.out)
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def alive(self):
        pid, _ = os.waitpid(self.pid, os.WNOHANG)
        return pid == 0

    def close(self):
        try:
            self.send("\x03")  # Ctrl-C: an empty line, where Ctrl-D leaves
            self.expect(PROMPT)
            os.write(self.fd, b"\x04")  # Ctrl-D
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline and self.read(0.2) is not None:
                pass
        except (OSError, AssertionError):
            pass
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return status


def check(name, fn):
    global fails
    t = time.monotonic()
    try:
        fn()
        print("ok   %s (%.1f s)" % (name, time.monotonic() - t))
    except AssertionError as e:
        fails += 1
        print("FAIL %s: %s" % (name, e))


tmp = tempfile.mkdtemp(prefix="lore-pty-")
HIST = os.path.join(tmp, "history")
ENV = dict(os.environ, LORE_HISTORY=HIST, LORE_HISTSIZE="5", TERM="xterm", HOME=tmp)
PROMPT = rb"lore> "


def start(args=(), env=ENV):
    s = Session(list(args), env)
    s.mark = 0
    s.expect(PROMPT)
    return s


def history_lines():
    """The history file's entries, decoded from libedit's vis(3) form."""
    try:
        with open(HIST, "rb") as f:
            lines = f.read().decode().splitlines()
    except FileNotFoundError:
        return []
    lines = [l for l in lines if l != "_HiStOrY_V2_"]
    return [re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), l) for l in lines]


def completion():
    """Each completion is checked by running the line it made: libedit
    redraws only what changed, so the screen holds pieces of words."""
    s = start()
    try:
        s.send('=kb:ma\t(nil, "type", "Country")\r')  # a kb method
        s.expect(rb"\(12 facts\)")
        s.expect(PROMPT)
        s.send('=kb:count("ukr\t", "type")\r')  # a term: ukraine, and longer ones
        s.expect(rb"\r\n1\r\n")
        s.expect(PROMPT)
        s.send('=kb:count("ukraine_s\t, "type")\r')  # one term: its string is closed
        s.expect(rb"\r\n1\r\n")
        s.expect(PROMPT)
        s.send('=lore.te\t("x", "fr")\r')  # a field
        s.expect(rb'"x"@fr')
        s.expect(PROMPT)
        s.send('=kb:count("press:s1\t\t')  # a prefixed name: the choices are listed
        s.expect(rb"press:s10")
        s.expect(rb"press:s13")
        s.send('1")\r')
        s.expect(rb"\r\n\d+\r\n")
        s.expect(PROMPT)
        # in a query: a predicate, a variable named before, a keyword
        s.send('=kb:q "?commitment benef\tukraine . ?comm\ttype Commitment . opt\t{ ?c amount ?a }"\r')
        s.expect(rb"\(5 rows\)")
        s.expect(PROMPT)
        with open(os.path.join(tmp, "facts.json"), "w") as f:
            f.write('{"lore": 1, "facts": [["a", "p", "b"]]}')
        s.send('=kb:load("%s/fac\t")\r' % tmp)  # a file name, in kb:load
        s.expect(rb"\r\n1\r\n")
        s.expect(PROMPT)
        s.send("r = kb:q '?x type Country'\r")
        s.expect(PROMPT)
        s.send("=r:cou\t()\r")  # a result's method
        s.expect(rb"\r\n12\r\n")
        s.expect(PROMPT)
    finally:
        s.close()


def ctrl_c():
    s = start()
    try:
        s.send("\x03")
        s.expect(rb"Ctrl-D")
        s.expect(PROMPT)
        assert s.alive(), "lore died at Ctrl-C on an empty line"
        s.send("x = 'half typed")
        s.expect(rb"half typed")
        s.send("\x03")
        s.expect(rb"Ctrl-D")
        s.expect(PROMPT)
        s.send("x\r")
        s.expect(rb"nil")  # the half-typed line did not run
        s.expect(PROMPT)
        s.send("for i = 1, 2 do\r")
        s.expect(rb"\.\.\. ")
        s.send("\x03")
        s.expect(PROMPT)
        s.send("1 + 2\r")
        s.expect(rb"3")
        s.expect(PROMPT)
        assert s.alive(), "lore died at Ctrl-C"
        assert "1 + 2" in history_lines(), "history lost: %r" % history_lines()
        long_query = os.path.join(os.path.dirname(os.path.abspath(__file__)), "long_query.lua")
        s.send('dofile("%s")\r' % long_query)  # Ctrl-C during a command stops it
        s.expect(rb"ready")
        s.send("\x03")  # in the query, or just before it: the hook stops it there
        s.expect(rb"lore: interrupted")
        s.expect(PROMPT)
        s.send("1 + 3\r")
        s.expect(rb"4")
        s.expect(PROMPT)
    finally:
        s.close()


def history():
    if os.path.exists(HIST):
        os.remove(HIST)
    s = start()
    try:
        for i in range(1, 8):
            s.send("n%d = %d\r" % (i, i))
            s.expect(PROMPT)
            h = history_lines()
            assert h and h[-1] == "n%d = %d" % (i, i), "after line %d the file holds %r" % (i, h)
            assert len(h) <= 5, "more than LORE_HISTSIZE=5 lines: %r" % h
        assert h == ["n%d = %d" % (i, i) for i in range(3, 8)], h
    finally:
        s.close()
    a, b = start(), start()  # two sessions side by side: neither loses a line
    try:
        for who, line in ((a, "a1 = 1"), (b, "b1 = 1"), (a, "a2 = 2")):
            who.send(line + "\r")
            who.expect(PROMPT)
        assert history_lines()[-3:] == ["a1 = 1", "b1 = 1", "a2 = 2"], history_lines()
    finally:
        a.close()
        b.close()
    s = start()  # a new session sees the old ones' lines
    try:
        s.send("\x1b[A")  # up arrow
        s.expect(rb"a2 = 2")
    finally:
        s.close()


def equals_expr():
    s = start()
    try:
        s.send("=1+1\r")
        s.expect(rb"\r\n2\r\n")
    finally:
        s.close()


def help_topic():
    s = start()
    try:
        s.send("help(kb.why)\r")
        m = s.expect(PROMPT)
        page = s.out[s.mark - m.end():].decode()
        s.mark = len(s.out)
        assert "kb:why(" in page, page
        assert "kb:match(" not in page, "help(kb.why) printed more than why:\n" + page
        s.send('help("remove_r\t)\r')  # a topic completes
        s.expect(rb"kb:remove_rule\(name\) --")
        s.expect(PROMPT)
        s.send('help("mach")\r')
        s.expect(rb"match")
    finally:
        s.close()


def version_and_l():
    s = start(["-v", "-i"])
    try:
        assert re.search(rb"lore \d+\.\d+\.\d+", s.out), s.out
    finally:
        s.close()
    s = start(["-l", "string", "-i"])
    try:
        s.send("string.upper('ok')\r")
        s.expect(rb"OK")
    finally:
        s.close()


def progress_and_finding():
    """At a terminal kb:load and kb:infer show their progress (here from the
    first moment: LORE_PROGRESS_AFTER=0), cleared when done; search,
    describe and the hints answer as typed."""
    nt = os.path.join(tmp, "many.nt")
    with open(nt, "w") as f:
        for i in range(20000):
            f.write("<urn:x:n%d> <urn:x:p> <urn:x:n%d> .\n" % (i, i + 1))
    s = start(env=dict(ENV, LORE_PROGRESS_AFTER="0"))
    try:
        s.send('=kb:load("%s")\r' % nt)
        s.expect(rb"many\.nt \[")  # the bar, with the file's name
        s.expect(rb"20000")
        s.expect(PROMPT)
        s.send('for i = 1, 600 do kb:add("m" .. i, "q", "m" .. (i + 1)) end\r')
        s.expect(PROMPT)
        s.send('kb:rule "?a r ?c :- ?a q ?b, ?b r ?c, filter ?a != ?b"\r')
        s.expect(PROMPT)
        s.send('kb:rule "?a r ?b :- ?a q ?b"\r')
        s.expect(PROMPT)
        s.send("=kb:infer{max = 300000}.rounds > 1\r")
        s.expect(rb"infer: round \d+, \d+ facts derived")
        s.expect(rb"true")
        s.expect(PROMPT)
        s.send('kb:search("corée")[1].entity\r')
        s.expect(rb"north_korea")
        s.expect(PROMPT)
        s.send('describe("the_hague")\r')
        s.expect(rb"located_in: netherlands \(Netherlands\) \[press:s13\]")
        s.expect(PROMPT)
        s.send('kb:q "?x benefeciary ukraine"\r')
        s.expect(rb"did you mean 'beneficiary'\?")
        s.expect(PROMPT)
        assert s.alive(), "lore died"
    finally:
        s.close()


check("complete", completion)
check("ctrl-c", ctrl_c)
check("history", history)
check("equals-expr", equals_expr)
check("help-topic", help_topic)
check("version-and-l", version_and_l)
check("progress-and-finding", progress_and_finding)
print("all passed" if fails == 0 else "%d failed" % fails)
sys.exit(1 if fails else 0)
