"""Mint and verify Flask session cookies with the real Flask, for the compatibility tests.

    python flask_cookie.py mint SECRET '{"usuario_id": "1-9"}' [UNIX_TIME]  -> prints a cookie
                                           (the JSON may use Flask's tags: {" t": [..]} is a tuple)
    python flask_cookie.py verify SECRET COOKIE [MAX_AGE_SECONDS]          -> prints the session JSON
                                                                                 (exit 1 if refused)
"""
import json
import sys
import time
from datetime import timedelta
from unittest import mock

from flask import Flask
from flask.sessions import SecureCookieSessionInterface, session_json_serializer
from itsdangerous import BadSignature


def serializer(secret, max_age=None):
    app = Flask("weigence-compat")
    app.secret_key = secret
    if max_age is not None:
        app.permanent_session_lifetime = timedelta(seconds=int(max_age))
    return app, SecureCookieSessionInterface().get_signing_serializer(app)


def main(argv):
    command, secret = argv[1], argv[2]
    if command == "mint":
        # Input in Flask's tagged JSON, so tests can mint tuples ({" t": [...]}), bytes, etc.
        data = session_json_serializer.loads(argv[3])
        now = float(argv[4]) if len(argv) > 4 else time.time()
        _, s = serializer(secret)
        with mock.patch("time.time", return_value=now):
            print(s.dumps(data))
        return 0
    if command == "verify":
        max_age = argv[4] if len(argv) > 4 else 30 * 24 * 3600
        app, s = serializer(secret, max_age)
        try:
            data = s.loads(argv[3], max_age=int(max_age))
        except BadSignature as e:
            print(f"refused: {type(e).__name__}", file=sys.stderr)
            return 1
        # Flask's tagged JSON decodes tuples, bytes, etc.; print what a Flask view would see.
        print(json.dumps(dict(data), sort_keys=True, default=repr))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
