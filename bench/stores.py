"""The benchmark drivers' own database and Redis database, on the stack's servers."""

from urllib.parse import urlsplit, urlunsplit


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def reset_stores(database_url: str, redis_url: str, database: str) -> None:
    """Drop and recreate `database` on the server of `database_url`, and empty the Redis
    database of `redis_url`."""
    import psycopg
    import redis
    from psycopg import sql

    with psycopg.connect(with_path(database_url, "/postgres"), autocommit=True) as conn:
        name = sql.Identifier(database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    redis.Redis.from_url(redis_url).flushdb()
