"""Admin console: users and their types, rep restrictions with history, the transaction log."""
