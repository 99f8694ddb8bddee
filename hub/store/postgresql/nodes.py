"""Nodes, tokens (hashes only) and join codes on PostgreSQL."""
from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from ..interface import NodeRow, NodeStore, Redeemed, TokenMatch, TokenRow, join_code_refusal, suffixed_node_id
from .peers import changes

_NODE = "SELECT id, name, identity, first_seen, last_seen, latest FROM nodes"

_PUT_TOKEN = """
INSERT INTO tokens (node_id, token_hash, created_at) VALUES (%s, %s, %s)
ON CONFLICT (node_id) DO UPDATE SET token_hash = excluded.token_hash,
  created_at = excluded.created_at, last_used = NULL, revoked_at = NULL"""


def _node(r: tuple) -> NodeRow:
    return NodeRow(id=r[0], name=r[1], identity=r[2] or {}, first_seen=r[3], last_seen=r[4], latest=r[5])


class PgNodeStore(NodeStore):
    def __init__(self, pool: AsyncConnectionPool, hub_id: str):
        self.pool = pool
        self.hub_id = hub_id

    async def nodes(self) -> list[NodeRow]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(_NODE + " ORDER BY id")
            return [_node(r) for r in await cur.fetchall()]

    async def node(self, node_id: str) -> NodeRow | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(_NODE + " WHERE id = %s", (node_id,))
            r = await cur.fetchone()
        return _node(r) if r else None

    async def put_token(self, node_id: str, *, token_hash: str, now: float) -> None:
        async with changes(self.pool, self.hub_id) as (conn, out):
            await conn.execute(_PUT_TOKEN, (node_id, token_hash, now))
            out.news("tokens")

    async def token_node(self, token_hash: str) -> TokenMatch | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT node_id, token_hash FROM tokens WHERE token_hash = %s "
                                     "AND revoked_at IS NULL", (token_hash,))
            r = await cur.fetchone()
        return TokenMatch(node_id=r[0], token_hash=r[1]) if r else None

    async def touch_tokens(self, uses: dict[str, float]) -> None:
        async with self.pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany("UPDATE tokens SET last_used = %s WHERE node_id = %s",
                                  [(at, node_id) for node_id, at in uses.items()])

    async def list_tokens(self) -> list[TokenRow]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT node_id, created_at, last_used, revoked_at FROM tokens ORDER BY node_id")
            return [TokenRow(node_id=r[0], created_at=r[1], last_used=r[2], revoked=r[3] is not None)
                    for r in await cur.fetchall()]

    async def revoke_token(self, node_id: str, now: float) -> bool:
        """Other hubs hear of it (CHANNEL_NEWS) and drop the token from their caches."""
        async with changes(self.pool, self.hub_id) as (conn, out):
            cur = await conn.execute("UPDATE tokens SET revoked_at = %s WHERE node_id = %s AND revoked_at IS NULL",
                                     (now, node_id))
            if cur.rowcount:
                out.news("tokens")
            return cur.rowcount > 0

    async def put_join_code(self, code_hash: str, *, now: float, expires_at: float) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("INSERT INTO join_codes (code_hash, created_at, expires_at) VALUES (%s, %s, %s)",
                               (code_hash, now, expires_at))

    async def redeem_join_code(self, code_hash: str, *, node_id: str, token_hash: str,
                               now: float) -> Redeemed:
        """The code's row is locked (FOR UPDATE) for the transaction, so two hubs redeeming
        the same code at once cannot both succeed."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("SELECT expires_at, used_at FROM join_codes WHERE code_hash = %s FOR UPDATE",
                                     (code_hash,))
            refused = join_code_refusal(await cur.fetchone(), node_id, now)
            if refused:
                return refused
            asked, n = node_id, 1
            while True:
                cur = await conn.execute("SELECT 1 FROM tokens WHERE node_id = %s AND revoked_at IS NULL", (node_id,))
                if await cur.fetchone() is None:
                    break
                n += 1
                node_id = suffixed_node_id(asked, n)
            await conn.execute("UPDATE join_codes SET used_at = %s, used_by = %s WHERE code_hash = %s",
                               (now, node_id, code_hash))
            await conn.execute(_PUT_TOKEN, (node_id, token_hash, now))
            return Redeemed("ok", node_id)
