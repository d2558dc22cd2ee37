"""Placements: a span of a child's education at one setting, and what people do with one.

`use_cases` is the one way in for every channel (pages, the API, imports, the CLI): each use
case takes the actor and a typed request, and owns the permission, the rules, the audit record
and the transaction of what it does. The rules themselves are in `ap_register.domain.register`.
"""
