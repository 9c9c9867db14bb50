#pragma once

// zk://host:port[,host:port]/chroot — Coordinator on the ZooKeeper C client
// (zookeeper_mt). The chroot is created on demand. Connection loss (the
// session may survive: kSuspended, then kConnected) is told apart from session
// expiry (kExpired; a new session is opened by itself, watches are re-armed
// on it and get a kResync). Persistent watches are ZooKeeper's one-shot
// watches re-armed on the event thread before each event is delivered.

#include "reborn/coordinator.h"

namespace reborn::coord {

Coordinator::Factory ZkCoordinatorFactory();

}  // namespace reborn::coord
