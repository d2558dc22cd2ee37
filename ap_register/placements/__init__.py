"""Placements: the register itself. Pupils (`pupils`), settings (`settings`), placements and the
append-only ledger of movements (`rules`), drafts of a placement in progress (`drafts`), and
transfers of a child's record between LAs (`transfers`); `web` holds the register's pages.

`use_cases` is the one way in for every channel (pages, the API, imports, the CLI): each use
case takes the actor and a typed request, and owns the permission, the rules, the audit record
and the transaction of what it does. The rules themselves are in `ap_register.placements.rules`.
"""
