"""Real PostgreSQL, Redis, IMAP (dovecot) and SMTP (aiosmtpd) servers for tests and benchmarks,
started in a temporary directory on a free port.

PostgreSQL refuses to run as root, so when the tests run as root (CI) the server runs as the
`postgres` system user that the Debian package creates. Dovecot runs unprivileged the same way:
as root it runs as the package's `dovecot` user, otherwise as whoever runs the tests.
"""

from __future__ import annotations

import glob
import grp
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found; run `make system-packages`")
    return Path(candidates[-1])


@dataclass
class PostgresServer:
    directory: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://lenddesk@127.0.0.1:{self.port}/lenddesk"

    def _run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        command = list(args)
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, check=True, capture_output=True)

    def start(self) -> PostgresServer:
        pg = _pg_bin()
        data = self.directory / "data"
        self._run(
            str(pg / "initdb"),
            "-D",
            str(data),
            "-U",
            "lenddesk",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = f"-p {self.port} -k {self.directory} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(
            str(pg / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )
        self._run(str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "lenddesk", "lenddesk")
        return self

    def create_database(self, name: str) -> str:
        self._run(
            str(_pg_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "lenddesk", name
        )
        return f"postgresql+psycopg://lenddesk@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(
            (["runuser", "-u", self.run_as, "--"] if self.run_as else [])
            + [str(_pg_bin() / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres() -> PostgresServer:
    run_as = None
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-pg-"))
    if os.geteuid() == 0:
        run_as = "postgres"
        entry = pwd.getpwnam(run_as)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    return PostgresServer(directory, free_port(), run_as).start()


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_redis() -> RedisServer:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return RedisServer(process, port)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


# --- TLS, IMAP and SMTP ---------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost and its key (PEM); clients trust it as their CA."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path | None) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start on port {port}: {detail}")


_DOVECOT_CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = lenddesk-test-{port}
log_path = {dir}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class ImapServer:
    """Dovecot serving one mailbox user (password login, STARTTLS offered, plain allowed)."""

    process: subprocess.Popen[bytes]
    directory: Path
    port: int
    username: str
    password: str
    ca_file: Path

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message into the mailbox (as a mail client's APPEND would); makes the folder."""
        from imapclient import IMAPClient

        with IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10) as client:
            client.login(self.username, self.password)
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)

    def unseen(self, folder: str = "INBOX") -> list[int]:
        from imapclient import IMAPClient

        with IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10) as client:
            client.login(self.username, self.password)
            client.select_folder(folder, readonly=True)
            return list(client.search(["UNSEEN"]))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_dovecot(username: str = "desk@example.com", password: str = "mailbox-secret") -> ImapServer:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        raise RuntimeError("dovecot not found; run `make system-packages` (dovecot-imapd)")
    entry = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(entry.pw_gid).gr_name
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-imap-"))
    for name in ("run", "state", "home"):
        (directory / name).mkdir()
    port = free_port()
    self_signed_certificate(directory)
    (directory / "passwd").write_text(f"{username}:{{PLAIN}}{password}::::::\n")
    (directory / "dovecot.conf").write_text(
        _DOVECOT_CONFIG.format(
            dir=directory, port=port, user=entry.pw_name, group=group, uid=entry.pw_uid, gid=entry.pw_gid
        )
    )
    if os.geteuid() == 0:
        directory.chmod(0o755)
        for path in (directory, *directory.rglob("*")):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    drop = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []} if os.geteuid() == 0 else {}
    process = subprocess.Popen(
        [binary, "-F", "-c", str(directory / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **drop,  # type: ignore[arg-type]
    )
    _wait_for_port(port, process, "dovecot", directory / "dovecot.log")
    return ImapServer(process, directory, port, username, password, directory / "cert.pem")


@dataclass
class SmtpServer:
    """aiosmtpd on a free port, keeping what it receives. `security`: starttls, ssl or none;
    with credentials set, AUTH is required (over plain text too for `none`)."""

    controller: Any
    port: int
    security: str
    username: str
    password: str
    ca_file: Path
    received: list[Any]
    directory: Path

    def messages(self) -> list[Any]:
        """The received messages, parsed (email.message.EmailMessage)."""
        import email
        import email.policy

        return [email.message_from_bytes(item.content, policy=email.policy.default) for item in self.received]

    def stop(self) -> None:
        self.controller.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_smtp(
    security: str = "starttls", username: str = "desk@example.com", password: str = "smtp-secret"
) -> SmtpServer:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation chatter
    directory = Path(tempfile.mkdtemp(prefix="lenddesk-smtp-"))
    cert, key = self_signed_certificate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received: list[Any] = []

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 Message accepted"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        valid = isinstance(data, LoginPassword) and (data.login, data.password) == (
            username.encode(),
            password.encode(),
        )
        return AuthResult(success=valid, handled=False)

    port = free_port()
    options: dict[str, Any] = {"authenticator": authenticate, "auth_required": bool(username)}
    if security == "starttls":
        options.update(tls_context=context, require_starttls=True)
    elif security == "ssl":  # TLS from the first byte: aiosmtpd does not see it, so allow AUTH
        options.update(ssl_context=context, auth_require_tls=False)
    else:  # a relay on a trusted network: AUTH in plain text, as configured
        options.update(auth_require_tls=False)
    if security != "starttls":
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    controller = Controller(Keep(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    return SmtpServer(controller, port, security, username, password, cert, received, directory)
