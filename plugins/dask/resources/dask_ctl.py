# saharagen dask plugin: asks a Dask scheduler about its workers and retires
# workers gracefully. Fed on stdin to the image's python on the scheduler
# instance:
#   python3 - workers ADDRESS CONNECT_TIMEOUT
#   python3 - retire ADDRESS CONNECT_TIMEOUT RETIRE_TIMEOUT NAME...
# Prints one JSON object. Exit 3: the scheduler cannot be reached; exit 4:
# some workers are still there after retirement. On a TLS cluster the
# plugin passes the instance's certificate in Dask's own environment
# variables (DASK_DISTRIBUTED__COMM__TLS__*), which Client reads.
import asyncio
import json
import sys


def workers(client):
    info = client.scheduler_info()["workers"]
    out = [{"name": str(w.get("name")), "address": a, "host": w.get("host", ""),
            "nthreads": w.get("nthreads", 0)} for a, w in info.items()]
    return sorted(out, key=lambda w: w["name"])


def retire(client, timeout, names):
    by_name = {w["name"]: w["address"] for w in workers(client)}
    present = [n for n in names if n in by_name]
    absent = [n for n in names if n not in by_name]
    if present:
        # Moves every key the retiring workers hold to the other workers,
        # then closes them (and their nannies) and forgets them.
        try:
            client.sync(client.scheduler.retire_workers,
                        workers=[by_name[n] for n in present],
                        close_workers=True, remove=True,
                        callback_timeout=timeout)
        except (TimeoutError, asyncio.TimeoutError):
            pass  # those still there are reported as remaining
    left = {w["name"] for w in workers(client)}
    return {"retired": [n for n in present if n not in left], "absent": absent,
            "remaining": [n for n in present if n in left]}


def main(argv):
    cmd, address, connect_timeout = argv[0], argv[1], float(argv[2])
    from distributed import Client
    try:
        client = Client(address, timeout=connect_timeout, set_as_default=False)
    except Exception as e:  # OSError, TimeoutError: not up (yet)
        print(json.dumps({"error": "scheduler %s unreachable: %s" % (address, e)}))
        return 3
    with client:
        if cmd == "workers":
            print(json.dumps({"workers": workers(client)}))
            return 0
        if cmd == "retire":
            out = retire(client, float(argv[3]), argv[4:])
            print(json.dumps(out))
            return 4 if out["remaining"] else 0
    print(json.dumps({"error": "unknown command %s" % cmd}))
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
