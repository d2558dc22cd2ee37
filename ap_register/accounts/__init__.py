"""Accounts: the people who use the register and what they did. `users` (accounts, roles, the
organisation each acts for), `two_factor` (the second step at sign-in), `api_tokens` (scripts'
tokens), `audit` (the append-only trail of every view and change of a child's record, and every
administrative change). `web` holds sign-in and the account pages."""
