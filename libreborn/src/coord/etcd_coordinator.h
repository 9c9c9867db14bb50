#pragma once

// etcd://host:port[,host:port]/prefix — Coordinator on etcd v3 through its
// JSON gateway (HTTP/1.1, keys and values base64).
//
// Mapping: node P is the key prefix+P (the root "/" is implicit); its
// version is etcd's version - 1; children of P are the keys directly under
// prefix+P+"/". Ephemerals carry the session's lease, kept alive every TTL/3;
// a lease that is gone means the session expired (a new lease is granted).
// Writes are transactions whose compares give ZooKeeper's semantics (parent
// exists, version matches, no children); on failure the transaction's else
// branch reads the keys involved so the first failing op can be named.
// Sequential names are the store revision the name was chosen at, plus one,
// guarded by a compare that no sibling changed since, so names increase in
// commit order. One watch stream over the whole prefix feeds every watch.

#include "reborn/coordinator.h"

namespace reborn::coord {

Coordinator::Factory EtcdCoordinatorFactory();

}  // namespace reborn::coord
