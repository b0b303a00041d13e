#!/usr/bin/env python3
"""Runs the scim2-tester compliance checks, unmodified, against a running dirgate.

    python3 tests/scim_compliance.py [BASE_URL [TOKEN]] [--cacert FILE]

BASE_URL (e.g. https://localhost:8443/scim/v2) and TOKEN (a bearer token from
`dirgate token issue USER`) come from the arguments, or else from the
environment variables SCIM_URL and SCIM_TOKEN; the token is best passed through
the environment, so that it does not show in the process list. Without
--cacert (or SCIM_CACERT) the server certificate is not verified.

The tester runs as its users run it: `scim2_tester.check_server` on a client,
with no value of its replaced and no comparison of its changed. It invents
its values at random from the published schemas, so two of its inventions
sometimes break a rule of the product manuals, which dirgate keeps; a check
that fails for exactly such a reason is reported as EXPLAINED, with the rule.
Every other failure fails the run.

Prints every check's result and the counts, and exits 1 if any check failed
without such an explanation, 2 on a usage error.
"""

import argparse
import os
import ssl
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient

import scim2_tester
from scim2_tester import Status

# The statuses that mean the server broke the specification: a MUST (ERROR),
# a security or protocol fault (CRITICAL), or a SHOULD (DEVIATION).
FAILING = {Status.ERROR, Status.CRITICAL, Status.DEVIATION}

# The rules a random value of the tester's may break, each with what dirgate
# answers (400, in RFC 7644's words). The reason of a failed check must
# contain one of these, and nothing else may have failed.
EXPLAINED = [
    (
        "the password does not meet the policy",
        "The user-roles manual: passwords must include an upper-case, a"
        " lower-case and a numeric character. The tester invents a UUID as the"
        " password (no upper-case letter); RFC 7643 section 4.1.1 lets the"
        " service provider refuse a password that breaks its policy.",
    ),
    (
        "a business entity cannot sit inside the group",
        "The organisation tree: business entities (an MSP's customers) sit at"
        " the top or under other business entities, never inside a group. The"
        " tester picks the kind of each group and of its parent at random.",
    ),
    (
        "kind cannot be changed once set",
        "A group's kind is immutable (RFC 7643 section 7: set at creation,"
        " then only its current value may be sent; RFC 7644 section 3.5.2"
        " answers anything else 400 mutability). The tester restores immutable"
        " attributes of the core schema before a PUT, not those of an"
        " extension, and invents a new kind for a PATCH of the extension.",
    ),
] + [
    (
        f"invalid {field}:",
        "POSIX values for Linux hosts (RFC 2307): uidNumber and gidNumber are"
        " whole numbers, homeDirectory and loginShell absolute paths, each"
        " line of sshPublicKeys an OpenSSH public key. The tester invents"
        " random text for each; RFC 7644 section 3.12 answers a value the"
        " attribute cannot hold 400 invalidValue.",
    )
    for field in (
        "UID Number",
        "GID Number",
        "Home Directory",
        "Login Shell",
        "SSH Public Keys",
    )
]


def explanation(reason: str):
    for text, why in EXPLAINED:
        if text in reason:
            return why
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("SCIM_URL"))
    parser.add_argument("token", nargs="?", default=os.environ.get("SCIM_TOKEN"))
    parser.add_argument("--cacert", default=os.environ.get("SCIM_CACERT"))
    args = parser.parse_args()
    if not args.url or not args.token:
        parser.print_usage(sys.stderr)
        print("a base URL and a token are needed (SCIM_URL, SCIM_TOKEN)", file=sys.stderr)
        return 2

    if args.cacert:
        verify = ssl.create_default_context(cafile=args.cacert)
    else:
        verify = False
    http = Client(
        base_url=args.url.rstrip("/"),
        headers={"Authorization": f"Bearer {args.token}"},
        verify=verify,
        timeout=30,
    )
    client = SyncSCIMClient(http)
    results = scim2_tester.check_server(client)

    print(f"scim2-tester {getattr(scim2_tester, '__version__', '')} against {args.url}")
    failed = explained = passed = 0
    for result in results:
        where = f" [{result.resource_type}]" if result.resource_type else ""
        reason = str(result.reason or "")
        status = result.status.name
        why = None
        if result.status in FAILING:
            why = explanation(reason)
            if why:
                explained += 1
                status = "EXPLAINED"
            else:
                failed += 1
        elif result.status == Status.SUCCESS:
            passed += 1
        print(f"{status:<10} {result.title}{where}")
        if result.status in FAILING:
            if reason:
                print(f"    reason: {reason}")
            if why:
                print(f"    why: {why}")
            elif result.data is not None:
                print(f"    data: {result.data!r}")
    print(f"{len(results)} checks: {passed} passed, {explained} explained, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
