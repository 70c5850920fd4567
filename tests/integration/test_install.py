"""
What `cmake --install` lays out (issue 17), checked in a throwaway DESTDIR:
the programs, /etc/pacer with a private tokens file, the example config
accepted by the installed pacerd, man pages clean under `mandoc -Tlint`,
and the systemd unit clean under `systemd-analyze verify`.

mandoc and systemd-analyze are Debian packages (mandoc, systemd); a test
that needs one that is missing, or that cannot run here, skips and says why.
"""

import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from pacertest import BUILD_DIR, SOURCE_DIR, main

MAN_PAGES = ("pacerd.8", "pacer.1", "pacer.conf.5")


def run(*args, **kw):
    return subprocess.run(list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120,
                          **kw)


def cache_value(name):
    """A value of the build's CMakeCache.txt."""
    with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    raise AssertionError("%s not in CMakeCache.txt" % name)


class TestInstall(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="pacer-install-")
        env = dict(os.environ, DESTDIR=cls.dest)
        p = run("cmake", "--install", BUILD_DIR, env=env)
        if p.returncode != 0:
            shutil.rmtree(cls.dest, ignore_errors=True)
            raise AssertionError("cmake --install failed:\n" + p.stdout)
        cls.prefix = cls.dest + cache_value("CMAKE_INSTALL_PREFIX")
        etc = "/etc" if cache_value("CMAKE_INSTALL_PREFIX") == "/usr" \
            else cache_value("CMAKE_INSTALL_PREFIX") + "/etc"
        cls.etc = cls.dest + etc + "/pacer"
        cls.unit = cls.dest + cache_value("PACER_SYSTEMD_UNIT_DIR") + \
            "/pacerd.service"

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def test_layout(self):
        for rel in ("bin/pacerd", "bin/pacer"):
            path = os.path.join(self.prefix, rel)
            self.assertTrue(os.access(path, os.X_OK), path)
        for f in ("pacer.conf", "offers.csv", "tokens"):
            self.assertTrue(os.path.isfile(os.path.join(self.etc, f)), f)
        mode = stat.S_IMODE(os.stat(os.path.join(self.etc, "tokens")).st_mode)
        self.assertEqual(mode, 0o640, "tokens mode %o" % mode)
        for page in MAN_PAGES:
            sec = page.rsplit(".", 1)[1]
            self.assertTrue(os.path.isfile(os.path.join(
                self.prefix, "share/man/man" + sec, page)), page)
        for f in ("pacer.conf", "offers.csv", "tokens"):
            self.assertTrue(os.path.isfile(os.path.join(
                self.prefix, "share/pacer/examples", f)), f)
        for f in ("LICENSE", "CHANGELOG.md", "README.md"):
            self.assertTrue(os.path.isfile(os.path.join(
                self.prefix, "share/doc/pacer", f)), f)
        self.assertTrue(os.path.isfile(self.unit), self.unit)

    def test_installed_config_checks(self):
        """The installed pacerd accepts the installed config, from any cwd."""
        p = run(os.path.join(self.prefix, "bin/pacerd"), "-t", "-c",
                os.path.join(self.etc, "pacer.conf"), cwd="/")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("configuration OK", p.stdout)
        with open(os.path.join(self.etc, "pacer.conf")) as f:
            conf = f.read()
        self.assertRegex(conf, r"\nscores = /var/lib/pacer/scores\.csv")
        self.assertRegex(conf, r"\nout_dir = /var/lib/pacer/reports")

    def test_missing_file_names_the_line(self):
        """A file the config points at is looked for next to the config."""
        d = tempfile.mkdtemp(prefix="pacer-conf-")
        try:
            shutil.copy(os.path.join(self.etc, "pacer.conf"), d)
            p = run(os.path.join(self.prefix, "bin/pacerd"), "-t", "-c",
                    os.path.join(d, "pacer.conf"), cwd=self.etc)
            self.assertEqual(p.returncode, 1, p.stdout)
            with open(os.path.join(d, "pacer.conf")) as f:
                line = [i for i, l in enumerate(f, 1)
                        if l.startswith("offers =")][0]
            self.assertIn("pacer.conf:%d: offers: cannot open %s/offers.csv"
                          % (line, os.path.realpath(d)), p.stdout)
        finally:
            shutil.rmtree(d)

    def test_man_pages_lint(self):
        if shutil.which("mandoc") is None:
            self.skipTest("mandoc is not installed (Debian package mandoc)")
        man = os.path.join(SOURCE_DIR, "conf", "man")
        for page in MAN_PAGES:
            # Run beside the pages, so cross references resolve; the
            # system's mandoc.db state is not the pages' business.
            p = run("mandoc", "-Tlint", "-Wstyle", page, cwd=man)
            lines = [l for l in p.stdout.splitlines() if "mandoc.db" not in l]
            self.assertEqual(lines, [], page)

    def test_systemd_unit_verify(self):
        tool = shutil.which("systemd-analyze")
        if tool is None:
            self.skipTest("systemd-analyze is not installed (package systemd)")
        with open(self.unit) as f:
            unit = f.read()
        for key in ("ProtectSystem=strict", "NoNewPrivileges=yes",
                    "StateDirectory=pacer", "ProtectHome=yes",
                    "PrivateTmp=yes", "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertIn("\n" + key + "\n", unit)
        self.assertRegex(unit, r"\nType=(notify|simple)\n")
        if cache_value("SYSTEMD_FOUND") == "1":
            self.assertIn("\nType=notify\n", unit)
        # verify wants the binaries the unit names where it names them: point
        # it at the DESTDIR copies (nothing else of the unit changes).
        bindir = cache_value("CMAKE_INSTALL_PREFIX") + "/bin/"
        d = tempfile.mkdtemp(prefix="pacer-unit-")
        try:
            path = os.path.join(d, "pacerd.service")
            with open(path, "w") as f:
                f.write(unit.replace("=" + bindir, "=" + self.prefix + "/bin/"))
            p = run(tool, "verify", "--man=no", path)
            if p.returncode != 0 and "pacerd.service" not in p.stdout:
                self.skipTest("systemd-analyze cannot run here: " +
                              p.stdout.strip()[:300])
            self.assertEqual(p.returncode, 0, p.stdout)
            # Unknown keys and bad values are only warnings: none allowed.
            self.assertEqual(p.stdout.strip(), "", p.stdout)
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    main()
