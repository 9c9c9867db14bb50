#pragma once

// Test-only hook for Coordinator backends: ending a session on demand, so
// that tests can exercise what happens when a session expires (ephemerals
// vanish, listeners see kExpired and then kConnected) without waiting out a
// real session timeout or cutting the network.
//
// It is kept out of the Coordinator interface on purpose: production code has
// no business expiring its own session. A backend that can do it derives from
// both Coordinator and SessionExpiry; tests reach it with ExpireSession().

#include "absl/status/status.h"
#include "reborn/coordinator.h"
#include "reborn/export.h"

namespace reborn::testing {

// Implemented by the built-in backends (memory://, zk://, etcd://) and by
// any custom backend that wants the session-expiry tests of
// reborn/testing/coordinator_conformance.h to run instead of being skipped.
class REBORN_EXPORT SessionExpiry {
 public:
  // Makes the server end this client's session now, as if it had been silent
  // for the whole session timeout: ephemerals go, listeners see kExpired and
  // then kConnected with a fresh session. Returns once the new session is up
  // (its kConnected may still be on its way to listeners). Thread-safe.
  virtual absl::Status ExpireSessionForTest() = 0;

 protected:
  virtual ~SessionExpiry() = default;
};

// Expires `coordinator`'s session (SessionExpiry::ExpireSessionForTest).
// Unimplemented when its backend does not implement SessionExpiry.
inline absl::Status ExpireSession(Coordinator& coordinator) {
  auto* expiry = dynamic_cast<SessionExpiry*>(&coordinator);
  if (expiry == nullptr) {
    return absl::UnimplementedError(
        "this coordinator backend does not implement "
        "reborn::testing::SessionExpiry");
  }
  return expiry->ExpireSessionForTest();
}

}  // namespace reborn::testing
