-- whimbrel:up
INSERT INTO users (email, name, inserted_at, updated_at)
VALUES ('admin@example.com', 'Admin', '2026-11-22 09:03:00', '2026-11-22 09:03:00');

-- whimbrel:down
DELETE FROM users WHERE email = 'admin@example.com';
