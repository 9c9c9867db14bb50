#!/usr/bin/env bash
# The local demo cluster (docs/design.md §12): a ZooKeeper, two qdb-server groups,
# the slots split between them, reborn-proxy on 127.0.0.1:19000 and the
# reborn-config REST API. Idempotent: what already runs is reused.
#   tools/demo.sh BUILD_DIR [stop]
set -euo pipefail
BUILD_DIR=$(cd "${1:-build}" && pwd)
DEMO="$BUILD_DIR/demo"
BIN="$BUILD_DIR/bin"
ZK_PORT=21810
GROUP_PORTS=(6380 6381)
# Each group's replica (qdb-server REPLICAOF its master): port + 100.
REPLICA_OFFSET=100
PROXY_PORT=19000
PROXY_ADMIN=11000
DASHBOARD=18087
PRODUCT=demo
COORD="zk://127.0.0.1:$ZK_PORT/reborn-demo"
mkdir -p "$DEMO"

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_up() {
  for _ in $(seq 1 150); do up "$1" && return 0; sleep 0.1; done
  echo "port $1 did not come up; see $DEMO/*.log" >&2
  exit 1
}
start() {  # name port command...
  local name=$1 port=$2
  shift 2
  if up "$port"; then
    echo "  $name: already running on 127.0.0.1:$port"
    return
  fi
  nohup "$@" >"$DEMO/$name.log" 2>&1 &
  echo $! >"$DEMO/$name.pid"
  wait_up "$port"
  echo "  $name: started on 127.0.0.1:$port"
}

if [ "${2:-}" = "stop" ]; then
  for pid in "$DEMO"/*.pid; do
    [ -f "$pid" ] || continue
    kill "$(cat "$pid")" 2>/dev/null || true
    rm -f "$pid"
  done
  echo "demo stopped"
  exit 0
fi

echo "==> starting the demo cluster (data and logs under $DEMO)"
mkdir -p "$DEMO/zk"
cat >"$DEMO/zk/zoo.cfg" <<CFG
tickTime=2000
dataDir=$DEMO/zk/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
CFG
ZK_CP=$(printf '/usr/share/java/%s.jar:' zookeeper zookeeper-jute slf4j-api \
  slf4j-nop netty-handler netty-common netty-buffer netty-transport \
  netty-transport-native-unix-common netty-transport-native-epoll netty-codec \
  netty-resolver commons-io commons-cli metrics-core jackson-databind \
  jackson-core jackson-annotations snappy-java)
start zookeeper "$ZK_PORT" java -Xmx128m -XX:+UseSerialGC -cp "$ZK_CP" \
  org.apache.zookeeper.server.ZooKeeperServerMain "$DEMO/zk/zoo.cfg"

for port in "${GROUP_PORTS[@]}"; do
  mkdir -p "$DEMO/qdb-$port"
  start "qdb-$port" "$port" "$BIN/qdb-server" --port "$port" \
    --dir "$DEMO/qdb-$port"
  rport=$((port + REPLICA_OFFSET))
  mkdir -p "$DEMO/qdb-$rport"
  start "qdb-$rport" "$rport" "$BIN/qdb-server" --port "$rport" \
    --dir "$DEMO/qdb-$rport" --replicaof 127.0.0.1 "$port"
done

config() { "$BIN/reborn-config" --coordinator "$COORD" --product "$PRODUCT" "$@"; }
if ! config slot info 0 >/dev/null 2>&1; then
  echo "  topology: initialising"
  config slot init >/dev/null
  gid=1
  for port in "${GROUP_PORTS[@]}"; do
    config group add "$gid" >/dev/null
    config group add-server "$gid" "127.0.0.1:$port" master >/dev/null
    config group add-server "$gid" "127.0.0.1:$((port + REPLICA_OFFSET))" \
      slave >/dev/null
    gid=$((gid + 1))
  done
  config slot range-set 0 511 1 >/dev/null
  config slot range-set 512 1023 2 >/dev/null
else
  echo "  topology: already initialised"
  # A topology from an older demo may lack the replicas: register any
  # missing one.
  gid=1
  for port in "${GROUP_PORTS[@]}"; do
    replica="127.0.0.1:$((port + REPLICA_OFFSET))"
    if ! config group list | grep -q "$replica"; then
      config group add-server "$gid" "$replica" slave >/dev/null
    fi
    gid=$((gid + 1))
  done
fi

start reborn-proxy "$PROXY_PORT" "$BIN/reborn-proxy" \
  --addr "127.0.0.1:$PROXY_PORT" --admin-addr "127.0.0.1:$PROXY_ADMIN" \
  --coordinator "$COORD" --product "$PRODUCT"
# Changes over the REST API need the token kept in this file (created, mode
# 0600, on the first start).
TOKEN_FILE="$DEMO/dashboard.token"
start dashboard "$DASHBOARD" "$BIN/reborn-config" --coordinator "$COORD" \
  --product "$PRODUCT" dashboard --addr "127.0.0.1:$DASHBOARD" \
  --token-file "$TOKEN_FILE"

cat <<MSG

Connect through the proxy:  redis-cli -p $PROXY_PORT
A store directly:           redis-cli -p ${GROUP_PORTS[0]}
Its replica:                redis-cli -p $((GROUP_PORTS[0] + REPLICA_OFFSET)) info replication
Topology:                   $BIN/reborn-config --coordinator $COORD --product $PRODUCT group list
REST API:                   curl http://127.0.0.1:$DASHBOARD/api/overview
A change over REST:         curl -X POST -H "Authorization: Bearer \$(cat $TOKEN_FILE)" \\
                              -H 'Content-Type: application/json' -d '{"id":3}' \\
                              http://127.0.0.1:$DASHBOARD/api/groups
Proxy metrics:              curl http://127.0.0.1:$PROXY_ADMIN/metrics
Stop:                       ./reborn.sh demo stop
MSG
