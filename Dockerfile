# paperclip-supervisor as a sidecar container next to Paperclip (see deploy/).
#
#   docker build -t paperclip-supervisor .
#
# The event log lives on a volume at /var/lib/paperclip-supervisor (keep it: it is the
# daemon's whole memory), the API socket in /run/paperclip-supervisor — mount the emptyDir
# shared with the Paperclip container there. Runs as an unprivileged user (uid/gid 10001).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY events ./events
COPY supervisor ./supervisor
COPY kubesim ./kubesim
COPY bench ./bench
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir . \
    && /opt/venv/bin/paperclip-supervisor --help > /dev/null

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 paperclip-supervisor \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /var/lib/paperclip-supervisor --shell /usr/sbin/nologin paperclip-supervisor \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/paperclip-supervisor \
    && install -d -o 10001 -g 10001 -m 0770 /run/paperclip-supervisor
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PAPERCLIP_SUPERVISOR_SOCKET=/run/paperclip-supervisor/api.sock
USER 10001:10001
WORKDIR /var/lib/paperclip-supervisor
VOLUME ["/var/lib/paperclip-supervisor"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["paperclip-supervisor", "health"]
ENTRYPOINT ["paperclip-supervisor"]
CMD ["serve", "--db", "/var/lib/paperclip-supervisor/events.db", \
     "--socket", "/run/paperclip-supervisor/api.sock", "--log-format", "json"]
