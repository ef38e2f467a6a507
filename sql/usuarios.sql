-- The Weigence users table, as far as the chat reads it. It already exists in every real
-- deployment; this file only creates it for local runs and tests.
CREATE TABLE IF NOT EXISTS usuarios (
    rut_usuario   varchar(20) PRIMARY KEY,       -- the chat's user id everywhere ("12345678-9")
    nombre        varchar(100),
    correo        varchar(150) UNIQUE,
    rol           varchar(30),
    password_hash text,                          -- bcrypt ($2a$/$2b$)
    "Contraseña"  text                           -- legacy plaintext column of old databases
);
