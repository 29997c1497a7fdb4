"""Auth use cases: one handler per command, working through ports (repositories, unit of work, hashing).

The concrete SQLAlchemy unit of work lives in ``auth_service.adapters`` so this layer imports no framework.
"""
