-- Demo users for local runs (password for all of them: demo1234). Never applied to a real
-- database by the scripts: only to the private one `scripts/run` creates.
INSERT INTO usuarios (rut_usuario, nombre, correo, rol, password_hash) VALUES
    ('11111111-1', 'Ana Pérez',    'ana@weigence.cl',   'administrador', '$2b$10$tp1PYuLf2TYxDTfc8CK9wurnwV4H0ju/sba0rEZf/fZbgEHWYJOdS'),
    ('22222222-2', 'Bruno Soto',   'bruno@weigence.cl', 'vendedor',      '$2b$10$tp1PYuLf2TYxDTfc8CK9wurnwV4H0ju/sba0rEZf/fZbgEHWYJOdS'),
    ('33333333-3', 'Carla Díaz',   'carla@weigence.cl', 'bodeguero',     '$2b$10$tp1PYuLf2TYxDTfc8CK9wurnwV4H0ju/sba0rEZf/fZbgEHWYJOdS'),
    ('44444444-4', 'Diego Rojas',  'diego@weigence.cl', 'vendedor',      '$2b$10$tp1PYuLf2TYxDTfc8CK9wurnwV4H0ju/sba0rEZf/fZbgEHWYJOdS')
ON CONFLICT (rut_usuario) DO NOTHING;
