"""The pieces the fault tests share: `tessera serve` processes that can be
killed, a Postgres cluster of our own that can be stopped, disk faults for
SQLite files, and a writer load that records what the server acknowledged."""

from __future__ import annotations

import base64
import glob
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

# Every instance of a test shares these, as the instances of one install do.
KEK = base64.b64encode(bytes(range(32))).decode()
ADMIN_KEY = "tsk_" + "FAULTSfaults" * 3 + "1234567"
PASSWORD = "correct horse battery staple 42"

# A bound no healthy answer comes near, far below what a request stuck on a
# locked database or a dead connection pool used to take (15-30 s).
FAST = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_root() -> bool:
    return os.geteuid() == 0


def binary() -> str:
    b = os.environ.get("TESSERA_BIN")
    if not b:
        pytest.fail("TESSERA_BIN must point at the tessera binary (scripts/test-all.sh sets it)")
    return b


def auth(token: str) -> dict:
    return {"authorization": f"Bearer {token}"}


def error_code(r: httpx.Response) -> str | None:
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def assert_storage_error(r: httpx.Response) -> None:
    """A 503 with the error envelope, code `storage_error`."""
    assert r.status_code == 503, f"{r.status_code} {r.text}"
    assert error_code(r) == "storage_error", r.text


def _ignore_sigxfsz() -> None:
    # So a lowered file-size limit makes writes fail instead of killing the
    # server (see FileSizeLimit). An ignored signal stays ignored across exec.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class Tessera:
    """A `tessera serve` process on `database_url`; its log goes to `workdir`."""

    def __init__(self, workdir: Path, database_url: str, name: str = "tessera",
                 smtp_port: int | None = None, env: dict | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "TESSERA_DATABASE_URL": database_url,
            "TESSERA_LISTEN": f"127.0.0.1:{self.port}",
            "TESSERA_BASE_URL": self.base,
            "TESSERA_KEY_ENCRYPTION_KEY": KEK,
            "TESSERA_ADMIN_API_KEY": ADMIN_KEY,
            "TESSERA_RATE_LIMITS": "off",
            "TESSERA_DEV": "1",
            "TESSERA_MAIL_FROM": "Tessera <auth@example.test>",
            "NO_COLOR": "1",
        }
        if smtp_port is not None:
            self.env["TESSERA_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}?tls=none"
        self.env.update(env or {})
        self.log_path = workdir / f"{name}-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        self._log_thread: threading.Thread | None = None
        self.http = httpx.Client(base_url=self.base, timeout=FAST, follow_redirects=False)

    # -- process -------------------------------------------------------------

    def start(self) -> "Tessera":
        # The log is copied through a pipe, so faults injected into the
        # server's files never touch it.
        self.proc = subprocess.Popen([binary(), "serve"], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_ignore_sigxfsz)
        proc = self.proc

        def copy() -> None:
            with open(self.log_path, "ab") as log:
                for line in proc.stdout:
                    log.write(line)
                    log.flush()

        self._log_thread = threading.Thread(target=copy, daemon=True)
        self._log_thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {proc.returncode}; see {self.log_path}")
            try:
                if self.http.get("/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not become healthy; see {self.log_path}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def cli(self, *args: str) -> str:
        """Run another `tessera` command with this instance's settings."""
        r = subprocess.run([binary(), *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout

    # -- API ---------------------------------------------------------------

    def sign_up(self, email: str) -> httpx.Response:
        return self.http.post("/v1/sign-up", json={"email": email, "password": PASSWORD})

    def sign_in(self, email: str) -> httpx.Response:
        return self.http.post("/v1/sign-in/password", json={"email": email, "password": PASSWORD})

    def refresh(self, token: str) -> httpx.Response:
        return self.http.post("/v1/token/refresh", json={"refresh_token": token})

    def session(self, access_token: str) -> httpx.Response:
        return self.http.get("/v1/session", headers=auth(access_token))

    def emails(self) -> set[str]:
        """Every user's email, through the admin API."""
        found, cursor = set(), ""
        while True:
            r = self.http.get("/v1/admin/users", params={"limit": 1000, "cursor": cursor},
                              headers=auth(ADMIN_KEY))
            assert r.status_code == 200, r.text
            page = r.json()
            found |= {u["email"] for u in page["users"]}
            cursor = page.get("next_cursor")
            if not cursor:
                return found


def kid_of(jwt: str) -> str:
    header = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def wait_until(what: str, predicate, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(every)


# -- what a server acknowledged ----------------------------------------------

@dataclass
class Acked:
    """Everything a server answered with success, to find again later."""
    sign_ups: dict[str, str] = field(default_factory=dict)    # email -> access token
    sessions: list[str] = field(default_factory=list)         # access tokens of sign-ins
    chains: dict[str, str] = field(default_factory=dict)      # chain -> newest refresh token
    refreshed: list[str] = field(default_factory=list)        # access tokens from refreshes
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, key: str, body: dict) -> None:
        with self.lock:
            if kind == "sign-up":
                self.sign_ups[key] = body["access_token"]
            elif kind == "sign-in":
                self.sessions.append(body["access_token"])
                self.chains.setdefault(key, body["refresh_token"])
            elif kind == "refresh":
                self.chains[key] = body["refresh_token"]
                self.refreshed.append(body["access_token"])

    def verify(self, server: Tessera) -> None:
        """Everything acknowledged is there: each refresh chain's newest token
        refreshes (checked first, well inside the 10 s grace window in case
        an unacknowledged rotation of it committed), each session answers, each
        account exists."""
        for chain, token in self.chains.items():
            r = server.refresh(token)
            assert r.status_code == 200, f"chain {chain}: acknowledged refresh token refused: {r.text}"
        for token in self.sessions + self.refreshed + list(self.sign_ups.values()):
            r = server.session(token)
            assert r.status_code == 200, f"acknowledged session lost: {r.text}"
        missing = set(self.sign_ups) - server.emails()
        assert not missing, f"acknowledged sign-ups lost: {sorted(missing)}"


class Load:
    """Threads running `_run(i)` against a server until stopped; `errors`
    collects what they found wrong, and `join` fails on any."""

    def __init__(self, threads: int) -> None:
        self.stop_flag = threading.Event()
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, i: int) -> None:
        raise NotImplementedError

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def join(self) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=60)
        assert not self.errors, self.errors[:5]


class Writers(Load):
    """Threads writing through `server` (sign-ups, sign-ins and, unless told
    not to, refreshes of their own accounts) until stopped or the server
    dies; `acked` holds every success. Anything else but a 503 storage error
    is a failure."""

    def __init__(self, server: Tessera, tag: str, threads: int = 4, refreshes: bool = True) -> None:
        super().__init__(threads)
        self.server, self.tag, self.acked = server, tag, Acked()
        self.refreshes = refreshes
        self.seeds = [f"{tag}-seed{i}@example.com" for i in range(threads)]
        for email in self.seeds:
            r = server.sign_up(email)
            assert r.status_code == 201, r.text
            self.acked.record("sign-up", email, r.json())

    def _run(self, i: int) -> None:
        http = httpx.Client(base_url=self.server.base, timeout=30)
        seed, chain, n = self.seeds[i], f"t{i}", 0
        token = None
        while not self.stop_flag.is_set():
            n += 1
            op = n % 6  # argon2 makes sign-ins and sign-ups slow: mostly refreshes
            try:
                if op == 0 or (token is None and self.refreshes):
                    kind, key = "sign-in", chain
                    r = http.post("/v1/sign-in/password", json={"email": seed, "password": PASSWORD})
                elif op == 1 or not self.refreshes:
                    kind, key = "sign-up", f"{self.tag}-t{i}-{n}@example.com"
                    r = http.post("/v1/sign-up", json={"email": key, "password": PASSWORD})
                else:
                    kind, key = "refresh", chain
                    r = http.post("/v1/token/refresh", json={"refresh_token": token})
            except httpx.TransportError:
                return  # the server is gone: this request's outcome is unknown
            if r.is_success:
                self.acked.record(kind, key, r.json())
                if kind == "refresh" or (kind == "sign-in" and token is None):
                    token = r.json()["refresh_token"]
            elif not (r.status_code == 503 and error_code(r) == "storage_error"):
                self.errors.append(f"{kind}: {r.status_code} {r.text}")


def integrity_check(db: Path) -> None:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()


# -- Postgres of our own ------------------------------------------------------

def _pg_bin() -> Path:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if Path(d, "initdb").exists():
            return Path(d)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    pytest.fail("no PostgreSQL server binaries (initdb, pg_ctl): install postgresql")


class Postgres:
    """A throwaway cluster in a temporary directory that tests stop and start
    (as the `postgres` user when run as root: initdb refuses root)."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="tessera-faults-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        self.user = None
        if is_root():
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root, but there is no `postgres` user to run the cluster as")
            self.user = "postgres"
            os.chmod(self.base, 0o755)
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")

    def _run(self, tool: str, *args: str) -> None:
        r = subprocess.run([str(self.bin / tool), *args], user=self.user, capture_output=True,
                           text=True, timeout=120, cwd=self.base)
        assert r.returncode == 0, f"{tool}: {r.stdout}{r.stderr}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.base} -c max_connections=200",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, schema: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres?schema={schema}"

    def close(self) -> None:
        try:
            self.stop("immediate")
        except AssertionError:
            pass
        shutil.rmtree(self.base, ignore_errors=True)


# -- disk faults for a SQLite file ---------------------------------------------

def truncate_wal(db: Path) -> None:
    """Checkpoint the WAL into the database and cut it to zero bytes, so the
    next commit has to grow it (and so meets the fault at once)."""
    con = sqlite3.connect(db, timeout=10)
    try:
        wait_until("WAL truncated",
                   lambda: con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0, 10)
    finally:
        con.close()


def age_sessions(db: Path, seconds: int = 120) -> None:
    """Move every session's last activity back (SQLite stores microseconds),
    so the once-a-minute activity write is due at the next check."""
    con = sqlite3.connect(db, timeout=10)
    try:
        con.execute("UPDATE sessions SET last_seen_at = last_seen_at - ?", (seconds * 1_000_000,))
        con.commit()
    finally:
        con.close()


class FileSizeLimit:
    """No root: lower the server's file-size limit (RLIMIT_FSIZE) to 0, so
    every write(2) to a file fails (EFBIG; SIGXFSZ is ignored), as on a disk
    that takes nothing more; raising it again is the disk coming back."""

    method = "file-size limit 0 (prlimit; no root needed)"

    def __init__(self, server: Tessera, db: Path) -> None:
        self.server = server

    def inject(self) -> None:
        hard = resource.prlimit(self.server.proc.pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(self.server.proc.pid, resource.RLIMIT_FSIZE, (0, hard))

    def heal(self) -> None:
        hard = resource.prlimit(self.server.proc.pid, resource.RLIMIT_FSIZE)[1]
        resource.prlimit(self.server.proc.pid, resource.RLIMIT_FSIZE, (hard, hard))


class FullDisk:
    """Root: the database lives on a small tmpfs; fill it up with a file."""

    method = "tmpfs filled up (ENOSPC)"

    def __init__(self, server: Tessera, db: Path) -> None:
        self.filler = db.parent / "filler"

    def inject(self) -> None:
        with open(self.filler, "wb", buffering=0) as f:
            for size in (1 << 20, 4096, 1):
                try:
                    while True:
                        f.write(b"\0" * size)
                except OSError:
                    pass
        assert os.statvfs(self.filler).f_bavail == 0

    def heal(self) -> None:
        self.filler.unlink()


class ImmutableFiles:
    """Root: `chattr +i` on the database and its WAL (writes fail with EPERM)."""

    method = "chattr +i on the database and its WAL"

    def __init__(self, server: Tessera, db: Path) -> None:
        self.files = [str(db), f"{db}-wal"]

    @staticmethod
    def works_in(directory: Path) -> bool:
        probe = directory / "chattr-probe"
        probe.write_bytes(b"x")
        try:
            ok = subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode == 0
            if ok:
                subprocess.run(["chattr", "-i", str(probe)], check=True)
            return ok
        except FileNotFoundError:
            return False
        finally:
            probe.unlink()

    def inject(self) -> None:
        subprocess.run(["chattr", "+i", *self.files], check=True)

    def heal(self) -> None:
        subprocess.run(["chattr", "-i", *self.files], check=True)


class Tmpfs:
    """A small tmpfs mounted for one test (root only)."""

    def __init__(self, where: Path, size: str = "16m") -> None:
        self.where = where
        where.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)

    def close(self) -> None:
        if subprocess.run(["umount", str(self.where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(self.where)], check=False)


def say(message: str) -> None:
    """Tell the person reading the test output (shown in pytest's summary)."""
    warnings.warn(message, stacklevel=2)
