"""Operators: the people who run accueil (admins, marketers, store managers), named by email, and the
console's single sign-on with the retailer's OpenID Connect provider."""
