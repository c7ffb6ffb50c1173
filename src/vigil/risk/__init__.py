"""Sign-in and user risk with Entra ID Protection's lifecycle, admin actions, and vendor risk import."""
