"""The reference district server (FastAPI + SQLAlchemy Core); needs the ``[server]`` extra."""
