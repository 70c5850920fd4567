"""
--help and --version of every program and subcommand (SPEC section 1).

The options a command really takes are read from its source (the
`struct option` tables of daemon/pacerd.c and of the file that defines each
subcommand named in solver/cmd/pacer.c), so a new option without a line of
help, or without a line in the man page, fails here. Each --help must exit 0
and name every option; --version must print "NAME X.Y.Z (git COMMIT)".
"""

import os
import re
import subprocess
import unittest

from pacertest import SOURCE_DIR, main, pacer_path, pacerd_path

LONGOPT = re.compile(r'\{\s*"([a-z][a-z0-9-]*)",\s*(?:no|required|optional)_argument')
SKIP = {"help", "version"}       # answered by the front end, not listed


def read(path):
    with open(path) as f:
        return f.read()


def long_options(path):
    """The long options of every struct option table in a C file."""
    return sorted(set(LONGOPT.findall(read(path))) - SKIP)


def subcommands():
    """[(name, source file)] from pacer.c's table of commands."""
    cmd_dir = os.path.join(SOURCE_DIR, "solver", "cmd")
    table = read(os.path.join(cmd_dir, "pacer.c"))
    out = []
    for name, func in re.findall(r'\{\s*"([a-z-]+)",\s*(cmd_[a-z_]+),', table):
        for f in sorted(os.listdir(cmd_dir)):
            if f.endswith(".c") and re.search(
                    r"^%s\(" % func, read(os.path.join(cmd_dir, f)), re.M):
                out.append((name, os.path.join(cmd_dir, f)))
                break
        else:
            raise AssertionError("no file defines %s" % func)
    return out


def run(*args):
    return subprocess.run(list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30)


class TestHelp(unittest.TestCase):
    VERSION = re.compile(r"^(pacerd?) (\d+\.\d+\.\d+) \(git [^ )]+\)$")

    def project_version(self):
        m = re.search(r"project\(pacer VERSION (\d+\.\d+\.\d+)",
                      read(os.path.join(SOURCE_DIR, "CMakeLists.txt")))
        self.assertIsNotNone(m, "CMakeLists.txt: project(pacer VERSION x.y.z)")
        return m.group(1)

    def assertVersion(self, p, name):
        self.assertEqual(p.returncode, 0, p.stderr)
        m = self.VERSION.match(p.stdout.strip())
        self.assertIsNotNone(m, "version line: %r" % p.stdout)
        self.assertEqual(m.group(1), name)
        self.assertEqual(m.group(2), self.project_version())

    def assertHelps(self, p, options, what):
        self.assertEqual(p.returncode, 0, "%s: %s" % (what, p.stderr))
        self.assertIn("usage:", p.stdout, what)
        for o in options:
            self.assertRegex(p.stdout, r"--%s\b" % re.escape(o),
                             "%s: --%s is not explained" % (what, o))

    def test_versions(self):
        self.assertVersion(run(pacerd_path(), "--version"), "pacerd")
        self.assertVersion(run(pacerd_path(), "-V"), "pacerd")
        self.assertVersion(run(pacer_path(), "--version"), "pacer")
        for name, _ in subcommands():
            self.assertVersion(run(pacer_path(), name, "--version"), "pacer")

    def test_pacerd_help(self):
        opts = long_options(os.path.join(SOURCE_DIR, "daemon", "pacerd.c"))
        self.assertIn("config", opts)
        for flag in ("--help", "-h"):
            self.assertHelps(run(pacerd_path(), flag), opts, "pacerd " + flag)
        p = run(pacerd_path(), "--no-such-option")
        self.assertEqual(p.returncode, 1)
        self.assertIn("usage:", p.stderr)

    def test_pacer_help(self):
        p = run(pacer_path(), "--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        cmds = subcommands()
        self.assertGreaterEqual(len(cmds), 6)
        for name, _ in cmds:
            self.assertIn("pacer %s" % name, p.stdout)

    def test_subcommand_help(self):
        man = read(os.path.join(SOURCE_DIR, "conf", "man", "pacer.1"))
        for name, src in subcommands():
            opts = long_options(src)
            argv = [[name, "--help"], [name, "-h"]]
            if name == "plan":
                argv += [["plan", "publish", "--help"], ["plan", "show", "-h"]]
            for a in argv:
                self.assertHelps(run(pacer_path(), *a), opts,
                                 "pacer " + " ".join(a))
            self.assertIn(".Cm %s" % name.split()[0], man,
                          "pacer(1) lacks the %s command" % name)
            for o in opts:
                self.assertIn("Fl -%s" % o, man,
                              "pacer(1) lacks %s --%s" % (name, o))

    def test_pacerd_man_options(self):
        man = read(os.path.join(SOURCE_DIR, "conf", "man", "pacerd.8"))
        for o in long_options(os.path.join(SOURCE_DIR, "daemon", "pacerd.c")):
            self.assertIn("Fl -%s" % o, man, "pacerd(8) lacks --%s" % o)


if __name__ == "__main__":
    main()
