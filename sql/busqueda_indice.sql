-- The message search index (additive, optional), built without blocking writes. Needs
-- sql/busqueda.sql first (weigence_unaccent). Run by `scripts/migrate` with psql in autocommit
-- mode: CREATE INDEX CONCURRENTLY cannot run inside a transaction (nor a DO block), so psql's
-- \gexec runs the statement generated for whichever table variant exists. The expression must
-- stay identical to the one the server searches with (src/store/postgres.rs, `vector_busqueda`).
SELECT format(
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I USING gin '
    '(to_tsvector(''spanish''::regconfig, weigence_unaccent(coalesce(contenido, ''''))))',
    t || '_busqueda_idx', t)
  FROM unnest(ARRAY['chat_mensajes', 'mensajes_chat']) t
 WHERE to_regclass(t) IS NOT NULL
\gexec
