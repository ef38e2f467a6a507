-- Optional, additive: SQL functions that make the PostgREST store (SUPABASE_URL + SUPABASE_KEY,
-- no DATABASE_URL) atomic. PostgREST runs each HTTP request in its own transaction, so without
-- them a send is two requests (insert, then the conversation update), a 1:1 creation can race
-- into two conversations, and the read marker is moved by a best-effort filter. With them each
-- of those is one request and one transaction, as with the Postgres store.
--
-- Paste this file into Supabase's SQL editor (or run it with psql) once; running it again is
-- harmless. It never drops or rewrites data. For every chat table variant present in the
-- current schema (chat_* or *_chat) it adds:
--   * the `client_id` column and its partial unique index (as sql/client_id.sql), so retried
--     sends with one client key store one message;
--   * <messages table>_enviar(conversation, author, text, client key, reply_to): participant
--     check (the sender's participant row locked until commit, so a send racing a removal is
--     stored before it or refused), idempotent insert (with the replied message where the v2
--     delta's `reply_to` column exists), conversation update, in one transaction; returns
--     {"nuevo": bool, "mensaje": {message columns..., "usuarios": {author}}} (an earlier
--     four-argument version is dropped and replaced);
--   * <messages table>_eliminar(message): a v2 delete in one transaction: the message marked
--     `eliminado` (removed where that column is missing), its reactions removed and the
--     conversation's pin cleared when it pointed to it (where the v2 delta exists: run this file
--     again after sql/v2_delta.sql), and, where sql/grupos.sql is applied (run this file after
--     it), its reactions and pins there, v2's pin becoming the newest pin left; returns whether
--     there was a message to delete;
--   * <conversations table>_uno_a_uno(a, b): find-or-create of the 1:1 conversation under a
--     transaction-scoped advisory lock on the pair (unique under concurrency); returns
--     {"id": ..., "creada": bool};
--   * <participants table>_marcar_leido(conversation, user, up to): forward-only read marker;
--     returns the new marker's message id as text, or null when it did not move;
--   * <participants table>_no_leidos(user, only): unread messages per conversation of the user
--     (from others, not deleted, after the marker), {"<conversation id>": count}: one request
--     whatever the number of conversations (PostgREST has no aggregates by default).
-- The functions are SECURITY INVOKER (they act with the caller's rights, like table requests)
-- and executable only by service_role: PUBLIC, anon and authenticated lose EXECUTE.
-- weigence-chat detects them at start-up and uses them; it logs once when they are absent.
DO $generar$
DECLARE
    esquema text := current_schema();
    variante record;
    tipo_conv text;
    tipo_msg text;
    tipo_marca text;
    marca_es_fecha boolean;
    toque text;
    cols_nueva text;
    vals_nueva text;
    solo_1a1 text;
    despues text;
    valor_marca text;
    rol text;
    firma text;
    con_respuestas boolean;
    borrar text;
    limpiar text;
BEGIN
    FOR variante IN
        SELECT * FROM (VALUES
            ('chat_conversaciones', 'chat_participantes', 'chat_mensajes', 'chat_reacciones',
             'chat_reacciones_emoji', 'chat_fijados'),
            ('conversaciones_chat', 'participantes_chat', 'mensajes_chat', 'reacciones_chat',
             'reacciones_emoji_chat', 'fijados_chat')) v(conv, part, msg, reac, reac_grupos, fij)
        WHERE to_regclass(format('%I.%I', current_schema(), v.conv)) IS NOT NULL
    LOOP
        SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_conv FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', esquema, variante.conv)::regclass AND a.attname = 'id';
        SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_msg FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', esquema, variante.msg)::regclass AND a.attname = 'id';
        SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_marca FROM pg_attribute a
         WHERE a.attrelid = format('%I.%I', esquema, variante.part)::regclass
           AND a.attname = 'ultimo_mensaje_leido';
        marca_es_fecha := tipo_marca LIKE 'timestamp%' OR tipo_marca = 'date';

        -- Idempotent sends need the client key column and its unique index.
        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN IF NOT EXISTS client_id text', esquema, variante.msg);
        EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %I.%I (usuario_id, client_id) WHERE client_id IS NOT NULL',
                       variante.msg || '_client_id_key', esquema, variante.msg);

        -- The conversation columns a send keeps current, where the table has them.
        SELECT string_agg(format('%I = %s', c.col, c.valor), ', ') INTO toque
          FROM (VALUES ('ultima_actualizacion', 'v_msg.fecha_envio'), ('ultimo_mensaje_id', 'v_msg.id'),
                       ('ultimo_mensaje_timestamp', 'v_msg.fecha_envio')) c(col, valor)
         WHERE EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                         AND i.table_name = variante.conv AND i.column_name = c.col);

        con_respuestas := EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                                    AND i.table_name = variante.msg AND i.column_name = 'reply_to');
        -- The v1 version of the send function had four arguments: replaced, not overloaded.
        EXECUTE format('DROP FUNCTION IF EXISTS %I.%I(text, text, text, text)', esquema, variante.msg || '_enviar');
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %1$I.%2$I(p_conversacion_id text, p_usuario_id text,
                                                 p_contenido text, p_client_id text DEFAULT NULL,
                                                 p_reply_to text DEFAULT NULL)
            RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
            DECLARE
                v_msg %1$I.%3$I;
                v_nuevo boolean := true;
            BEGIN
                -- The sender's row stays locked until commit: a removal (sql/grupos.sql) waits for
                -- this send, or this check waits for the removal and then finds no row. Participant
                -- rows before the conversation row, as every writer does (no deadlock).
                PERFORM 1 FROM %1$I.%4$I p WHERE p.conversacion_id = p_conversacion_id::%6$s
                   AND p.usuario_id = p_usuario_id LIMIT 1 FOR KEY SHARE;
                IF NOT FOUND THEN
                    RAISE SQLSTATE 'PT403' USING MESSAGE = 'not a participant of this conversation';
                END IF;
                INSERT INTO %1$I.%3$I AS m (conversacion_id, usuario_id, contenido, fecha_envio, client_id%8$s)
                VALUES (p_conversacion_id::%6$s, p_usuario_id, p_contenido, clock_timestamp(), p_client_id%9$s)
                ON CONFLICT (usuario_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
                RETURNING m.* INTO v_msg;
                IF NOT FOUND THEN
                    -- A retry: the statement above waited for the first send to commit.
                    SELECT m.* INTO v_msg FROM %1$I.%3$I m
                     WHERE m.usuario_id = p_usuario_id AND m.client_id = p_client_id;
                    v_nuevo := false;
                ELSE
                    %7$s
                END IF;
                RETURN jsonb_build_object('nuevo', v_nuevo, 'mensaje',
                    (to_jsonb(v_msg) - 'client_id') || jsonb_build_object('usuarios',
                        (SELECT to_jsonb(u) - 'password_hash' - 'Contraseña' FROM %1$I.usuarios u
                          WHERE u.rut_usuario = v_msg.usuario_id)));
            END
            $cuerpo$ $f$,
            esquema, variante.msg || '_enviar', variante.msg, variante.part, variante.conv,
            tipo_conv, CASE WHEN toque IS NULL THEN '' ELSE
                format('UPDATE %I.%I c SET %s WHERE c.id = v_msg.conversacion_id;', esquema, variante.conv, toque) END,
            CASE WHEN con_respuestas THEN ', reply_to' ELSE '' END,
            CASE WHEN con_respuestas THEN format(', p_reply_to::%s', tipo_msg) ELSE '' END);

        -- A v2 delete: the message, its reactions and the pin on it, in one transaction.
        IF EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                     AND i.table_name = variante.msg AND i.column_name = 'eliminado') THEN
            borrar := format('UPDATE %I.%I m SET eliminado = true WHERE m.id = p_mensaje_id::%s AND NOT coalesce(m.eliminado, false) RETURNING m.conversacion_id INTO v_conv;',
                             esquema, variante.msg, tipo_msg);
        ELSE
            borrar := format('DELETE FROM %I.%I m WHERE m.id = p_mensaje_id::%s RETURNING m.conversacion_id INTO v_conv;',
                             esquema, variante.msg, tipo_msg);
        END IF;
        limpiar := '';
        IF to_regclass(format('%I.%I', esquema, variante.reac)) IS NOT NULL THEN
            limpiar := limpiar || format('DELETE FROM %I.%I r WHERE r.mensaje_id = p_mensaje_id::%s;',
                                         esquema, variante.reac, tipo_msg);
        END IF;
        -- With sql/grupos.sql: its reactions and pins too, and v2's pin becomes the newest pin left.
        IF to_regclass(format('%I.%I', esquema, variante.reac_grupos)) IS NOT NULL THEN
            limpiar := limpiar || format(' DELETE FROM %I.%I r WHERE r.mensaje_id = p_mensaje_id::%s;',
                                         esquema, variante.reac_grupos, tipo_msg);
        END IF;
        IF to_regclass(format('%I.%I', esquema, variante.fij)) IS NOT NULL THEN
            limpiar := limpiar || format(' DELETE FROM %I.%I f WHERE f.mensaje_id = p_mensaje_id::%s;',
                                         esquema, variante.fij, tipo_msg);
        END IF;
        IF EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                     AND i.table_name = variante.conv AND i.column_name = 'mensaje_fijado_id') THEN
            limpiar := limpiar || format(' UPDATE %I.%I c SET mensaje_fijado_id = %s WHERE c.id = v_conv AND c.mensaje_fijado_id = p_mensaje_id::%s;',
                                         esquema, variante.conv,
                                         CASE WHEN to_regclass(format('%I.%I', esquema, variante.fij)) IS NULL THEN 'NULL'
                                              ELSE format('(SELECT f.mensaje_id FROM %I.%I f WHERE f.conversacion_id = v_conv ORDER BY f.fecha_creacion DESC, f.id DESC LIMIT 1)',
                                                          esquema, variante.fij) END,
                                         tipo_msg);
        END IF;
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %1$I.%2$I(p_mensaje_id text)
            RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
            DECLARE
                v_conv %3$s;
            BEGIN
                %4$s
                IF NOT FOUND THEN
                    RETURN false;
                END IF;
                %5$s
                RETURN true;
            END
            $cuerpo$ $f$,
            esquema, variante.msg || '_eliminar', tipo_conv, borrar, limpiar);

        cols_nueva := 'fecha_creacion';
        vals_nueva := 'now()';
        IF EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                     AND i.table_name = variante.conv AND i.column_name = 'es_grupal') THEN
            cols_nueva := cols_nueva || ', es_grupal';
            vals_nueva := vals_nueva || ', false';
            solo_1a1 := 'AND coalesce(c.es_grupal, false) = false';
        ELSE
            solo_1a1 := '';
        END IF;
        IF EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                     AND i.table_name = variante.conv AND i.column_name = 'creado_por') THEN
            cols_nueva := cols_nueva || ', creado_por';
            vals_nueva := vals_nueva || ', p_a';
        END IF;
        IF EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                     AND i.table_name = variante.conv AND i.column_name = 'ultima_actualizacion') THEN
            cols_nueva := cols_nueva || ', ultima_actualizacion';
            vals_nueva := vals_nueva || ', now()';
        END IF;

        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %1$I.%2$I(p_a text, p_b text)
            RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
            DECLARE
                v_id %5$s;
            BEGIN
                IF p_a IS NULL OR p_b IS NULL OR p_a = p_b THEN
                    RAISE SQLSTATE 'PT400' USING MESSAGE = 'two different users are required';
                END IF;
                -- One creator per pair at a time; the statements below see what it committed.
                PERFORM pg_advisory_xact_lock(hashtextextended(least(p_a, p_b) || '|' || greatest(p_a, p_b), 0));
                SELECT c.id INTO v_id FROM %1$I.%4$I pa
                  JOIN %1$I.%4$I pb ON pb.conversacion_id = pa.conversacion_id AND pb.usuario_id = p_b
                  JOIN %1$I.%3$I c ON c.id = pa.conversacion_id
                 WHERE pa.usuario_id = p_a %6$s
                   AND (SELECT count(*) FROM %1$I.%4$I px WHERE px.conversacion_id = c.id) = 2
                 ORDER BY c.id LIMIT 1;
                IF FOUND THEN
                    RETURN jsonb_build_object('id', v_id, 'creada', false);
                END IF;
                INSERT INTO %1$I.%3$I (%7$s) VALUES (%8$s) RETURNING id INTO v_id;
                INSERT INTO %1$I.%4$I (conversacion_id, usuario_id) VALUES (v_id, p_a), (v_id, p_b);
                RETURN jsonb_build_object('id', v_id, 'creada', true);
            END
            $cuerpo$ $f$,
            esquema, variante.conv || '_uno_a_uno', variante.conv, variante.part, tipo_conv,
            solo_1a1, cols_nueva, vals_nueva);

        -- "After the marker" in (fecha_envio, id) order, as the Postgres store decides it; a
        -- marker never set (or pointing at a deleted message) is before everything.
        IF marca_es_fecha THEN
            despues := '(v_fecha > p.ultimo_mensaje_leido) IS NOT FALSE';
            valor_marca := 'v_fecha';
        ELSE
            despues := format('((v_fecha, v_id) > (SELECT r.fecha_envio, r.id FROM %I.%I r WHERE r.id = p.ultimo_mensaje_leido)) IS NOT FALSE',
                              esquema, variante.msg);
            valor_marca := 'v_id';
        END IF;

        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %1$I.%2$I(p_conversacion_id text, p_usuario_id text,
                                                 p_hasta text DEFAULT NULL)
            RETURNS text LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
            DECLARE
                v_id %6$s;
                v_fecha %1$I.%3$I.fecha_envio%%TYPE;
            BEGIN
                SELECT x.id, x.fecha_envio INTO v_id, v_fecha FROM (
                    (SELECT m.id, m.fecha_envio, 0 AS prioridad FROM %1$I.%3$I m
                      WHERE m.conversacion_id = p_conversacion_id::%5$s AND m.id = p_hasta::%6$s)
                    UNION ALL
                    (SELECT m.id, m.fecha_envio, 1 FROM %1$I.%3$I m
                      WHERE m.conversacion_id = p_conversacion_id::%5$s
                      ORDER BY m.fecha_envio DESC, m.id DESC LIMIT 1)) x
                 ORDER BY x.prioridad LIMIT 1;
                IF NOT FOUND THEN
                    RETURN NULL;
                END IF;
                UPDATE %1$I.%4$I p SET ultimo_mensaje_leido = %8$s
                 WHERE p.conversacion_id = p_conversacion_id::%5$s AND p.usuario_id = p_usuario_id AND %7$s;
                IF FOUND THEN
                    RETURN v_id::text;
                END IF;
                RETURN NULL;
            END
            $cuerpo$ $f$,
            esquema, variante.part || '_marcar_leido', variante.msg, variante.part, tipo_conv,
            tipo_msg, despues, valor_marca);

        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION %1$I.%2$I(p_usuario_id text, p_solo text DEFAULT NULL)
            RETURNS jsonb LANGUAGE sql STABLE SECURITY INVOKER SET search_path = '' AS $cuerpo$
                SELECT coalesce(jsonb_object_agg(p.conversacion_id::text,
                         (SELECT count(*) FROM %1$I.%3$I m
                           WHERE m.conversacion_id = p.conversacion_id AND m.usuario_id <> p_usuario_id
                             AND %6$s AND %7$s)), '{}'::jsonb)
                  FROM %1$I.%4$I p
                 WHERE p.usuario_id = p_usuario_id AND (p_solo IS NULL OR p.conversacion_id = p_solo::%5$s)
            $cuerpo$ $f$,
            esquema, variante.part || '_no_leidos', variante.msg, variante.part, tipo_conv,
            CASE WHEN EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = esquema
                                AND i.table_name = variante.msg AND i.column_name = 'eliminado')
                 THEN 'NOT coalesce(m.eliminado, false)' ELSE 'true' END,
            CASE WHEN marca_es_fecha THEN '(m.fecha_envio > p.ultimo_mensaje_leido) IS NOT FALSE'
                 ELSE format('((m.fecha_envio, m.id) > (SELECT r.fecha_envio, r.id FROM %I.%I r WHERE r.id = p.ultimo_mensaje_leido)) IS NOT FALSE',
                             esquema, variante.msg) END);

        FOREACH firma IN ARRAY ARRAY[
            format('%I.%I(text, text, text, text, text)', esquema, variante.msg || '_enviar'),
            format('%I.%I(text)', esquema, variante.msg || '_eliminar'),
            format('%I.%I(text, text)', esquema, variante.conv || '_uno_a_uno'),
            format('%I.%I(text, text, text)', esquema, variante.part || '_marcar_leido'),
            format('%I.%I(text, text)', esquema, variante.part || '_no_leidos')]
        LOOP
            EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', firma);
            FOREACH rol IN ARRAY ARRAY['anon', 'authenticated'] LOOP
                IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = rol) THEN
                    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %I', firma, rol);
                END IF;
            END LOOP;
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', firma);
            END IF;
        END LOOP;
    END LOOP;
END
$generar$;

-- PostgREST reads functions from its schema cache: tell it to reload (Supabase also does this
-- by itself after DDL).
NOTIFY pgrst, 'reload schema';
