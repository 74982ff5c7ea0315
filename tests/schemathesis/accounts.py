"""Makes one account per role on a running Talk Zone server, writes each one's access token,
and makes a few real things for the fuzzer to aim at.

    python3 accounts.py BASE_URL ADMIN_USERNAME OUT_DIR   (the admin's password on stdin)

The admin (a yot_admin made with `talkzone admin create-user`) creates a duty_worker, a
supervisor, a moderator and another yot_admin over `POST /v1/admin/users`; each signs in with
`POST /v1/auth/login`; the young person is anonymous (`POST /v1/auth/anonymous`). Tokens go to
OUT_DIR/token.<role>.

Then: the young person's queued chat, another young person's chat accepted by the duty worker
with an escalation on it, a room and a rota shift. Their ids go to OUT_DIR/schemathesis.toml,
which makes schemathesis use a real id for the `{id}` of the matching routes about half the
time (random ids only ever find 404). Standard library only.
"""

import base64
import hashlib
import hmac
import json
import secrets
import struct
import sys
import time
import urllib.error
import urllib.request

STAFF = ["duty_worker", "supervisor", "moderator", "yot_admin"]


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raise SystemExit(f"accounts.py: {method} {path} answered {e.code}: {e.read()[:300]!r}")


def totp(secret_b32, at=None):
    """RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int((at or time.time()) // 30)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def login(base, username, password):
    """Signs in; staff answer the second step (each account here is new, so it is the
    enrolment: the key comes with the challenge)."""
    _, body = call(base, "POST", "/v1/auth/login", {"username": username, "password": password})
    step = body.get("second_factor")
    if step is None:
        return body["access_token"]
    if step.get("kind") != "enrol":
        raise SystemExit(f"accounts.py: {username} already has a second factor this script does not hold")
    code = totp(step["enrolment"]["secret"])
    _, body = call(base, "POST", "/v1/auth/login/second-factor", {"challenge": step["challenge"], "code": code})
    return body["access_token"]


def main():
    base, admin_username, out_dir = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    admin_password = sys.stdin.readline().rstrip("\n")
    admin = login(base, admin_username, admin_password)
    tokens = {}
    for role in STAFF:
        username = "st-" + role.replace("_", "-")
        password = secrets.token_urlsafe(24)
        status, _ = call(
            base,
            "POST",
            "/v1/admin/users",
            {"username": username, "password": password, "role": role, "display_name": f"Schemathesis {role}"},
            admin,
        )
        assert status == 201, (role, status)
        tokens[role] = login(base, username, password)
    status, body = call(base, "POST", "/v1/auth/anonymous", {})
    assert status == 201, status
    tokens["young_person"] = body["access_token"]
    yp_id = body["user"]["id"]
    for role, token in tokens.items():
        with open(f"{out_dir}/token.{role}", "w") as f:
            f.write(token)

    # Real targets.
    _, queued = call(base, "POST", "/v1/conversations", {"first_message": "hello, is anyone there?"}, tokens["young_person"])
    _, other = call(base, "POST", "/v1/auth/anonymous", {})
    _, assigned = call(base, "POST", "/v1/conversations", {"first_message": "can I talk to someone"}, other["access_token"])
    call(base, "POST", f"/v1/conversations/{assigned['id']}/accept", None, tokens["duty_worker"])
    _, esc = call(
        base, "POST", f"/v1/conversations/{assigned['id']}/escalations",
        {"severity": "medium", "reason": "schemathesis target"}, tokens["duty_worker"],
    )
    _, room = call(
        base, "POST", "/v1/rooms",
        {"topic": "schemathesis room", "age_band": "13-15", "moderation": "post"}, admin,
    )
    _, me = call(base, "GET", "/v1/me", None, tokens["duty_worker"])
    _, shift = call(
        base, "POST", "/v1/rota/shifts",
        {"user_id": me["id"], "starts_at": "2030-01-01T09:00:00Z", "ends_at": "2030-01-01T17:00:00Z"}, admin,
    )
    targets = {
        # dictionary name, the routes whose {id} it fills, its ids
        "conversations": (r"^/v1/conversations/\{id\}", [queued["id"], assigned["id"], room["id"]]),
        "escalations": (r"^/v1/escalations/\{id\}", [esc["id"]]),
        "rooms": (r"^/v1/rooms/\{id\}", [room["id"]]),
        "shifts": (r"^/v1/rota/shifts/\{id\}", [shift["id"]]),
        "staff": (r"^/v1/admin/users/\{id\}", [me["id"]]),
        "users": (r"^/v1/moderation/users/\{id\}", [yp_id, other["user"]["id"]]),
    }
    lines = ["# Made by accounts.py for one run: real ids for the {id} of these routes, half the time.", ""]
    for name, (_, ids) in targets.items():
        lines += [f"[dictionaries.{name}]", "values = [" + ", ".join(json.dumps(i) for i in ids) + "]", ""]
    for name, (regex, _) in targets.items():
        lines += [
            "[[operations]]",
            f"include-path-regex = '{regex}'",
            f'parameters = {{ "path.id" = {{ dictionary = "{name}", probability = 0.5 }} }}',
            "",
        ]
    with open(f"{out_dir}/schemathesis.toml", "w") as f:
        f.write("\n".join(lines))
    print("accounts: " + ", ".join(sorted(tokens)) + "; targets: " + ", ".join(targets))


if __name__ == "__main__":
    main()
