"""
The .deb (issue 17): `cpack -G DEB` builds it, `dpkg -i` installs it into
this machine, the installed `pacerd -t -c /etc/pacer/pacer.conf` accepts its
config, and `dpkg --purge` removes it again, whatever failed in between.

It changes the machine, so it runs only as root on a dpkg system (CI runs
as root on Debian 12) and skips otherwise; ctest label `package`
(`ctest -LE package` leaves it out). It never touches a pacer package that
was installed before it started. The package is built in its own build
folder, BUILD/package-deb (prefix /usr, so the config lands in /etc/pacer),
kept between runs so a rerun only rebuilds what changed.
"""

import glob
import grp
import os
import pwd
import shutil
import stat
import subprocess
import unittest

from pacertest import BUILD_DIR, SOURCE_DIR, main

PKG_DIR = os.path.join(BUILD_DIR, "package-deb")
RUNTIME_LIBS = ("libevent-2.1-7", "libhiredis0.14", "libglpk40",
                "libjansson4", "libinih1", "libhttp-parser2.9", "tzdata")


def run(*args, **kw):
    kw.setdefault("timeout", 600)
    return subprocess.run(list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, **kw)


def installed(pkg):
    p = run("dpkg-query", "-W", "-f=${Status}", pkg)
    return p.returncode == 0 and "installed" in p.stdout and \
        "not-installed" not in p.stdout


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class TestPackage(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("installs a .deb into this machine: root only")
        for tool in ("dpkg", "dpkg-deb", "cpack", "cmake"):
            if shutil.which(tool) is None:
                self.skipTest("%s is not installed" % tool)
        with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
            if "PACER_SANITIZE:BOOL=ON" in f.read():
                self.skipTest("sanitizer build: the plain build's pass "
                              "packages what ships")
        if installed("pacer"):
            self.skipTest("a pacer package is installed already; "
                          "not touching it")

    def build_deb(self):
        """Configure (once), build pacerd and pacer, cpack; the .deb path."""
        if not os.path.exists(os.path.join(PKG_DIR, "CMakeCache.txt")):
            p = run("cmake", "-S", SOURCE_DIR, "-B", PKG_DIR,
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    "-DCMAKE_INSTALL_PREFIX=/usr",
                    "-DPACER_SYSTEMD_UNIT_DIR=/lib/systemd/system",
                    "-DPACER_SYSUSERS_DIR=/usr/lib/sysusers.d",
                    "-DPACER_BENCH=OFF",
                    # cpack's install step builds only what it installs
                    "-DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON")
            self.assertEqual(p.returncode, 0, p.stdout)
        p = run("cmake", "--build", PKG_DIR, "-j", str(os.cpu_count() or 1),
                "--target", "pacerd", "pacer")
        self.assertEqual(p.returncode, 0, p.stdout)
        for old in glob.glob(os.path.join(PKG_DIR, "pacer_*.deb")):
            os.unlink(old)
        p = run("cpack", "-G", "DEB", cwd=PKG_DIR)
        self.assertEqual(p.returncode, 0, p.stdout)
        debs = glob.glob(os.path.join(PKG_DIR, "pacer_*.deb"))
        self.assertEqual(len(debs), 1, p.stdout)
        return debs[0]

    def check_control(self, deb):
        field = lambda f: run("dpkg-deb", "-f", deb, f).stdout.strip()
        self.assertEqual(field("Package"), "pacer")
        self.assertRegex(field("Version"), r"^\d+\.\d+\.\d+$")
        depends = [d.split()[0] for d in field("Depends").split(",")]
        for lib in RUNTIME_LIBS:
            self.assertIn(lib, depends, field("Depends"))
        self.assertIn("redis-server", field("Recommends"))
        d = run("dpkg-deb", "-I", deb, "conffiles")
        self.assertEqual(sorted(d.stdout.split()),
                         ["/etc/pacer/offers.csv", "/etc/pacer/pacer.conf",
                          "/etc/pacer/tokens"])

    def remove(self, created_user):
        """Purge the package (and the user it created); never raises."""
        if installed("pacer") or os.path.exists("/var/lib/dpkg/info/pacer.list"):
            p = run("dpkg", "--purge", "pacer")
            if p.returncode != 0:
                print("dpkg --purge pacer failed:\n" + p.stdout)
        if created_user and user_exists("pacer"):
            run("userdel", "pacer")

    def test_deb_installs_checks_and_removes(self):
        deb = self.build_deb()
        self.check_control(deb)
        created_user = not user_exists("pacer")
        try:
            p = run("dpkg", "-i", deb)
            self.assertEqual(p.returncode, 0, p.stdout)
            self.assertTrue(installed("pacer"))

            p = run("/usr/bin/pacerd", "-t", "-c", "/etc/pacer/pacer.conf",
                    cwd="/")
            self.assertEqual(p.returncode, 0, p.stdout)
            self.assertIn("configuration OK", p.stdout)
            p = run("/usr/bin/pacerd", "--version")
            self.assertEqual(p.returncode, 0, p.stdout)
            self.assertRegex(p.stdout, r"^pacerd \d+\.\d+\.\d+ \(git ")
            p = run("/usr/bin/pacer", "--version")
            self.assertEqual(p.returncode, 0, p.stdout)

            st = os.stat("/etc/pacer/tokens")
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
            self.assertEqual(grp.getgrgid(st.st_gid).gr_name, "pacer")
            self.assertTrue(user_exists("pacer"))
            for f in ("/lib/systemd/system/pacerd.service",
                      "/usr/share/man/man8/pacerd.8",
                      "/usr/share/man/man1/pacer.1",
                      "/usr/share/man/man5/pacer.conf.5"):
                self.assertTrue(os.path.isfile(f), f)

            tool = shutil.which("systemd-analyze")
            if tool is not None:
                p = run(tool, "verify", "--man=no",
                        "/lib/systemd/system/pacerd.service")
                if p.returncode == 0 or "pacerd.service" in p.stdout:
                    self.assertEqual((p.returncode, p.stdout.strip()),
                                     (0, ""), p.stdout)
        finally:
            self.remove(created_user)
        self.assertFalse(installed("pacer"))
        self.assertFalse(os.path.exists("/usr/bin/pacerd"))
        self.assertFalse(os.path.exists("/etc/pacer"))


if __name__ == "__main__":
    main()
