#include "server/keyspace_events.h"

#include <utility>

namespace reborn::server {
namespace {

constexpr struct {
  char letter;
  int flag;
} kLetters[] = {
    {'A', kNotifyAll},      {'g', kNotifyGeneric},  {'$', kNotifyString},
    {'l', kNotifyList},     {'s', kNotifySet},      {'h', kNotifyHash},
    {'z', kNotifyZset},     {'x', kNotifyExpired},  {'e', kNotifyEvicted},
    {'K', kNotifyKeyspace}, {'E', kNotifyKeyevent}, {'t', kNotifyStream},
    {'m', kNotifyKeyMiss},  {'d', kNotifyModule},   {'n', kNotifyNew},
};

}  // namespace

absl::StatusOr<int> ParseKeyspaceEvents(std::string_view text) {
  int flags = 0;
  for (char c : text) {
    bool known = false;
    for (const auto& l : kLetters) {
      if (l.letter == c) {
        flags |= l.flag;
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }
  }
  return flags;
}

std::string KeyspaceEventsString(int flags) {
  static constexpr std::pair<char, int> kClasses[] = {
      {'g', kNotifyGeneric}, {'$', kNotifyString},  {'l', kNotifyList},
      {'s', kNotifySet},     {'h', kNotifyHash},    {'z', kNotifyZset},
      {'x', kNotifyExpired}, {'e', kNotifyEvicted}, {'t', kNotifyStream},
      {'d', kNotifyModule},  {'n', kNotifyNew}};
  char buf[16];
  size_t len = 0;
  if ((flags & kNotifyAll) == kNotifyAll) {
    buf[len++] = 'A';  // n is not shown beside A, as by redis-server 7.0
  } else {
    for (const auto& [letter, flag] : kClasses) {
      if (flags & flag) buf[len++] = letter;
    }
  }
  if (flags & kNotifyKeyspace) buf[len++] = 'K';
  if (flags & kNotifyKeyevent) buf[len++] = 'E';
  if (flags & kNotifyKeyMiss) buf[len++] = 'm';
  return std::string(buf, len);
}

}  // namespace reborn::server
