-- Message search for the PostgREST store (optional): the same search the PostgreSQL store runs
-- (src/store/postgres.rs, Consultas::buscar), as a function PostgREST exposes at
-- POST /rpc/weigence_buscar_mensajes. Needs sql/busqueda.sql (weigence_unaccent); uses the index
-- of sql/busqueda_indice.sql when present (same expression). Detects the table variant.
-- Results: only conversations p_rut participates in now, never deleted messages, best first;
-- the excerpt marks matched words with U+E000 / U+E001. Called by the server with its own key,
-- never by browsers (it trusts p_rut; EXECUTE only for service_role, below).
CREATE OR REPLACE FUNCTION weigence_buscar_mensajes(
    p_rut text, p_q text, p_conversacion text DEFAULT NULL,
    p_desde bigint DEFAULT 0, p_limite bigint DEFAULT 21)
RETURNS TABLE (mensaje_id text, conversacion_id text, usuario_id text, usuario_nombre text,
               fecha_envio text, rango float8, fragmento text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    part text;
    msg text;
    elim text;
BEGIN
    IF to_regclass('chat_mensajes') IS NOT NULL THEN
        part := 'chat_participantes'; msg := 'chat_mensajes';
    ELSE
        part := 'participantes_chat'; msg := 'mensajes_chat';
    END IF;
    elim := CASE WHEN EXISTS (SELECT 1 FROM information_schema.columns
                              WHERE table_schema = current_schema() AND table_name = msg
                                AND column_name = 'eliminado')
                 THEN 'coalesce(m.eliminado, false)' ELSE 'false' END;
    RETURN QUERY EXECUTE format(
        'SELECT m.id::text, m.conversacion_id::text, m.usuario_id::text, u.nombre::text,
                to_json(m.fecha_envio) #>> ''{}'',
                ts_rank(to_tsvector(''spanish''::regconfig, weigence_unaccent(coalesce(m.contenido, ''''))), q.q)::float8 AS rango,
                ts_headline(''spanish''::regconfig, coalesce(m.contenido::text, ''''), q.q,
                            ''StartSel=%s, StopSel=%s, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "'')
           FROM (SELECT websearch_to_tsquery(''spanish''::regconfig, weigence_unaccent($2)) AS q) q
           JOIN %I p ON p.usuario_id = $1 AND ($3 IS NULL OR p.conversacion_id::text = $3)
           JOIN %I m ON m.conversacion_id = p.conversacion_id
           LEFT JOIN usuarios u ON u.rut_usuario = m.usuario_id
          WHERE NOT %s
            AND to_tsvector(''spanish''::regconfig, weigence_unaccent(coalesce(m.contenido, ''''))) @@ q.q
          ORDER BY rango DESC, m.fecha_envio DESC, m.id DESC OFFSET $4 LIMIT $5',
        chr(57344), chr(57345), part, msg, elim)
    USING p_rut, p_q, p_conversacion, p_desde, p_limite;
END $$;

-- It trusts p_rut: only the server's key may call it (anon and authenticated could otherwise read
-- anyone's messages through the API). service_role is granted where that role exists.
DO $$
DECLARE
    rol text;
BEGIN
    REVOKE EXECUTE ON FUNCTION weigence_buscar_mensajes(text, text, text, bigint, bigint) FROM PUBLIC;
    FOREACH rol IN ARRAY ARRAY['anon', 'authenticated'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = rol) THEN
            EXECUTE format('REVOKE EXECUTE ON FUNCTION weigence_buscar_mensajes(text, text, text, bigint, bigint) FROM %I', rol);
        END IF;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT EXECUTE ON FUNCTION weigence_buscar_mensajes(text, text, text, bigint, bigint) TO service_role;
    END IF;
END $$;
