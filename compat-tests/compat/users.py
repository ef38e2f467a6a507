"""Where the test users come from (a database the suite writes to, or a JSON file of existing
users) and how they sign in (a cookie minted with SECRET_KEY, or the login form)."""

import json
import secrets
from dataclasses import dataclass

from . import csrf
from .cookies import login_session


@dataclass(frozen=True)
class User:
    rut: str
    nombre: str
    correo: str | None = None
    rol: str | None = None
    login: str | None = None
    password: str | None = None

    @property
    def identifiers(self):
        """Every value the login form should accept for this user (rut, e-mail, name, login)."""
        seen = []
        for value in (self.rut, self.correo, self.nombre, self.login):
            if value and value not in seen:
                seen.append(value)
        return seen


class NeedsFreshUsers(Exception):
    """Raised when a test needs users that nobody has talked to yet and none can be made."""


class DatabaseUsers:
    """Inserts users into the `usuarios` table with a random per-run prefix, so runs never
    collide; removes them (and their conversations) at the end unless asked to keep them."""

    fresh = True

    def __init__(self, url):
        import bcrypt
        import psycopg

        self._conn = psycopg.connect(url, autocommit=True)
        # Ruts of 12 characters at most (`q` + 6 hex + 3 digits + `-k`): live tables have
        # VARCHAR(12) rut columns.
        self.prefix = "q" + secrets.token_hex(3)
        self.password = "pw-" + secrets.token_urlsafe(12)
        # Cost 4 keeps logins fast; the server must accept any bcrypt cost.
        self._hash = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
        self._count = 0
        self.created = []

    def create(self, label, rol="vendedor"):
        self._count += 1
        rut = f"{self.prefix}{self._count:03d}-k"
        user = User(
            rut=rut,
            nombre=f"{label} {self.prefix}",
            correo=f"{rut}@compat.invalid",
            rol=rol,
            login=f"{rut}@compat.invalid",
            password=self.password,
        )
        self._conn.execute(
            "INSERT INTO usuarios (rut_usuario, nombre, correo, rol, password_hash) VALUES (%s, %s, %s, %s, %s)",
            (user.rut, user.nombre, user.correo, user.rol, self._hash),
        )
        self.created.append(user)
        return user

    def unknown_rut(self):
        return f"{self.prefix}999-x"

    def cleanup(self):
        """Deletes the chat rows of every conversation one of our users is in, then the users,
        in whichever table variant exists."""
        ruts = [u.rut for u in self.created]
        if not ruts:
            return
        for conv, part, msg in (("chat_conversaciones", "chat_participantes", "chat_mensajes"),
                                ("conversaciones_chat", "participantes_chat", "mensajes_chat")):
            exists = self._conn.execute("SELECT to_regclass(%s) IS NOT NULL", (conv,)).fetchone()[0]
            if not exists:
                continue
            # Conversations that kept no participant row (a failed creation) are found by
            # `creado_por` where the table has that column; the original's tables may not.
            has_creator = self._conn.execute(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = %s AND column_name = 'creado_por')", (conv,)).fetchone()[0]
            by_creator = " OR creado_por = ANY(%s)" if has_creator else ""
            with self._conn.transaction():
                ids = [row[0] for row in self._conn.execute(
                    f"SELECT DISTINCT conversacion_id FROM {part} WHERE usuario_id = ANY(%s)", (ruts,))]
                # v2's reactions (no foreign keys in the original's delta): ours and those on
                # messages of these conversations.
                reactions = "chat_reacciones" if conv.startswith("chat_") else "reacciones_chat"
                if self._conn.execute("SELECT to_regclass(%s) IS NOT NULL", (reactions,)).fetchone()[0]:
                    self._conn.execute(
                        f"DELETE FROM {reactions} WHERE usuario_id = ANY(%s) OR mensaje_id IN "
                        f"(SELECT id FROM {msg} WHERE conversacion_id = ANY(%s))", (ruts, ids))
                self._conn.execute(f"DELETE FROM {msg} WHERE conversacion_id = ANY(%s) OR usuario_id = ANY(%s)", (ids, ruts))
                self._conn.execute(f"DELETE FROM {part} WHERE conversacion_id = ANY(%s) OR usuario_id = ANY(%s)", (ids, ruts))
                self._conn.execute(f"DELETE FROM {conv} WHERE id = ANY(%s){by_creator}",
                                   (ids, ruts) if has_creator else (ids,))
        self._conn.execute("DELETE FROM usuarios WHERE rut_usuario = ANY(%s)", (ruts,))

    def close(self):
        self._conn.close()


