"""gunicorn's settings for every deployment: the Dockerfile, docker-compose.yml and the Kubernetes
web Deployment all run `gunicorn --config gunicorn.conf.py` (docs/deployment.md, "The web server").

Threads, not sync workers: a sync worker is held by one connection from its first byte to its
last, so as many slow clients as there are workers (three, each sending a header line every few
seconds) stalled every worker and /healthz with them. A gthread worker serves each connection in
one thread of its pool (one that sends nothing for 5 s is parked in the worker's poller, without a
thread), so a slow client holds one thread of WEB_CONCURRENCY x GUNICORN_THREADS, not a whole
worker (tests/test_slow_clients.py: 20 slow clients, a normal request still answers in under 1 s). A
client that trickles forever still holds its thread; on the internet a buffering proxy in front
(the Kubernetes overlay's ingress-nginx) reads whole requests before they reach gunicorn.
"""

import os

wsgi_app = "reviewapp.wsgi"
bind = "0.0.0.0:8000"
worker_class = "gthread"
# Processes (one per core is plenty; Django releases the GIL on database and socket waits).
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Above the number of slow clients one worker may be dealt (all 20 of the test's, say), so a
# normal request always finds a free thread. Each thread may hold a database connection for
# CONN_MAX_AGE: PostgreSQL's max_connections must cover pods x WEB_CONCURRENCY x GUNICORN_THREADS
# plus the workers, or lower GUNICORN_THREADS (docs/deployment.md).
threads = int(os.environ.get("GUNICORN_THREADS", "24"))
timeout = 60
# gunicorn's own default trusts X-Forwarded-Proto/-For from 127.0.0.1, so anything on the pod or
# host could claim HTTPS. Nobody is trusted unless FORWARDED_ALLOW_IPS names the proxy's addresses
# (or networks); Django's SECURE_PROXY_SSL_HEADER is the setting a proxied deployment needs.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
