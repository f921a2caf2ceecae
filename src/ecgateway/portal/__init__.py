"""Portal side: the gateway's own database (users, restrictions, sessions, carts, orders, audit)."""
