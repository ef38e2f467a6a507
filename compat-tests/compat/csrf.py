"""CSRF tokens, sent as a browser page sends them (CONTRACT.md §4 "Headers, CSRF, limits").

chat.js sends `X-CSRFToken` with every POST, taken from `<meta name="csrf-token">`, and the login
form carries a hidden `csrf_token` field. weigence-chat requires neither (it checks the Origin);
the original v1 requires both (Flask-WTF's CSRFProtect: its chat routes' `@csrf.exempt` never
took effect). So the suite always sends one, obtained in one of two ways:

- **minted** with the secret key, as Flask-WTF's `generate_csrf` does: a random raw token stored
  in the session under `csrf_token`, sent signed by `URLSafeTimedSerializer(SECRET_KEY,
  salt="wtf-csrf-token")`. The session cookie the suite mints carries the raw token.
- **read from a page**, as a browser does: GET the page with the user's cookie, take the token
  from the meta tag (or the form's hidden field), and keep the session cookie the page set (the
  original stores the raw token in the session when it renders the page).
"""

import hashlib
import os
import re

from itsdangerous import URLSafeTimedSerializer

SESSION_KEY = "csrf_token"
HEADER = "X-CSRFToken"
SALT = "wtf-csrf-token"

_META = re.compile(r'<meta\s+name=["\']csrf-token["\']\s+content=["\']([^"\']*)["\']', re.I)
_FIELD = re.compile(r'<input[^>]*\bname=["\']csrf_token["\'][^>]*\bvalue=["\']([^"\']*)["\']', re.I)


def new_raw():
    """A raw session token like Flask-WTF's: 40 hex digits."""
    return hashlib.sha1(os.urandom(64)).hexdigest()


def sign(secret_key, raw):
    """The token a page of the Flask app would carry for a session holding `raw`."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(raw)


def token_in(html):
    """The CSRF token of a page: its meta tag, else the login form's hidden field; None if none."""
    found = _META.search(html) or _FIELD.search(html)
    return found.group(1) if found else None


def from_page(http, path, cookie, cookie_name):
    """GETs `path` with `cookie` (a `Cookie` header value or None) as a browser would; returns
    (the cookie to use from now on, the page's token or None, the response)."""
    r = http.get(path, cookie=cookie)
    value = http.set_cookie_value(r, cookie_name)
    if value:
        cookie = f"{cookie_name}={value}"
    return cookie, token_in(r.text), r
