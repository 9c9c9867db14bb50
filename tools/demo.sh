#!/usr/bin/env bash
# The local demo cluster (docs/design.md §12): a ZooKeeper, two reborn-agents
# (--ha) that supervise two qdb-server groups (master + replica each, a
# group's master and replica under different agents), the slots split
# between them, reborn-proxy on 127.0.0.1:19000 and the reborn-config REST
# API. Idempotent: what already runs is reused.
#   tools/demo.sh BUILD_DIR [stop | failover]
# REBORN_DEMO_PORT_OFFSET shifts every port (a second demo beside the first).
set -euo pipefail
BUILD_DIR=$(cd "${1:-build}" && pwd)
DEMO="$BUILD_DIR/demo"
BIN="$BUILD_DIR/bin"
OFF=${REBORN_DEMO_PORT_OFFSET:-0}
ZK_PORT=$((21810 + OFF))
GROUP_PORTS=($((6380 + OFF)) $((6381 + OFF)))
# Each group's replica (qdb-server REPLICAOF its master): port + 100.
REPLICA_OFFSET=100
PROXY_PORT=$((19000 + OFF))
PROXY_ADMIN=$((11000 + OFF))
DASHBOARD=$((18087 + OFF))
AGENT_PORTS=($((18091 + OFF)) $((18092 + OFF)))
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

# Both agents and the dashboard take this token (created, mode 0600, on the
# first start).
TOKEN_FILE="$DEMO/dashboard.token"
if [ ! -s "$TOKEN_FILE" ]; then
  (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$TOKEN_FILE")
fi
TOKEN=$(cat "$TOKEN_FILE")

if [ "${2:-}" = "stop" ]; then
  # Agents first (SIGTERM: each stops its applications and keeps their list,
  # so the next `demo` starts them again), ZooKeeper last.
  for pid in "$DEMO"/agent-*.pid "$DEMO"/*.pid; do
    [ -f "$pid" ] || continue
    p=$(cat "$pid")
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pid"
  done
  echo "demo stopped"
  exit 0
fi
if [ "${2:-}" = "failover" ]; then
  exec /usr/bin/python3 "$(dirname "$0")/demo_failover.py" --bin "$BIN" \
    --coordinator "$COORD" --product "$PRODUCT" --proxy "$PROXY_PORT" \
    --agents "${AGENT_PORTS[0]},${AGENT_PORTS[1]}" --token-file "$TOKEN_FILE"
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

# The agents: each supervises a group's master and the other group's replica
# (a lost "machine" takes one master and one replica), agent 1 the proxy,
# agent 2 the dashboard.
for i in 0 1; do
  mkdir -p "$DEMO/agent-$((i + 1))"
  start "agent-$((i + 1))" "${AGENT_PORTS[$i]}" "$BIN/reborn-agent" \
    --addr "127.0.0.1:${AGENT_PORTS[$i]}" --dir "$DEMO/agent-$((i + 1))" \
    --token "$TOKEN" --coordinator "$COORD" --product "$PRODUCT" --ha
done
# POST to an agent; a 409 (already supervised) is fine: the demo is
# idempotent.
api() {  # agent-port path json
  local code
  code=$(curl -s -o "$DEMO/api.out" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "$3" "http://127.0.0.1:$1$2")
  if [ "$code" != 200 ] && [ "$code" != 409 ]; then
    echo "agent 127.0.0.1:$1 $2 $3 -> $code $(cat "$DEMO/api.out")" >&2
    exit 1
  fi
}
supervise() {  # agent-index name port path json
  if up "$3"; then
    echo "  $2: already running on 127.0.0.1:$3"
    return
  fi
  api "${AGENT_PORTS[$1]}" "$4" "$5"
  wait_up "$3"
  echo "  $2: started on 127.0.0.1:$3 by agent-$(($1 + 1))"
}
for g in 0 1; do
  port=${GROUP_PORTS[$g]}
  rport=$((port + REPLICA_OFFSET))
  supervise "$g" "qdb-$port" "$port" /api/start_qdb "{\"port\":$port}"
  supervise $((1 - g)) "qdb-$rport" "$rport" /api/start_qdb \
    "{\"port\":$rport,\"replicaof\":\"127.0.0.1:$port\"}"
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

supervise 0 reborn-proxy "$PROXY_PORT" /api/start_proxy \
  "{\"port\":$PROXY_PORT,\"admin_port\":$PROXY_ADMIN}"
supervise 1 dashboard "$DASHBOARD" /api/start_dashboard \
  "{\"port\":$DASHBOARD,\"token\":\"$TOKEN\"}"

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
The agents:                 $BIN/reborn-config --coordinator $COORD --product $PRODUCT agent list
What agent 1 supervises:    curl http://127.0.0.1:${AGENT_PORTS[0]}/api/apps
Groups as the agents see:   curl http://127.0.0.1:${AGENT_PORTS[0]}/api/status
Kill group 1's master:      ./reborn.sh demo failover
Stop:                       ./reborn.sh demo stop
MSG
