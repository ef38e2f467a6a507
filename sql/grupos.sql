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
-- Membership changes of a conversation serialize on a transaction-scoped advisory lock keyed on
-- it (20 concurrent adds of one user give one membership). Every writer locks participant rows
-- before the conversation row: a send holds the sender's participant row (FOR SHARE / KEY SHARE)
-- until it commits, so a send racing a removal is stored before it or refused, never deadlocked.
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

-- The functions, generated for the variant the server uses (chat_* when present, else *_chat)
-- from templates whose {placeholders} are filled in from the catalog: schema-qualified names,
-- id and marker types, and the optional columns that exist.
DO $funciones$
DECLARE
    esquema text := current_schema();
    t record;
    tipo_conv text;
    tipo_msg text;
    tipo_marca text;
    tipo_fecha text;
    marca_es_fecha boolean;
    cols_conv text[];
    cols_msg text[];
    cols_usr text[];
    toque text;
    relleno text[];
    plantilla text;
    sql text;
    i int;
    firma text;
    rol text;
    -- A valid text form of an id type (anything else is "no_existe", never a cast error).
    forma_id CONSTANT jsonb := jsonb_build_object(
        'uuid', '^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$',
        'bigint', '^[0-9]{1,18}$', 'integer', '^[0-9]{1,9}$', 'smallint', '^[0-9]{1,4}$');
