-- Groups and the whole life of a message (additive, optional, idempotent). Applied by
-- `scripts/migrate` (after sql/v2_delta.sql) and the demo; safe to run again (and to run again
-- after sql/v2_delta.sql: the functions below are generated from what the catalog holds now).
-- Without it the group and message-life routes answer 503 naming this file.
--
-- Schema, for each chat table variant present (chat_* with bigint ids and an id read marker, or
-- *_chat with uuid ids and a timestamp read marker), with the real id types of the catalog:
--   * <participants>.es_admin: who may rename the group and add, remove or promote members;
--     when the column is first added, each existing group's creator (or, when the creator is
--     gone, its earliest-joined member) becomes its admin;
--   * <participants>.ultimo_mensaje_entregado: the delivered marker (a socket of the member got
--     messages up to it), same type as the read marker and, like it, forward-only;
--   * <participants>.fecha_union: join order (the *_chat variant lacks it); the role passes to
--     the earliest-joined member when the last admin leaves;
--   * <messages>.tipo: 'texto' or 'sistema' (a system message such as "Ana agregó a Luis",
--     authored by the acting user, so history tells the story; never editable);
--   * chat_reacciones_emoji / reacciones_emoji_chat: several emoji per message, one of each per
--     user. The v2 delta's one-per-user reactions are copied in when this table is created; from
--     then on reactions of both API generations live here (v2's single reaction is "replace");
--   * chat_fijados / fijados_chat: several pins per conversation, in pin order. The v2 column
--     <conversations>.mensaje_fijado_id is copied in when this table is created, and the
--     functions keep it equal to the newest pin, so the v2 widget's single pin stays right;
--   * nombre, es_grupal, creado_por on conversations where a database lacks them.
--
-- Functions (one implementation of every group and message-life write, used by both stores:
-- the PostgreSQL store runs `SELECT weigence_x(..)::text`, the PostgREST store POSTs
-- /rpc/weigence_x). Each returns jsonb; a refusal is {"error": "<codigo>"} and changes nothing.
-- Membership changes lock the conversation row first, so they serialize with each other and
-- with sends (sql/postgrest_functions.sql locks it too before its membership check).
-- They trust their actor argument (the server checked the session): SECURITY INVOKER and
-- executable only by service_role where that role exists, never by PUBLIC, anon or authenticated.
DO $esquema$
DECLARE
    esquema text := current_schema();
    t record;
    tipo_msg text;
    tipo_marca text;
    tipo_fecha text;
    admin_nuevo boolean;
BEGIN
    -- "column already exists, skipping" on every run is noise.
    PERFORM set_config('client_min_messages', 'warning', true);
    FOR t IN
        SELECT * FROM (VALUES
            ('chat_conversaciones', 'chat_participantes', 'chat_mensajes', 'chat_reacciones',
             'chat_reacciones_emoji', 'chat_fijados'),
            ('conversaciones_chat', 'participantes_chat', 'mensajes_chat', 'reacciones_chat',
             'reacciones_emoji_chat', 'fijados_chat')) v(conv, part, msg, reac_v2, reac, fij)
        WHERE to_regclass(format('%I.%I', current_schema(), v.conv)) IS NOT NULL
          AND to_regclass(format('%I.%I', current_schema(), v.part)) IS NOT NULL
          AND to_regclass(format('%I.%I', current_schema(), v.msg)) IS NOT NULL
    LOOP
        SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_msg FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', esquema, t.msg)::regclass AND a.attname = 'id';
        SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_marca FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', esquema, t.part)::regclass AND a.attname = 'ultimo_mensaje_leido';
        SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_fecha FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', esquema, t.conv)::regclass AND a.attname = 'fecha_creacion';

        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN IF NOT EXISTS nombre varchar(100), '
                       'ADD COLUMN IF NOT EXISTS es_grupal boolean DEFAULT false, '
                       'ADD COLUMN IF NOT EXISTS creado_por varchar(20)', esquema, t.conv);

        admin_nuevo := NOT EXISTS (SELECT 1 FROM information_schema.columns i
                                    WHERE i.table_schema = esquema AND i.table_name = t.part
                                      AND i.column_name = 'es_admin');
        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN IF NOT EXISTS es_admin boolean NOT NULL DEFAULT false, '
                       'ADD COLUMN IF NOT EXISTS ultimo_mensaje_entregado %s, '
                       'ADD COLUMN IF NOT EXISTS fecha_union %s DEFAULT now()',
                       esquema, t.part, tipo_marca, coalesce(tipo_fecha, 'timestamptz'));
        IF admin_nuevo THEN
            EXECUTE format(
                'UPDATE %1$I.%2$I p SET es_admin = true FROM %1$I.%3$I c
                  WHERE c.id = p.conversacion_id AND coalesce(c.es_grupal, false) AND p.usuario_id = c.creado_por',
                esquema, t.part, t.conv);
            EXECUTE format(
                'UPDATE %1$I.%2$I p SET es_admin = true
                   FROM (SELECT DISTINCT ON (x.conversacion_id) x.conversacion_id, x.usuario_id
                           FROM %1$I.%2$I x JOIN %1$I.%3$I c ON c.id = x.conversacion_id AND coalesce(c.es_grupal, false)
                          WHERE NOT EXISTS (SELECT 1 FROM %1$I.%2$I a WHERE a.conversacion_id = x.conversacion_id AND a.es_admin)
                          ORDER BY x.conversacion_id, x.fecha_union, x.usuario_id) primero
                  WHERE p.conversacion_id = primero.conversacion_id AND p.usuario_id = primero.usuario_id',
                esquema, t.part, t.conv);
        END IF;

        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN IF NOT EXISTS tipo varchar(20) NOT NULL DEFAULT %L',
                       esquema, t.msg, 'texto');

        -- The unique key (mensaje_id first) is also the index reads by message use.
        IF to_regclass(format('%I.%I', esquema, t.reac)) IS NULL THEN
            EXECUTE format('CREATE TABLE %1$I.%2$I (
                                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                                mensaje_id %4$s NOT NULL REFERENCES %1$I.%3$I (id) ON DELETE CASCADE,
                                usuario_id varchar(20) NOT NULL,
                                emoji varchar(32) NOT NULL,
                                fecha_creacion timestamptz NOT NULL DEFAULT now(),
                                UNIQUE (mensaje_id, usuario_id, emoji))',
                           esquema, t.reac, t.msg, tipo_msg);
            IF to_regclass(format('%I.%I', esquema, t.reac_v2)) IS NOT NULL THEN
                EXECUTE format(
                    'INSERT INTO %1$I.%2$I (mensaje_id, usuario_id, emoji, fecha_creacion)
                     SELECT r.mensaje_id, r.usuario_id, r.emoji, coalesce(r.fecha_creacion::timestamptz, now())
                       FROM %1$I.%3$I r JOIN %1$I.%4$I m ON m.id = r.mensaje_id
                      WHERE r.usuario_id IS NOT NULL AND r.emoji IS NOT NULL
                      ORDER BY r.fecha_creacion
                     ON CONFLICT DO NOTHING',
                    esquema, t.reac, t.reac_v2, t.msg);
            END IF;
        END IF;

        IF to_regclass(format('%I.%I', esquema, t.fij)) IS NULL THEN
            EXECUTE format('CREATE TABLE %1$I.%2$I (
                                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                                conversacion_id %5$s NOT NULL REFERENCES %1$I.%3$I (id) ON DELETE CASCADE,
                                mensaje_id %6$s NOT NULL REFERENCES %1$I.%4$I (id) ON DELETE CASCADE,
                                usuario_id varchar(20) NOT NULL,
                                fecha_creacion timestamptz NOT NULL DEFAULT now(),
                                UNIQUE (conversacion_id, mensaje_id))',
                           esquema, t.fij, t.conv, t.msg,
                           (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                             WHERE a.attrelid = format('%I.%I', esquema, t.conv)::regclass AND a.attname = 'id'),
                           tipo_msg);
            -- Who pinned it is not recorded in v2: the message's author stands in.
            IF EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                         AND i.table_name = t.conv AND i.column_name = 'mensaje_fijado_id') THEN
                EXECUTE format(
                    'INSERT INTO %1$I.%2$I (conversacion_id, mensaje_id, usuario_id)
                     SELECT c.id, m.id, m.usuario_id FROM %1$I.%3$I c
                       JOIN %1$I.%4$I m ON m.id = c.mensaje_fijado_id AND m.conversacion_id = c.id
                     ON CONFLICT DO NOTHING',
                    esquema, t.fij, t.conv, t.msg);
            END IF;
        END IF;
    END LOOP;
END
$esquema$;
