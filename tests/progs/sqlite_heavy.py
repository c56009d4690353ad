"""sqlite_heavy.py - a heavy recursive SQL query inside a coroutine.

usage: sqlite_heavy.py [rows]   (default 1500000)
sqlite3 runs the query in C (libsqlite3) without a syscall: only samples
can show it.  The CPU-stall test expects native frames in libsqlite3.
"""
import asyncio
import sqlite3
import sys

QUERY = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
         "WHERE x < ?) SELECT sum(x) FROM c")


async def main(rows):
    await asyncio.sleep(0.05)
    con = sqlite3.connect(":memory:")
    total = con.execute(QUERY, (rows,)).fetchone()[0]
    con.close()
    await asyncio.sleep(0.05)
    print("sqlite_heavy:", total)


asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1500000))