BEGIN
    SELECT * INTO t FROM (VALUES
        ('chat_conversaciones', 'chat_participantes', 'chat_mensajes', 'chat_reacciones_emoji', 'chat_fijados'),
        ('conversaciones_chat', 'participantes_chat', 'mensajes_chat', 'reacciones_emoji_chat', 'fijados_chat'))
        v(conv, part, msg, reac, fij)
     WHERE to_regclass(format('%I.%I', current_schema(), v.fij)) IS NOT NULL
     LIMIT 1;
    IF NOT FOUND THEN
        RAISE NOTICE 'sql/grupos.sql: no chat tables in schema %, no functions created', esquema;
        RETURN;
    END IF;
    SELECT array_agg(c.column_name::text) INTO cols_conv FROM information_schema.columns c
     WHERE c.table_schema = esquema AND c.table_name = t.conv;
    SELECT array_agg(c.column_name::text) INTO cols_msg FROM information_schema.columns c
     WHERE c.table_schema = esquema AND c.table_name = t.msg;
    SELECT array_agg(c.column_name::text) INTO cols_usr FROM information_schema.columns c
     WHERE c.table_schema = esquema AND c.table_name = 'usuarios';
    SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_conv FROM pg_attribute a
     WHERE a.attrelid = format('%I.%I', esquema, t.conv)::regclass AND a.attname = 'id';
    SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_msg FROM pg_attribute a
     WHERE a.attrelid = format('%I.%I', esquema, t.msg)::regclass AND a.attname = 'id';
    SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_fecha FROM pg_attribute a
     WHERE a.attrelid = format('%I.%I', esquema, t.msg)::regclass AND a.attname = 'fecha_envio';
    SELECT format_type(a.atttypid, a.atttypmod) INTO tipo_marca FROM pg_attribute a
     WHERE a.attrelid = format('%I.%I', esquema, t.part)::regclass AND a.attname = 'ultimo_mensaje_leido';
    marca_es_fecha := tipo_marca LIKE 'timestamp%' OR tipo_marca = 'date';

    -- The conversation columns a new message keeps current, where the table has them (as a send does).
    SELECT string_agg(format('%I = %s', c.col, c.valor), ', ') INTO toque
      FROM (VALUES ('ultima_actualizacion', 'v_fecha'), ('ultimo_mensaje_id', 'v_mid'),
                   ('ultimo_mensaje_timestamp', 'v_fecha')) c(col, valor)
     WHERE c.col = ANY (cols_conv);

    -- Pieces that contain other placeholders come before those (replacement is in this order).
    relleno := ARRAY[
        -- The variables of every membership change ({cabecera} and {sistema} set them).
        ['{variables_cambio}', 'v_conv {cid} := {conv_id};
    v_autor text := p_actor;
    v_grupal boolean;
    v_creador text;
    v_admin boolean;
    v_actor text;
    v_nombre text;
    v_texto text;
    v_mid {mid};
    v_fecha {fecha};
    v_mensaje jsonb;'],
        -- Admins only.
        ['{solo_admin}', 'IF NOT v_admin THEN
        RETURN jsonb_build_object(''error'', ''no_admin'');
    END IF;'],
        -- Stores the system message v_texto of v_autor in v_conv (v_mid, v_fecha, v_mensaje)
        -- and keeps the conversation's last-message columns current.
        ['{sistema}', 'INSERT INTO {s}.{msg} AS m (conversacion_id, usuario_id, contenido, fecha_envio, tipo{cols_extra})
                VALUES (v_conv, v_autor, v_texto, clock_timestamp(), ''sistema''{vals_extra})
                RETURNING m.id, m.fecha_envio, {mensaje_json} INTO v_mid, v_fecha, v_mensaje;
                {toque}'],
        -- Serializes the membership changes of the conversation, then the refusals every group
        -- change shares; sets v_grupal, v_creador, v_admin (the actor's role), v_actor (name).
        -- The lock is a transaction-scoped advisory lock keyed on the conversation, not its row:
        -- sends lock the sender's participant row and then touch the conversation row (the
        -- message's foreign key, the last-message columns), so a membership change holding the
        -- conversation row while deleting a participant row would deadlock with them. Taken
        -- this way every writer goes participant row first, conversation row last.
        ['{cabecera}', 'PERFORM pg_advisory_xact_lock(hashtextextended(''weigence_grupo|'' || v_conv::text, 0));
                SELECT c.es_grupal, c.creado_por INTO v_grupal, v_creador FROM {s}.{conv} c WHERE c.id = v_conv;
                IF NOT FOUND THEN
                    RETURN jsonb_build_object(''error'', ''no_existe'');
                END IF;
                SELECT p.es_admin INTO v_admin FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor LIMIT 1;
                IF NOT FOUND THEN
                    RETURN jsonb_build_object(''error'', ''sin_acceso'');
                END IF;
                IF NOT coalesce(v_grupal, false) THEN
                    RETURN jsonb_build_object(''error'', ''no_grupo'');
                END IF;
                v_actor := coalesce((SELECT {usuario_nombre} FROM {s}.usuarios u WHERE u.rut_usuario = p_actor), p_actor);'],
        -- Current members' ruts in join order.
        ['{miembros}', '(SELECT coalesce(jsonb_agg(p.usuario_id ORDER BY p.fecha_union, p.usuario_id), ''[]'') FROM {s}.{part} p WHERE p.conversacion_id = v_conv)'],
        -- The pinned messages of v_conv in pin order, deleted ones skipped.
        ['{fijados}', '(SELECT coalesce(jsonb_agg({mensaje_json} ORDER BY f.fecha_creacion, f.id), ''[]'')
                  FROM {s}.{fij} f JOIN {s}.{msg} m ON m.id = f.mensaje_id AND m.conversacion_id = f.conversacion_id
                 WHERE f.conversacion_id = v_conv AND NOT {eliminado_m})'],
        -- A message json: the row (without the client's idempotency key) and its author.
        ['{mensaje_json}', '((to_jsonb(m) - ''client_id'') || jsonb_build_object(''usuarios'', (SELECT {usuario_json} FROM {s}.usuarios u WHERE u.rut_usuario = m.usuario_id)))'],
        -- v2's single pin = the newest pin.
        ['{fijado_v2}', CASE WHEN 'mensaje_fijado_id' = ANY (cols_conv) THEN
            'UPDATE {s}.{conv} c SET mensaje_fijado_id = (SELECT f.mensaje_id FROM {s}.{fij} f JOIN {s}.{msg} m ON m.id = f.mensaje_id
                   WHERE f.conversacion_id = v_conv AND NOT {eliminado_m} ORDER BY f.fecha_creacion DESC, f.id DESC LIMIT 1)
                 WHERE c.id = v_conv;' ELSE '' END],
        -- The members of v_conv with where their read (lf, li) and delivered (ef, ei) markers
        -- stand: (fecha_envio, id) of the marker's message for id markers, the timestamp itself
        -- for timestamp markers (as the unread count decides). "At/after" message m compares them.
        ['{marcas_miembros}', CASE WHEN marca_es_fecha THEN
            'SELECT p.usuario_id, p.fecha_union, p.ultimo_mensaje_leido AS lf, p.ultimo_mensaje_entregado AS ef
               FROM {s}.{part} p WHERE p.conversacion_id = v_conv'
            ELSE 'SELECT p.usuario_id, p.fecha_union, rl.fecha_envio AS lf, rl.id AS li, re.fecha_envio AS ef, re.id AS ei
               FROM {s}.{part} p LEFT JOIN {s}.{msg} rl ON rl.id = p.ultimo_mensaje_leido
               LEFT JOIN {s}.{msg} re ON re.id = p.ultimo_mensaje_entregado WHERE p.conversacion_id = v_conv' END],
        ['{leido_cubre_m}', CASE WHEN marca_es_fecha THEN 'coalesce(x.lf >= m.fecha_envio, false)'
            ELSE 'coalesce((x.lf, x.li) >= (m.fecha_envio, m.id), false)' END],
        ['{entregado_cubre_m}', CASE WHEN marca_es_fecha THEN 'coalesce(x.ef >= m.fecha_envio, false)'
            ELSE 'coalesce((x.ef, x.ei) >= (m.fecha_envio, m.id), false)' END],
        -- Message o (v_oid, v_ofecha) is after member p's delivered marker (a missing marker is before everything).
        ['{o_despues_de_entregado}', CASE WHEN marca_es_fecha THEN '(v_ofecha > p.ultimo_mensaje_entregado) IS NOT FALSE'
            ELSE '((v_ofecha, v_oid) > (SELECT r.fecha_envio, r.id FROM {s}.{msg} r WHERE r.id = p.ultimo_mensaje_entregado)) IS NOT FALSE' END],
        -- The marker value for message o, and the message a delivered marker stands at.
        ['{valor_o}', CASE WHEN marca_es_fecha THEN 'v_ofecha' ELSE 'v_oid' END],
        ['{columna_o}', CASE WHEN marca_es_fecha THEN 'o.fecha_envio' ELSE 'o.id' END],
        ['{mensaje_de_entregado}', CASE WHEN marca_es_fecha THEN
            '(SELECT m.id FROM {s}.{part} p JOIN {s}.{msg} m ON m.conversacion_id = p.conversacion_id AND m.fecha_envio <= p.ultimo_mensaje_entregado
               WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor ORDER BY m.fecha_envio DESC, m.id DESC LIMIT 1)'
            ELSE '(SELECT p.ultimo_mensaje_entregado FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor LIMIT 1)' END],
        ['{toque}', CASE WHEN toque IS NULL THEN '' ELSE 'UPDATE {s}.{conv} c SET ' || toque || ' WHERE c.id = v_conv;' END],
        ['{cols_extra}', concat(CASE WHEN 'editado' = ANY (cols_msg) THEN ', editado' END,
                                CASE WHEN 'eliminado' = ANY (cols_msg) THEN ', eliminado' END)],
        ['{vals_extra}', concat(CASE WHEN 'editado' = ANY (cols_msg) THEN ', false' END,
                                CASE WHEN 'eliminado' = ANY (cols_msg) THEN ', false' END)],
        ['{marcar_editado}', CASE WHEN 'editado' = ANY (cols_msg) THEN ', editado = true' ELSE '' END],
        ['{eliminado_m}', CASE WHEN 'eliminado' = ANY (cols_msg) THEN 'coalesce(m.eliminado, false)' ELSE 'false' END],
        ['{usuario_json}', format('jsonb_build_object(''rut_usuario'', u.rut_usuario, ''nombre'', %s, ''correo'', %s, ''rol'', %s)',
            CASE WHEN 'nombre' = ANY (cols_usr) THEN 'u.nombre' ELSE 'NULL' END,
            CASE WHEN 'correo' = ANY (cols_usr) THEN 'u.correo' ELSE 'NULL' END,
            CASE WHEN 'rol' = ANY (cols_usr) THEN 'u.rol' ELSE 'NULL' END)],
        ['{usuario_nombre}', CASE WHEN 'nombre' = ANY (cols_usr) THEN 'coalesce(u.nombre::text, u.rut_usuario::text)' ELSE 'u.rut_usuario::text' END],
        ['{nombre_o_nulo}', CASE WHEN 'nombre' = ANY (cols_usr) THEN 'u.nombre' ELSE 'NULL::text' END],
        ['{conv_id}', format('CASE WHEN p_conv ~ %L THEN p_conv::%s END', forma_id ->> tipo_conv, tipo_conv)],
        ['{mensaje_id}', format('CASE WHEN p_mensaje ~ %L THEN p_mensaje::%s END', forma_id ->> tipo_msg, tipo_msg)],
        ['{id_de_x}', format('CASE WHEN x.id ~ %L THEN x.id::%s END', forma_id ->> tipo_msg, tipo_msg)],
        ['{s}', quote_ident(esquema)],
        ['{conv}', quote_ident(t.conv)],
        ['{part}', quote_ident(t.part)],
        ['{msg}', quote_ident(t.msg)],
        ['{reac}', quote_ident(t.reac)],
        ['{fij}', quote_ident(t.fij)],
        ['{cid}', tipo_conv],
        ['{mid}', tipo_msg],
        ['{marca}', tipo_marca],
        ['{fecha}', tipo_fecha]];
    IF forma_id ->> tipo_conv IS NULL OR forma_id ->> tipo_msg IS NULL THEN
        RAISE EXCEPTION 'sql/grupos.sql: unsupported id types % / %', tipo_conv, tipo_msg;
    END IF;

    FOREACH plantilla IN ARRAY ARRAY[
$f$
-- Creates a group: the creator (admin) and the distinct other members in the given order.
CREATE OR REPLACE FUNCTION {s}.weigence_grupo_crear(p_creador text, p_nombre text, p_miembros text[])
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_conv {cid};
    v_autor text := p_creador;
    v_actor text;
    v_miembros text[];
    v_falta text;
    v_ahora timestamptz := clock_timestamp();
    v_texto text;
    v_mid {mid};
    v_fecha {fecha};
    v_mensaje jsonb;
BEGIN
    SELECT {usuario_nombre} INTO v_actor FROM {s}.usuarios u WHERE u.rut_usuario = p_creador;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'usuario_no_encontrado', 'usuario', p_creador);
    END IF;
    SELECT coalesce(array_agg(x.rut ORDER BY x.n), '{}') INTO v_miembros
      FROM (SELECT DISTINCT ON (y.rut) y.rut, y.n FROM unnest(p_miembros) WITH ORDINALITY y(rut, n)
             WHERE y.rut IS NOT NULL AND y.rut <> p_creador ORDER BY y.rut, y.n) x;
    SELECT x.rut INTO v_falta FROM unnest(v_miembros) WITH ORDINALITY x(rut, n)
     WHERE NOT EXISTS (SELECT 1 FROM {s}.usuarios u WHERE u.rut_usuario = x.rut) ORDER BY x.n LIMIT 1;
    IF FOUND THEN
        RETURN jsonb_build_object('error', 'usuario_no_encontrado', 'usuario', v_falta);
    END IF;
    INSERT INTO {s}.{conv} AS c (nombre, es_grupal, creado_por, fecha_creacion)
    VALUES (p_nombre, true, p_creador, now()) RETURNING c.id INTO v_conv;
    -- Join order = the order given (one microsecond apart), the creator first.
    INSERT INTO {s}.{part} (conversacion_id, usuario_id, es_admin, fecha_union)
    SELECT v_conv, x.rut, x.n = 1, v_ahora + (x.n - 1) * interval '1 microsecond'
      FROM unnest(array_prepend(p_creador, v_miembros)) WITH ORDINALITY x(rut, n);
    v_texto := format('%s creó el grupo «%s»', v_actor, p_nombre);
    {sistema}
    RETURN jsonb_build_object('conversacion_id', v_conv, 'mensaje', v_mensaje, 'miembros', {miembros});
END
$cuerpo$
$f$,
$f$
-- Renames a group (admins only).
CREATE OR REPLACE FUNCTION {s}.weigence_grupo_renombrar(p_conv text, p_actor text, p_nombre text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    {variables_cambio}
BEGIN
    {cabecera}
    {solo_admin}
    UPDATE {s}.{conv} c SET nombre = p_nombre WHERE c.id = v_conv;
    v_texto := format('%s cambió el nombre del grupo a «%s»', v_actor, p_nombre);
    {sistema}
    RETURN jsonb_build_object('mensaje', v_mensaje, 'miembros', {miembros});
END
$cuerpo$
$f$,
$f$
-- Adds a member (admins only); their read and delivered markers start at the newest message.
CREATE OR REPLACE FUNCTION {s}.weigence_grupo_agregar(p_conv text, p_actor text, p_usuario text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    {variables_cambio}
    v_marca {marca};
BEGIN
    {cabecera}
    {solo_admin}
    SELECT {usuario_nombre} INTO v_nombre FROM {s}.usuarios u WHERE u.rut_usuario = p_usuario;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'usuario_no_encontrado', 'usuario', p_usuario);
    END IF;
    IF EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_usuario) THEN
        RETURN jsonb_build_object('error', 'ya_miembro');
    END IF;
    SELECT {columna_o} INTO v_marca FROM {s}.{msg} o WHERE o.conversacion_id = v_conv
     ORDER BY o.fecha_envio DESC, o.id DESC LIMIT 1;
    INSERT INTO {s}.{part} (conversacion_id, usuario_id, es_admin, fecha_union, ultimo_mensaje_leido, ultimo_mensaje_entregado)
    VALUES (v_conv, p_usuario, false, clock_timestamp(), v_marca, v_marca);
    v_texto := format('%s agregó a %s', v_actor, v_nombre);
    {sistema}
    RETURN jsonb_build_object('mensaje', v_mensaje, 'miembros', {miembros});
END
$cuerpo$
$f$,
$f$
-- Removes a member (admins; the creator only by itself) or, with p_usuario = p_actor, leaves.
-- With no admin left, the earliest-joined remaining member becomes one.
CREATE OR REPLACE FUNCTION {s}.weigence_grupo_quitar(p_conv text, p_actor text, p_usuario text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    {variables_cambio}
    v_nuevo_admin text;
BEGIN
    {cabecera}
    IF p_usuario IS DISTINCT FROM p_actor THEN
        IF NOT v_admin THEN
            RETURN jsonb_build_object('error', 'no_admin');
        END IF;
        IF NOT EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_usuario) THEN
            RETURN jsonb_build_object('error', 'no_miembro');
        END IF;
        IF p_usuario = v_creador THEN
            RETURN jsonb_build_object('error', 'es_creador');
        END IF;
        v_nombre := coalesce((SELECT {usuario_nombre} FROM {s}.usuarios u WHERE u.rut_usuario = p_usuario), p_usuario);
        v_texto := format('%s quitó a %s', v_actor, v_nombre);
    ELSE
        v_texto := format('%s salió del grupo', v_actor);
    END IF;
    DELETE FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_usuario;
    IF NOT EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.es_admin) THEN
        v_nuevo_admin := (SELECT p.usuario_id FROM {s}.{part} p WHERE p.conversacion_id = v_conv
                           ORDER BY p.fecha_union, p.usuario_id LIMIT 1);
        UPDATE {s}.{part} p SET es_admin = true WHERE p.conversacion_id = v_conv AND p.usuario_id = v_nuevo_admin;
    END IF;
    {sistema}
    RETURN jsonb_build_object('mensaje', v_mensaje, 'miembros', {miembros}, 'nuevo_admin', v_nuevo_admin);
END
$cuerpo$
$f$,
$f$
-- Grants or takes the admin role (admins only; the creator cannot be demoted by others). When
-- the last admin demotes itself, the earliest-joined other member takes the role.
CREATE OR REPLACE FUNCTION {s}.weigence_grupo_admin(p_conv text, p_actor text, p_usuario text, p_admin boolean)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    {variables_cambio}
BEGIN
    IF p_admin IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_admin must not be null';
    END IF;
    {cabecera}
    {solo_admin}
    IF NOT EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_usuario) THEN
        RETURN jsonb_build_object('error', 'no_miembro');
    END IF;
    IF NOT p_admin AND p_usuario = v_creador AND p_usuario <> p_actor THEN
        RETURN jsonb_build_object('error', 'es_creador');
    END IF;
    UPDATE {s}.{part} p SET es_admin = p_admin WHERE p.conversacion_id = v_conv AND p.usuario_id = p_usuario;
    IF NOT EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.es_admin) THEN
        UPDATE {s}.{part} p SET es_admin = true WHERE p.conversacion_id = v_conv
           AND p.usuario_id = coalesce((SELECT o.usuario_id FROM {s}.{part} o WHERE o.conversacion_id = v_conv
                                          AND o.usuario_id <> p_usuario ORDER BY o.fecha_union, o.usuario_id LIMIT 1), p_usuario);
    END IF;
    v_nombre := coalesce((SELECT {usuario_nombre} FROM {s}.usuarios u WHERE u.rut_usuario = p_usuario), p_usuario);
    IF p_admin THEN
        v_texto := format('%s hizo administrador a %s', v_actor, v_nombre);
    ELSE
        v_texto := format('%s quitó el rol de administrador a %s', v_actor, v_nombre);
    END IF;
    {sistema}
    RETURN jsonb_build_object('mensaje', v_mensaje, 'miembros', {miembros});
END
$cuerpo$
$f$,
$f$
-- A conversation's name, kind, creator and members (with their role) in join order; members only.
CREATE OR REPLACE FUNCTION {s}.weigence_grupo(p_conv text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_conv {cid} := {conv_id};
    v_nombre text;
    v_grupal boolean;
    v_creador text;
BEGIN
    SELECT c.nombre, c.es_grupal, c.creado_por INTO v_nombre, v_grupal, v_creador
      FROM {s}.{conv} c WHERE c.id = v_conv;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'no_existe');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor) THEN
        RETURN jsonb_build_object('error', 'sin_acceso');
    END IF;
    RETURN jsonb_build_object('conversacion_id', v_conv, 'nombre', v_nombre, 'es_grupal', coalesce(v_grupal, false),
        'creado_por', v_creador, 'miembros',
        (SELECT coalesce(jsonb_agg(jsonb_build_object('usuario_id', p.usuario_id, 'nombre', {nombre_o_nulo}, 'es_admin', p.es_admin)
                                   ORDER BY p.fecha_union, p.usuario_id), '[]')
           FROM {s}.{part} p LEFT JOIN {s}.usuarios u ON u.rut_usuario = p.usuario_id
          WHERE p.conversacion_id = v_conv));
END
$cuerpo$
$f$,
$f$
-- Edits a message: its author, a member, not a system message, within p_ventana seconds.
CREATE OR REPLACE FUNCTION {s}.weigence_editar(p_mensaje text, p_actor text, p_contenido text, p_ventana int)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_id {mid} := {mensaje_id};
    v_conv {cid};
    v_autor text;
    v_tipo text;
    v_fecha {fecha};
    v_mensaje jsonb;
BEGIN
    -- Concurrent edits of one message serialize here; the last one wins.
    SELECT m.conversacion_id, m.usuario_id, m.tipo, m.fecha_envio INTO v_conv, v_autor, v_tipo, v_fecha
      FROM {s}.{msg} m WHERE m.id = v_id AND NOT {eliminado_m} FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'no_existe');
    END IF;
    -- A removal committed before this point refuses the edit; one waiting on it waits for the edit.
    PERFORM 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor LIMIT 1 FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'sin_acceso');
    END IF;
    IF v_autor IS DISTINCT FROM p_actor THEN
        RETURN jsonb_build_object('error', 'no_autor');
    END IF;
    IF v_tipo = 'sistema' THEN
        RETURN jsonb_build_object('error', 'no_editable');
    END IF;
    IF p_ventana IS NOT NULL AND now() - v_fecha::timestamptz > make_interval(secs => p_ventana) THEN
        RETURN jsonb_build_object('error', 'fuera_de_plazo');
    END IF;
    UPDATE {s}.{msg} m SET contenido = p_contenido{marcar_editado} WHERE m.id = v_id
    RETURNING {mensaje_json} INTO v_mensaje;
    -- As the history shows it: with its reactions and the quote of the message it replies to.
    v_mensaje := v_mensaje || jsonb_build_object(
        'reacciones', (SELECT coalesce(jsonb_agg(jsonb_build_object('usuario_id', x.usuario_id, 'emoji', x.emoji)
                                                 ORDER BY x.fecha_creacion, x.id), '[]')
                         FROM {s}.{reac} x WHERE x.mensaje_id = v_id),
        'cita', (SELECT jsonb_build_object('contenido', m.contenido, 'usuario_id', m.usuario_id,
                                           'nombre', (SELECT {usuario_nombre} FROM {s}.usuarios u WHERE u.rut_usuario = m.usuario_id))
                   FROM {s}.{msg} m WHERE m.id::text = v_mensaje ->> 'reply_to' AND m.conversacion_id = v_conv
                    AND NOT {eliminado_m}));
    RETURN jsonb_build_object('mensaje', v_mensaje);
