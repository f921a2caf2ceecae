"""Who is signed in: passwords, sessions, CSRF, roles."""
