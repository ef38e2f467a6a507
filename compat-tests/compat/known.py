"""Where the original Flask service (v1, commit c71848c of Francisco-1212/weigence-project)
differs from the contract, as observed by running it (see README.md, "Parity with the original").
Tests that check the contract's behaviour there carry `@pytest.mark.known_difference(<one of
these>)`: with `--legacy` their failures are reported as known differences instead of failures.
Each reason quotes what the original really answered. A mark sits only on the tests (or the
parameters of a test) that the original fails: a marked test that passes against it shows up as
"passed despite a known-difference mark" in the parity table, which means the mark is wrong."""

# §0.5 and §4: status codes and error bodies.
EXCEPTIONS_500 = ("the original answered 500 with the exception text where its handler's code raised "
                  "(e.g. enviar: 500 {\"error\": \"Error al enviar mensaje\"}; crear: 500 {\"success\": false, "
                  "\"error\": \"object of type 'NoneType' has no len()\"}) (§0.5)")
FLASK_ERRORS_500 = ("the original turned Flask's own errors into 500 with the exception text, e.g. "
                    "500 {\"success\": false, \"error\": \"Error: 404 Not Found: ...\"} for an unknown route "
                    "and \"Error: 405 Method Not Allowed: ...\" (§0.5, §8)")
NO_SUCCESS_FALSE = ("the original's handlers answered their errors without success: false, e.g. "
                    "401 {\"error\": \"No autenticado\"}, 400 {\"error\": \"Falta conversacion_id\"} (§0.5)")
CSRF_BEFORE_SESSION = ("the original checks a CSRF token (Flask-WTF) before every POST handler; a request "
                       "without a valid session has no session token: 500 {\"success\": false, \"error\": "
                       "\"Error: 400 Bad Request: The CSRF token is missing.\"} instead of 401 (its "
                       "@csrf.exempt never took effect) (§4)")

# §3 login and logout.
LOGIN_TO_DASHBOARD = "the original's login redirected to the rest of Weigence: 302 Location: /dashboard, not /chat (§3)"
LOGIN_REVEALS_ACCOUNT = ("the original's failed login said whether the account exists: \"Usuario no encontrado\" "
                         "vs \"Contraseña incorrecta\" (§3)")

# §1 presence.
SOCKET_NOT_PRESENCE = ("the original's presence came from HTTP activity (heartbeats) only: a user whose only "
                       "contact was an open Socket.IO connection was not in GET /api/usuarios/conectados (§1, §5)")
CONECTADOS_ADMIN_ONLY = ("the original served GET /api/usuarios/conectados to administrador and supervisor only; "
                         "other roles got 302 Location: /dashboard (§1)")

# §4 routes.
LIST_BROKEN = ("GET /conversaciones always failed in the original: its handler demanded a JSON body on a GET, "
               "500 {\"error\": \"Error al crear conversación: 415 Unsupported Media Type: ...\"} (§4)")
LIST_NEEDED = "observed through GET /conversaciones, which always failed in the original (§4)"
USUARIOS_UNORDERED = "the original listed the users in table order, not by name (§4)"
OLDEST_100 = "the original returned the oldest 100 messages and could not page (§4, §8)"
NO_ELIMINADO = "the original's messages (GET /mensajes) had no eliminado key, whatever the table had (§4)"
ENVIAR_RAW_ROW = ("the original's enviar answered the inserted row: 201 {\"mensaje\": {id, conversacion_id, "
                  "usuario_id, contenido, fecha_envio, editado, eliminado}}, without usuario and es_mio (§4)")
CREAR_ALWAYS_200 = ("the original's crear always answered 200 {\"success\": true, \"conversacion\": {\"id\": N}}, "
                    "created or found: never 201, never conversacion_id, creado or mensaje (§4)")
CREAR_TWO_PARTICIPANTS_ONLY = ("the original's crear took only [me, other]: {\"participantes\": [other]} and "
                               "{\"usuario_id\": other} got 400 {\"success\": false, \"error\": \"Se requieren dos "
                               "participantes\"} (§4)")
CREAR_SELF_CHAT = ("the original's crear accepted [me, me]: 200 with some other conversation of mine (the "
                   "common-conversation lookup intersects my conversations with themselves) (§4)")
CREAR_WITHOUT_SESSION = ("the original's crear never checked the session: a request without one was refused only "
                         "by the CSRF check (500 \"The CSRF token is missing.\"), and with the chat routes' CSRF "
                         "exemption working as meant (LEGACY_CSRF=intended) it answered 200 (§4, §8)")
CREAR_NO_PARTICIPANT_CHECK = ("the original's crear never checked that the caller is a participant: "
                              "Ana created Bruno–Carla with 200 (§4, §8)")
CREAR_UNKNOWN_USER = ("the original's crear had no 404 for an unknown user: participantes → 500 {\"success\": false, "
                      "\"error\": \"No se pudo crear la conversación\"} leaving an orphan conversation; usuario_id → "
                      "400 \"Se requieren dos participantes\" (§4)")
CREAR_NOT_ATOMIC = ("1:1 creation was non-atomic in the original: 20 concurrent crear calls for one pair made "
                    "8 conversations, every call answered 200 (§8)")
NO_LENGTH_LIMIT = "the original had no message length or body limits: 100 000 characters were stored (§8)"
NO_ORIGIN_CHECK = "the original checked no Origin on state-changing requests (§4)"
MENSAJE_ID_IGNORED = "the original ignored mensaje_id and always jumped to the newest message (§4)"
UNREAD_UUIDS = "the original compared uuids with > to count unread messages (§4, §8)"
NO_IDEMPOTENCY = "the original stored every retried send (§4)"

# §5 Socket.IO.
CONNECT_ERROR_TEXT = ("the original refused a socket without a session with CONNECT_ERROR "
                      "{\"message\": \"Connection rejected by server\"}, not \"No autenticado\" (§5)")
ACK_WITHOUT_DATA = "the original called the mensaje_enviar ack with no data (None), not the stored message (§5)"
OPEN_SOCKET_ORIGINS = "the original accepted Socket.IO handshakes from every origin (cors_allowed_origins='*') (§5, §8)"
TYPING_UNCHECKED = ("the original relayed escribiendo into any room without a participant check: the room got "
                    "usuario_escribiendo from a non-member (§5, §8)")
TYPING_SILENT = "the original dropped an invalid escribiendo payload silently: no error event (§5)"
SOCKET_NON_OBJECT = ("a payload that is not an object (string, list, number, none) crashed the original's handler "
                     "(AttributeError): the client got no event at all (§5)")
NO_NUEVA_CONVERSACION = "the original defined nueva_conversacion but never sent it (§5)"
NO_READ_RECEIPTS = "the original emitted no mensaje_visto read receipts (§4, §5)"

# §7 the page.
NO_DATA_USUARIO_ID = "the original page had no data-usuario-id, so 'new chat' never worked (§7)"