END
$cuerpo$
$f$,
$f$
-- Reacts to a message (members): 'alternar' toggles p_emoji, 'reemplazar' leaves the actor only
-- p_emoji (v2's one reaction per user), 'quitar' removes all of the actor's reactions.
CREATE OR REPLACE FUNCTION {s}.weigence_reaccion(p_mensaje text, p_actor text, p_emoji text, p_modo text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_id {mid} := {mensaje_id};
    v_conv {cid};
    v_puesta boolean;
BEGIN
    IF p_modo IS NULL OR p_modo NOT IN ('alternar', 'reemplazar', 'quitar') THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_modo must be alternar, reemplazar or quitar';
    END IF;
    IF p_emoji IS NULL AND p_modo <> 'quitar' THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_emoji must not be null';
    END IF;
    SELECT m.conversacion_id INTO v_conv FROM {s}.{msg} m WHERE m.id = v_id AND NOT {eliminado_m};
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'no_existe');
    END IF;
    PERFORM 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor LIMIT 1 FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'sin_acceso');
    END IF;
    -- One change at a time per user and message: two concurrent replaces would otherwise each
    -- delete the other's old row and both insert (two reactions where v2 allows one).
    PERFORM pg_advisory_xact_lock(hashtextextended('weigence_reaccion|' || v_id::text || '|' || p_actor, 0));
    IF p_modo = 'alternar' THEN
        DELETE FROM {s}.{reac} r WHERE r.mensaje_id = v_id AND r.usuario_id = p_actor AND r.emoji = p_emoji;
        v_puesta := NOT FOUND;
    ELSE
        DELETE FROM {s}.{reac} r WHERE r.mensaje_id = v_id AND r.usuario_id = p_actor
           AND (p_modo = 'quitar' OR r.emoji <> p_emoji);
        v_puesta := p_modo = 'reemplazar';
    END IF;
    IF v_puesta THEN
        INSERT INTO {s}.{reac} (mensaje_id, usuario_id, emoji, fecha_creacion)
        VALUES (v_id, p_actor, p_emoji, clock_timestamp()) ON CONFLICT DO NOTHING;
    END IF;
    RETURN jsonb_build_object('conversacion_id', v_conv, 'puesta', v_puesta, 'reacciones',
        (SELECT coalesce(jsonb_agg(jsonb_build_object('usuario_id', r.usuario_id, 'emoji', r.emoji)
                                   ORDER BY r.fecha_creacion, r.id), '[]')
           FROM {s}.{reac} r WHERE r.mensaje_id = v_id));
