#!/usr/bin/env bash
# Starts the local demo: for now one qdb-server on 127.0.0.1:6380 with its
# data under build/demo. Idempotent: a running demo server is reused.
set -euo pipefail
BUILD_DIR=${1:-build}
DEMO_DIR="$BUILD_DIR/demo"
PORT=6380
mkdir -p "$DEMO_DIR/qdb-$PORT"

if redis-cli -p "$PORT" ping >/dev/null 2>&1; then
  echo "qdb-server already running on 127.0.0.1:$PORT"
else
  nohup "$BUILD_DIR/bin/qdb-server" --port "$PORT" --dir "$DEMO_DIR/qdb-$PORT" \
    >"$DEMO_DIR/qdb-$PORT.log" 2>&1 &
  echo $! >"$DEMO_DIR/qdb-$PORT.pid"
  for _ in $(seq 1 100); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$PORT" ping >/dev/null || { cat "$DEMO_DIR/qdb-$PORT.log"; exit 1; }
  echo "qdb-server started on 127.0.0.1:$PORT (log: $DEMO_DIR/qdb-$PORT.log)"
fi
cat <<MSG

Connect:   redis-cli -p $PORT
Stop:      redis-cli -p $PORT shutdown
MSG
