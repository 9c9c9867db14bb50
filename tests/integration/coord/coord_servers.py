"""Real coordinator servers for integration tests: ZooKeeper (Debian's jars,
run with java) and etcd, each on free loopback ports with its own temp dir."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import Process, free_port  # noqa: E402

ZK_JARS = ["zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-nop",
           "netty-handler", "netty-common", "netty-buffer", "netty-transport",
           "netty-transport-native-unix-common",
           "netty-transport-native-epoll", "netty-codec", "netty-resolver",
           "commons-io", "commons-cli", "metrics-core", "jackson-databind",
           "jackson-core", "jackson-annotations", "snappy-java"]


def start_zookeeper():
    """Returns (process, "127.0.0.1:port")."""
    import tempfile
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="reborn-zk-")
    cfg = os.path.join(tmp, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("tickTime=200\ndataDir=%s/data\nclientPort=%d\n"
                "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
                "minSessionTimeout=400\nmaxSessionTimeout=60000\n"
                % (tmp, port))
    cp = ":".join("/usr/share/java/%s.jar" % j for j in ZK_JARS)
    p = Process(["java", "-Xmx128m", "-XX:+UseSerialGC",
                 "-XX:TieredStopAtLevel=1", "-cp", cp,
                 "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
                port=port, name="zk")
    p.extra_dir = tmp
    return p, "127.0.0.1:%d" % port


def start_etcd():
    """Returns (process, "127.0.0.1:port")."""
    port, peer = free_port(), free_port()
    client_url = "http://127.0.0.1:%d" % port
    peer_url = "http://127.0.0.1:%d" % peer
    p = Process(["etcd", "--name", "t", "--data-dir", "data",
                 "--listen-client-urls", client_url,
                 "--advertise-client-urls", client_url,
                 "--listen-peer-urls", peer_url,
                 "--initial-advertise-peer-urls", peer_url,
                 "--initial-cluster", "t=" + peer_url,
                 "--heartbeat-interval", "50", "--election-timeout", "300",
                 "--log-level", "error"], port=port, name="etcd")
    return p, "127.0.0.1:%d" % port
