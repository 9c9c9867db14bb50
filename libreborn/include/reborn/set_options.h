#pragma once

#include "absl/time/time.h"
#include "reborn/export.h"

namespace reborn {

// The options of SET key value [NX|XX] [PX ms|KEEPTTL], for the typed calls
// of QdbEngine and Client.
struct REBORN_EXPORT SetOptions {
  enum class Condition { kAlways, kIfAbsent /* NX */, kIfPresent /* XX */ };
  Condition condition = Condition::kAlways;
  // Expire after this long (PX, whole milliseconds); zero: no expiry.
  // Negative, or together with keep_ttl: InvalidArgument.
  absl::Duration ttl = absl::ZeroDuration();
  // Keep the key's current expiry (KEEPTTL).
  bool keep_ttl = false;
};

}  // namespace reborn