END
$cuerpo$
$f$,
$f$
-- Pins (at most 20 per conversation; pinning a pinned message changes nothing) or unpins a
-- message (members).
CREATE OR REPLACE FUNCTION {s}.weigence_fijar(p_mensaje text, p_actor text, p_fijar boolean)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_id {mid} := {mensaje_id};
    v_conv {cid};
    v_cambio boolean;
BEGIN
    IF p_fijar IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'p_fijar must not be null';
    END IF;
    SELECT m.conversacion_id INTO v_conv FROM {s}.{msg} m WHERE m.id = v_id AND NOT {eliminado_m};
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'no_existe');
    END IF;
    -- The actor's participant row (a removal waits for the pin, or the pin sees the removal),
    -- then the conversation row: pins of one conversation serialize there, so the cap holds.
    PERFORM 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor LIMIT 1 FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'sin_acceso');
    END IF;
    PERFORM 1 FROM {s}.{conv} c WHERE c.id = v_conv FOR NO KEY UPDATE;
    IF NOT p_fijar THEN
        DELETE FROM {s}.{fij} f WHERE f.conversacion_id = v_conv AND f.mensaje_id = v_id;
        v_cambio := FOUND;
    ELSIF EXISTS (SELECT 1 FROM {s}.{fij} f WHERE f.conversacion_id = v_conv AND f.mensaje_id = v_id) THEN
        v_cambio := false;
    ELSIF (SELECT count(*) FROM {s}.{fij} f JOIN {s}.{msg} m ON m.id = f.mensaje_id
            WHERE f.conversacion_id = v_conv AND NOT {eliminado_m}) >= 20 THEN
        RETURN jsonb_build_object('error', 'demasiados');
    ELSE
        INSERT INTO {s}.{fij} (conversacion_id, mensaje_id, usuario_id, fecha_creacion)
        VALUES (v_conv, v_id, p_actor, clock_timestamp());
        v_cambio := true;
    END IF;
    IF v_cambio THEN
        {fijado_v2}
    END IF;
    RETURN jsonb_build_object('conversacion_id', v_conv, 'cambio', v_cambio, 'fijados', {fijados});
