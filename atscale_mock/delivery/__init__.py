"""Delivery: everything between a payload and a recorded attempt, shared by every command.

request.py   payload -> request: URL placeholders, headers, malformed bodies
signing.py   standard-webhooks and hmac-sha256 signatures (and verifying them)
faults.py    duplicates, reordering, drops, delays, malformed bodies (seeded)
transport.py the Sender protocol, Request/Outcome records, the httpx sender
pool.py      the pooled asyncio/httptools transport that holds a rate
classify.py  one classification of transport failures
retry.py     attempts and retries (Retry, deliver)
dispatch.py  the one dispatch loop (due times, concurrency, lag, hand-offs)
pipeline.py  the one place a sender and a dispatch loop are made (Pipeline: make_sender, loop)
inprocess.py delivery to an ASGI or WSGI app object, no server
"""
