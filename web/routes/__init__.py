"""Routes: sign-in (links, language), the unit's pages, the operator's pages. Each route calls
web.guard.check first."""
