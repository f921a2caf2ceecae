"""Acting context: the actor (the signed-in user) and the subject (the account served)."""