END
$cuerpo$
$f$,
$f$
-- A conversation's pinned messages in pin order (members only).
CREATE OR REPLACE FUNCTION {s}.weigence_fijados(p_conv text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_conv {cid} := {conv_id};
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {s}.{conv} c WHERE c.id = v_conv) THEN
        RETURN jsonb_build_object('error', 'no_existe');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor) THEN
        RETURN jsonb_build_object('error', 'sin_acceso');
    END IF;
    RETURN jsonb_build_object('fijados', {fijados});
END
$cuerpo$
$f$,
$f$
-- Moves the actor's delivered marker forward to message p_hasta of the conversation (null: the
-- newest), never backwards. "ultimo": the message the marker stands at afterwards.
CREATE OR REPLACE FUNCTION {s}.weigence_marcar_entregado(p_conv text, p_actor text, p_hasta text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_conv {cid} := {conv_id};
    v_oid {mid};
    v_ofecha {fecha};
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {s}.{conv} c WHERE c.id = v_conv) THEN
        RETURN jsonb_build_object('error', 'no_existe');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM {s}.{part} p WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor) THEN
        RETURN jsonb_build_object('error', 'sin_acceso');
    END IF;
    IF p_hasta IS NULL THEN
        SELECT o.id, o.fecha_envio INTO v_oid, v_ofecha FROM {s}.{msg} o WHERE o.conversacion_id = v_conv
         ORDER BY o.fecha_envio DESC, o.id DESC LIMIT 1;
    ELSE
        SELECT o.id, o.fecha_envio INTO v_oid, v_ofecha FROM {s}.{msg} o
         WHERE o.conversacion_id = v_conv AND o.id = (SELECT {id_de_x} FROM (SELECT p_hasta AS id) x);
        IF NOT FOUND THEN
            RETURN jsonb_build_object('error', 'no_existe');
        END IF;
    END IF;
    IF v_oid IS NOT NULL THEN
        UPDATE {s}.{part} p SET ultimo_mensaje_entregado = {valor_o}
         WHERE p.conversacion_id = v_conv AND p.usuario_id = p_actor AND {o_despues_de_entregado};
        IF FOUND THEN
            RETURN jsonb_build_object('ultimo', v_oid, 'movido', true);
        END IF;
    END IF;
    RETURN jsonb_build_object('ultimo', {mensaje_de_entregado}, 'movido', false);