class FileUsers:
    """Existing users described by a JSON file: `{"users": [{"rut", "nombre", "login",
    "password", "correo"?, "rol"?}, ...]}` (a bare list works too; `name` = `nombre`,
    `email` = `correo`). The first three are the suite's Ana, Bruno and Carla."""

    fresh = False

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        rows = data["users"] if isinstance(data, dict) else data
        self.users = []
        for row in rows:
            rut = row.get("rut") or row.get("rut_usuario")
            nombre = row.get("nombre") or row.get("name")
            if not rut or not nombre:
                raise ValueError(f"{path}: every user needs 'rut' and 'nombre': {row}")
            self.users.append(User(
                rut=str(rut), nombre=nombre,
                correo=row.get("correo") or row.get("email"), rol=row.get("rol"),
                login=row.get("login") or str(rut), password=row.get("password"),
            ))
        if len(self.users) < 3:
            raise ValueError(f"{path}: at least three users are needed, found {len(self.users)}")
        self.created = []

    def create(self, label, rol="vendedor"):
        raise NeedsFreshUsers(label)

    def unknown_rut(self):
        return "compat-" + secrets.token_hex(4)

    def cleanup(self):
        pass

    def close(self):
        pass


class Sessions:
    """Signed-in sessions for users, each a `Cookie` header value and the CSRF token a page
    would carry for it: minted with SECRET_KEY (`auth=cookie`), or obtained by posting the login
    form and reading the token from GET /chat (`auth=form`, cached per user)."""

    def __init__(self, settings, http, cookies):
        self._settings = settings
        self._http = http
        self._cookies = cookies
        self._cache = {}

    def sign_in(self, user):
        """(cookie header value, CSRF token) for `user`."""
        if self._settings.auth == "cookie":
            raw = csrf.new_raw()
            cookie = self._cookies.header(login_session(user) | {csrf.SESSION_KEY: raw})
            return cookie, csrf.sign(self._settings.secret_key, raw)
        if user.rut not in self._cache:
            if not user.password:
                raise RuntimeError(f"user {user.rut} has no password: give --secret-key or a password in the users file")
            cookie = self.login(user.login or user.rut, user.password)
            if self._settings.generacion == "v2":
                # The widget sends no CSRF token (CONTRACT-v2.md §5) and v2 has no /chat page.
                self._cache[user.rut] = (cookie, None)
                return self._cache[user.rut]
            cookie, token, r = csrf.from_page(self._http, "/chat", cookie, self._settings.cookie_name)
            assert r.status_code == 200, f"GET /chat as {user.rut} after the login: {r.status_code}"
            self._cache[user.rut] = (cookie, token)
        return self._cache[user.rut]

    def login(self, usuario, password, remember=False):
        """Posts the login form; returns the `Cookie` header value it issued (asserts success)."""
        r = self._http.login(usuario, password, remember)
        assert r.status_code == 302, f"login as {usuario!r} failed: {r.status_code} {r.text[:300]}"
        value = self._http.set_cookie_value(r, self._settings.cookie_name)
        assert value, (f"login as {usuario!r} set no {self._settings.cookie_name} cookie (give the name the "
                       "login sets with --cookie-name)")
        return f"{self._settings.cookie_name}={value}"
