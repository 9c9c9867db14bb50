#pragma once

// The classes of notify-keyspace-events: Redis' bits, letters and the
// normalised string CONFIG GET shows. Apart from the notifications
// themselves (notifications.h) so that the config parser needs nothing else.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reborn::server {

// Classes of notify-keyspace-events, Redis' bits and letters.
enum KeyspaceEventClass : int {
  kNotifyKeyspace = 1 << 0,  // K
  kNotifyKeyevent = 1 << 1,  // E
  kNotifyGeneric = 1 << 2,   // g
  kNotifyString = 1 << 3,    // $
  kNotifyList = 1 << 4,      // l
  kNotifySet = 1 << 5,       // s
  kNotifyHash = 1 << 6,      // h
  kNotifyZset = 1 << 7,      // z
  kNotifyExpired = 1 << 8,   // x
  kNotifyEvicted = 1 << 9,   // e
  kNotifyStream = 1 << 10,   // t
  kNotifyKeyMiss = 1 << 11,  // m (not part of A)
  kNotifyModule = 1 << 13,   // d
  kNotifyNew = 1 << 14,      // n (not part of A)
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet |
               kNotifyHash | kNotifyZset | kNotifyExpired | kNotifyEvicted |
               kNotifyStream | kNotifyModule,
};

// "KEA" -> flags; InvalidArgument for a letter Redis does not know.
absl::StatusOr<int> ParseKeyspaceEvents(std::string_view text);
// Flags -> the normalised string CONFIG GET shows ("AKE", "gxE", "").
std::string KeyspaceEventsString(int flags);

}  // namespace reborn::server
