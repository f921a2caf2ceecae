"""HTML pages, one module per domain: home, auth (sign-in), accounts (the rep's picker and the
account page), obo (the on-behalf-of forms), commerce (catalog, cart, checkout, orders), admin."""