END
$cuerpo$
$f$,
$f$
-- Delivery state of messages p_ids of a conversation (the caller checks membership): recipients
-- are the current members but the author; delivered = delivered or read marker at/after the
-- message; read = read marker at/after it. Ids of other conversations are left out.
CREATE OR REPLACE FUNCTION {s}.weigence_entregas(p_conv text, p_ids text[])
RETURNS jsonb LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = '' AS $cuerpo$
DECLARE
    v_conv {cid} := {conv_id};
BEGIN
    -- Each member's markers are looked up once, not once per message.
    RETURN (WITH miembros AS MATERIALIZED ({marcas_miembros})
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                'mensaje_id', m.id,
                'destinatarios', (SELECT count(*) FROM miembros x WHERE x.usuario_id <> m.usuario_id),
                'entregado_a', (SELECT coalesce(jsonb_agg(x.usuario_id ORDER BY x.fecha_union, x.usuario_id), '[]')
                                  FROM miembros x WHERE x.usuario_id <> m.usuario_id
                                   AND ({entregado_cubre_m} OR {leido_cubre_m})),
                'leido_por', (SELECT coalesce(jsonb_agg(x.usuario_id ORDER BY x.fecha_union, x.usuario_id), '[]')
                                FROM miembros x WHERE x.usuario_id <> m.usuario_id AND {leido_cubre_m}))
                ORDER BY pedido.n), '[]')
              FROM unnest(p_ids) WITH ORDINALITY pedido(id, n)
              JOIN {s}.{msg} m ON m.id = (SELECT {id_de_x} FROM (SELECT pedido.id) x(id)) AND m.conversacion_id = v_conv);
END
$cuerpo$
$f$]
    LOOP
        sql := plantilla;
        FOR i IN 1 .. array_length(relleno, 1) LOOP
            sql := replace(sql, relleno[i][1], relleno[i][2]);
        END LOOP;
        EXECUTE sql;
    END LOOP;

    FOREACH firma IN ARRAY ARRAY[
        'weigence_grupo_crear(text, text, text[])', 'weigence_grupo_renombrar(text, text, text)',
        'weigence_grupo_agregar(text, text, text)', 'weigence_grupo_quitar(text, text, text)',
        'weigence_grupo_admin(text, text, text, boolean)', 'weigence_grupo(text, text)',
        'weigence_editar(text, text, text, integer)', 'weigence_reaccion(text, text, text, text)',
        'weigence_fijar(text, text, boolean)', 'weigence_fijados(text, text)',
        'weigence_marcar_entregado(text, text, text)', 'weigence_entregas(text, text[])']
    LOOP
        firma := quote_ident(esquema) || '.' || firma;
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
END
$funciones$;

-- PostgREST reads functions from its schema cache: tell it to reload.
NOTIFY pgrst, 'reload schema';
