#!/usr/bin/python3
"""Use the quickstart's Dask cluster from your machine (needs the same Dask
version as the image: Debian's python3-distributed).

  compute.py [--tls DIR] run     SCHEDULER WORKERS   a real computation; prints the
                                                    result and how many tasks each
                                                    worker ran
  compute.py [--tls DIR] scatter SCHEDULER WORKER    puts 4 MiB of random bytes on that
                                                    worker only, published as "demo-data"
  compute.py [--tls DIR] check   SCHEDULER           fetches "demo-data" back, verifies it
  compute.py [--tls DIR] probe   SCHEDULER           does the scheduler answer this client?

SCHEDULER is tls://host:8786 (terraform output scheduler_address); DIR holds the
cluster's credentials (terraform output: tls_ca_cert > ca.pem, tls_client_cert >
client.pem, tls_client_key > client.key). Exit status 1 when a result is wrong;
probe exits 3 when the scheduler refuses or does not answer.
"""
import asyncio
import collections
import hashlib
import os
import ssl
import sys
import time

from distributed import Client, get_worker
from distributed.comm import connect
from distributed.security import Security

DATASET = "demo-data"


def sum_of_squares(chunk):
    lo, hi = chunk
    time.sleep(0.05)  # long enough that the scheduler spreads the tasks
    return get_worker().name, sum(i * i for i in range(lo, hi))


def names(client):
    return {a: str(w["name"]) for a, w in client.scheduler_info()["workers"].items()}


def run(client, workers):
    client.wait_for_workers(workers, timeout=300)
    n, size = 1_000_000, 10_000
    chunks = [(lo, min(lo + size, n)) for lo in range(0, n, size)]
    results = client.gather(client.map(sum_of_squares, chunks, pure=False))
    total = sum(r[1] for r in results)
    expected = (n - 1) * n * (2 * n - 1) // 6
    per_worker = collections.Counter(r[0] for r in results)
    print("sum of i*i for i < %d = %d (expected %d): %s" % (n, total, expected, "ok" if total == expected else "WRONG"))
    print("tasks per worker: %s" % dict(sorted(per_worker.items())))
    return total == expected


def scatter(client, worker):
    addr = {name: a for a, name in names(client).items()}.get(worker)
    if addr is None:
        print("no worker named %s; workers: %s" % (worker, sorted(names(client).values())))
        return False
    data = os.urandom(4 << 20)
    [future] = client.scatter([data], workers=[addr], broadcast=False)
    digest = hashlib.sha256(data).hexdigest()
    if DATASET in client.list_datasets():
        client.unpublish_dataset(DATASET)
    client.publish_dataset(**{DATASET: future})
    client.set_metadata(DATASET + "-sha256", digest)
    holders = [names(client)[a] for a in client.who_has([future])[future.key]]
    print("scattered %d bytes (sha256 %s…) to %s; held by %s" % (len(data), digest[:12], worker, holders))
    return holders == [worker]


def check(client):
    future = client.get_dataset(DATASET)
    holders = [names(client).get(a, a) for a in client.who_has([future])[future.key]]
    data = future.result()
    digest = hashlib.sha256(data).hexdigest()
    want = client.get_metadata(DATASET + "-sha256")
    print("dataset %s: %d bytes, sha256 %s… (%s), now held by %s" % (
        DATASET, len(data), digest[:12], "intact" if digest == want else "CORRUPTED", holders))
    return digest == want


def tls_files(tls_dir):
    return [os.path.join(tls_dir, f) for f in ("ca.pem", "client.pem", "client.key")]


def probe(address, tls_dir):
    """Sends one request on a bare connection: answers only to a client the
    scheduler accepts (with TLS: a certificate of the cluster's CA)."""
    ctx = None
    if tls_dir:
        ca, cert, key = tls_files(tls_dir)
        ctx = ssl.create_default_context(cafile=ca)
        ctx.check_hostname = False  # Dask's trust is the cluster CA, not names
        if os.path.exists(cert):
            ctx.load_cert_chain(cert, key)

    async def ask():
        comm = await connect(address, timeout=5, ssl_context=ctx)
        try:
            await comm.write({"op": "identity"})
            return await asyncio.wait_for(comm.read(), 5)
        finally:
            comm.abort()

    try:
        reply = asyncio.run(ask())
    except Exception as e:  # refused, handshake failed, closed, timed out
        print("refused: %s: %s" % (type(e).__name__, e))
        return False
    print("answered: %s %s" % (reply.get("type"), reply.get("id")))
    return True


def main(argv):
    tls_dir = None
    if argv[:1] == ["--tls"] and len(argv) > 1:
        tls_dir, argv = argv[1], argv[2:]
    if len(argv) < 2 or argv[0] not in ("run", "scatter", "check", "probe"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "probe":
        return 0 if probe(argv[1], tls_dir) else 3
    security = None
    if tls_dir:
        ca, cert, key = tls_files(tls_dir)
        security = Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
    with Client(argv[1], timeout=60, security=security) as client:
        if argv[0] == "run":
            ok = run(client, int(argv[2]))
        elif argv[0] == "scatter":
            ok = scatter(client, argv[2])
        else:
            ok = check(client)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
