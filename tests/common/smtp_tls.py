"""A TLS SMTP server for tests (aiosmtpd): STARTTLS (required before MAIL
and AUTH) or implicit TLS, with AUTH PLAIN and LOGIN checked against one
user and password. Prints one JSON line per event on stdout:
{"event": "ready", "port": N} once listening, then {"event": "message",
...} per message received, with whether it came over TLS and who logged in.

usage: smtp_tls.py starttls|tls CERT_FILE KEY_FILE USER PASSWORD
"""
import asyncio
import json
import logging
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd warns that implicit TLS is not STARTTLS; the test knows.
warnings.simplefilter("ignore")
logging.getLogger("mail.log").setLevel(logging.ERROR)

mode, cert_file, key_file, user, password = sys.argv[1:6]
if mode not in ("starttls", "tls"):
    sys.exit(f"unknown mode {mode!r}")
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert_file, key_file)


def emit(**event):
    print(json.dumps(event), flush=True)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    over_tls = server.transport.get_extra_info("ssl_object") is not None
    emit(event="auth", mechanism=mechanism, ok=ok, tls=over_tls)
    return AuthResult(
        success=ok, auth_data={"mechanism": mechanism, "user": user} if ok else None
    )


class Handler:
    async def handle_DATA(self, server, session, envelope):
        emit(
            event="message",
            mail_from=envelope.mail_from,
            rcpt_tos=envelope.rcpt_tos,
            data=envelope.content.decode("utf-8", "replace"),
            tls=server.transport.get_extra_info("ssl_object") is not None,
            auth=session.auth_data if session.authenticated else None,
        )
        return "250 2.0.0 queued"


def factory():
    return SMTP(
        Handler(),
        hostname="smtp.test",
        authenticator=authenticator,
        auth_required=True,
        # Implicit TLS is encrypted from the first byte; aiosmtpd only
        # counts STARTTLS as encryption, so it is told for that mode.
        auth_require_tls=(mode == "starttls"),
        require_starttls=(mode == "starttls"),
        tls_context=context if mode == "starttls" else None,
    )


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory, "127.0.0.1", 0, ssl=context if mode == "tls" else None
    )
    emit(event="ready", port=server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


asyncio.run(main())
