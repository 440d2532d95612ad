"""A real IMAP server for the bounce tests: Debian's Dovecot, started in a temporary directory.

`imap_server` (tests/nurture/mailing/conftest.py) starts one on free local ports, one mailbox
with a password, plain IMAP and IMAP over TLS with a certificate made for the test; tests put
messages in it with IMAP APPEND and read its flags back, as a mail client would.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.smtp import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "bounces@cible.test"
PASSWORD = "s3cret-imap"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{identity}
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
# No chroot: only root may, and the test's server runs as whoever runs the tests.
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
}}
"""


@dataclass
class ImapServer:
    host: str
    port: int
    tls_port: int
    cafile: str  # the certificate the TLS port presents, to trust in the client
    root: Path
    process: subprocess.Popen[bytes]

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(USER, PASSWORD)
        client.select("INBOX")
        return client

    def deliver(self, *messages: bytes) -> None:
        """Put the messages in the inbox, unseen, as the mail server would."""
        client = self.client()
        try:
            for raw in messages:
                client.append("INBOX", "", None, raw)
        finally:
            client.logout()

    def unseen(self) -> int:
        client = self.client()
        try:
            _status, found = client.search(None, "UNSEEN")
            return len(found[0].split())
        finally:
            client.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _identity(root: Path) -> tuple[str, int, int]:
    """The mailbox's owner, and the users Dovecot's own processes run as. As root, Dovecot
    drops to its package's users and refuses to keep mail as root: `nobody` owns the mail.
    Otherwise everything runs as the current user."""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(root / "home", nobody.pw_uid, nobody.pw_gid)
        return "", nobody.pw_uid, nobody.pw_gid
    me, group = pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name
    identity = (
        f"default_internal_user = {me}\ndefault_login_user = {me}\ndefault_internal_group = {group}"
    )
    return identity, os.geteuid(), os.getegid()


def _certificate(root: Path) -> None:
    """A self-signed certificate for 127.0.0.1, which the client trusts through the CA file."""
    request = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1"
    names = ["-addext", "subjectAltName=IP:127.0.0.1"]
    files = ["-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")]
    subprocess.run(request.split() + names + files, check=True, capture_output=True)


def start_imap_server(root: Path) -> ImapServer:
    (root / "run").mkdir(parents=True)
    (root / "home").mkdir()
    root.chmod(0o755)  # Dovecot's login processes, another user, enter its run directory
    _certificate(root)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    identity, uid, gid = _identity(root)
    port, tls_port = free_port(), free_port()
    (root / "dovecot.conf").write_text(
        CONFIG.format(root=root, identity=identity, uid=uid, gid=gid, port=port, tls_port=tls_port)
    )
    # In the foreground (-F): ours to stop, and its output does not hold a pipe open.
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = ImapServer("127.0.0.1", port, tls_port, str(root / "cert.pem"), root, process)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((server.host, port), timeout=1).close()
            return server
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"Dovecot did not start:\n{log}") from None
            time.sleep(0.05)
