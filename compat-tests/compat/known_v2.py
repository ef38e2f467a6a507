"""Where the original v2 (commit 6386d99 of Francisco-1212/weigence-project, the floating widget)
differs from CONTRACT-v2.md with the fixes of its §7, as observed by running it (OBSERVED-v2.md
and the suite's own runs, see README.md "Parity with the original v2"). Used exactly as
`known.py`: `@pytest.mark.known_difference(<one of these>)` on the tests (or parameters) the
original fails; each reason quotes what the original really answered."""

# §1 errors.
HANDLER_ERRORS_MSG_ONLY = ("the original's handler errors carried only msg, e.g. 400 {\"success\": false, "
                           "\"msg\": \"Mensaje vacio\"}; error sat only in the app-wide handlers' bodies (§1, §7.1)")
EXCEPTIONS_500 = ("the original raised on a value of the wrong type and answered 500 {\"success\": false, "
                  "\"error\": \"Error: <exception text>\"}, e.g. contenido 5: \"Error: 'int' object has no "
                  "attribute 'strip'\"; a JSON array body: \"'list' object has no attribute 'get'\" (§1.4, §1.6)")

# §1.3 history and find-or-create.
UNKNOWN_RUT_500 = ("the original's find-or-create never checked the rut: history/<unknown rut> answered 500 "
                   "{\"success\": false, \"error\": \"Error: {... foreign key ...}\"} (send: 500 {\"msg\": \"No se "
                   "pudo enviar el mensaje\"}) and left an orphan conversation (§1.3, §7.3)")
SELF_CHAT = ("the original let a user open a chat with their own rut: history/<own rut> answered 200 with a new "
             "conversation holding the caller twice, and send {destinatario_id: own rut} stored the message there "
             "(§1.3, §7.13)")
SELF_CHAT_HIJACK = ("in the original a user's self-chat counted as common with everyone: after Carla opened her own "
                    "rut, her history/<Ana> answered the self-chat and Ana's history/<Carla> answered 403 {\"msg\": "
                    "\"Sin acceso\"} (OBSERVED-v2.md 2.7) (§7.13)")
NOT_ATOMIC = ("the original's find-or-create had no lock: 20 simultaneous first opens of one pair made several "
              "conversations, every call answered 200 (2 in OBSERVED-v2.md; [5, 5, 7, 8, 2] for five pairs in one of "
              "this suite's runs) (§1.3, §7.3)")
RAW_ROWS = ("the original's history and GET /mensajes/<id> answered raw chat_mensajes rows: no usuario_nombre, "
            "no reply_to_content, no reaction (§1.3, §1.5, §7.5)")
REACTIONS_NEVER_READ = "the original stored reactions but no read path returned them: they vanished on reload (§1.6, §7.5)"

# §1.4 send.
REPLY_QUOTE_BY_RUT = ("the original's send by rut (destinatario_id) answered reply_to without reply_to_content: its "
                      "quote lookup embedded a table usuarios_conectados that does not exist, and failed silently "
                      "(§1.4, §7.4)")
REPLY_NO_AUTHOR = ("the original's send by conversacion_id (and socket send) quoted only reply_to_content: "
                   "no reply_to_user_id nor reply_to_user_name (§1.4, §7.4)")
REPLY_UNCHECKED = ("the original never checked reply_to: a reply to a message of another conversation was stored "
                   "and echoed that message's text (Bruno got Carla's private \"secreto de Carla\"), and a reply to "
                   "999999 was stored as is (§1.4, §7.4)")
NO_LENGTH_LIMIT_BY_ID = ("the original's send by conversacion_id (path B) and socket send had no length limit: "
                         "5000 characters were stored (§1.4, §2, §7.9)")
NO_USUARIO_NOMBRE = "the original's M had no usuario_nombre (the widget fell back to the selected user's name) (§1.4, §7.5)"

# §1.6 reactions.
ANY_REACTION_TEXT = ("the original accepted any text as a reaction (markup \"<i>x</i>!!\" was stored, and the widget "
                     "renders it with innerHTML): 200 {\"success\": true, \"emoji\": ...} (§1.6, §7.6)")
LONG_REACTION_200 = ("the original answered 200 and announced a reaction longer than its VARCHAR(10) column although "
                     "it was not stored (the old emoji stayed) (§1.6, §7.6)")
NULL_EMOJI_500 = ("the original raised on a null emoji: 500 {\"success\": false, \"error\": \"Error: 'NoneType' object "
                  "has no attribute 'strip'\"} (§1.6)")
NO_REACTION_REMOVAL = ("the original had no way to remove a reaction: DELETE /api/chat/mensajes/<id>/reaccion answered "
                       "405 {\"success\": false, \"error\": \"The method is not allowed for the requested URL.\"} (§7.6)")
NO_REACTION_SUMMARY = ("the original's reaccion_agregada and reaction answer carried only {mensaje_id, usuario_id, "
                       "emoji}: no reacciones summary (§1.6, §7.6)")

# §1.9 unpin.
UNPIN_ANY = ("the original's desfijar of any message of the conversation cleared the pin (pinned 2, unpinned 3 → "
             "no pin) (§1.9, §7.7)")

# §2 Socket.IO.
NO_PINNED_EVENT = ("the original never emitted mensaje_fijado: the emit sat behind an import of app.db.db_usuarios, "
                   "a module that never existed, and the ImportError was swallowed (§1.8, §7.7)")
NO_PERSONAL_ROOM = ("the original joined sockets to conversation rooms only: a member whose socket had not joined "
                    "the conversation got no mensaje_nuevo (§2, §7.10)")
LEAVE_IGNORED = "the original had no leave handler: a socket that sent leave kept receiving the room's events (§2, §7.10)"
SEEN_ANY_ID = ("the original's seen never checked that ultimo_id is a message of the conversation: the id of a "
               "message of another conversation became the marker and was announced in mensaje_visto (OBSERVED-v2.md: "
               "99999999 too, with no foreign key on the marker) (§2, §7.12)")
OPEN_SOCKET_ORIGINS = ("the original accepted Socket.IO handshakes from every origin (cors_allowed_origins=\"*\"): "
                       "https://evil.example got ws_connected (§2, §7.9)")
