#include "command/key_finders.h"

#include "absl/strings/numbers.h"
#include "reborn/slot.h"

namespace reborn {
namespace {

constexpr const char* kSortByDenied =
    "ERR BY option of SORT denied in Cluster mode when keys formed by the "
    "pattern may be in different slots.";
constexpr const char* kSortGetDenied =
    "ERR GET option of SORT denied in Cluster mode when keys formed by the "
    "pattern may be in different slots.";

bool Is(const std::string& arg, std::string_view word) {
  return EqualsIgnoreCase(arg, word);
}

}  // namespace

KeyFinder SpecialKeyFinder(std::string_view name) {
  if (name == "sort") return SortKeys;
  if (name == "migrate") return MigrateKeys;
  if (name == "memory") return MemoryKeys;
  if (name == "xread" || name == "xreadgroup") return XreadKeys;
  if (name == "georadius" || name == "georadiusbymember") {
    return GeoradiusKeys;
  }
  return nullptr;
}

// Redis' sortGetKeys: LIMIT skips two arguments, GET and BY one, and the
// argument after STORE is the destination (the last STORE wins).
void SortKeys(const std::vector<std::string>& args, KeyPositionList* keys) {
  if (args.size() < 2) return;
  keys->push_back(1);
  size_t store = 0;
  for (size_t i = 2; i < args.size(); ++i) {
    if (Is(args[i], "limit")) {
      i += 2;
    } else if (Is(args[i], "get") || Is(args[i], "by")) {
      i += 1;
    } else if (Is(args[i], "store") && i + 1 < args.size()) {
      store = i + 1;
    }
  }
  if (store != 0) keys->push_back(store);
}

// MEMORY USAGE key (Redis' key spec of the subcommand); the other MEMORY
// subcommands have none.
void MemoryKeys(const std::vector<std::string>& args, KeyPositionList* keys) {
  if (args.size() >= 3 && Is(args[1], "usage")) keys->push_back(2);
}

// Redis' migrateGetKeys.
void MigrateKeys(const std::vector<std::string>& args, KeyPositionList* keys) {
  const size_t argc = args.size();
  if (argc < 4) return;
  size_t first = 3;
  size_t num = 1;
  for (size_t i = 6; i < argc; ++i) {
    if (Is(args[i], "keys")) {
      if (!args[3].empty()) {
        num = 0;  // a syntax error MIGRATE reports itself
      } else {
        first = i + 1;
        num = argc - first;
      }
      break;
    }
    if (Is(args[i], "auth")) {
      i += 1;
    } else if (Is(args[i], "auth2")) {
      i += 2;
    }
  }
  for (size_t i = 0; i < num; ++i) keys->push_back(first + i);
}

// Redis' xreadGetKeys: half of what follows STREAMS are keys, the other
// half their IDs; nothing on a syntax error.
void XreadKeys(const std::vector<std::string>& args, KeyPositionList* keys) {
  const size_t argc = args.size();
  size_t streams = 0;
  for (size_t i = 1; i < argc; ++i) {
    if (Is(args[i], "block") || Is(args[i], "count")) {
      i += 1;
    } else if (Is(args[i], "group")) {
      i += 2;
    } else if (Is(args[i], "noack")) {
      continue;
    } else if (Is(args[i], "streams")) {
      streams = i;
      break;
    } else {
      break;
    }
  }
  if (streams == 0) return;
  const size_t rest = argc - streams - 1;
  if (rest == 0 || rest % 2 != 0) return;
  for (size_t i = 0; i < rest / 2; ++i) keys->push_back(streams + 1 + i);
}

// Redis' georadiusGetKeys: the key, and the last STORE/STOREDIST argument.
void GeoradiusKeys(const std::vector<std::string>& args,
                   KeyPositionList* keys) {
  if (args.size() < 2) return;
  keys->push_back(1);
  size_t stored = 0;
  for (size_t i = 5; i < args.size(); ++i) {
    if ((Is(args[i], "store") || Is(args[i], "storedist")) &&
        i + 1 < args.size()) {
      stored = i + 1;
      ++i;
    }
  }
  if (stored != 0) keys->push_back(stored);
}

// Redis' patternHashSlot, with RebornDB's slot function.
int PatternSlot(std::string_view pattern) {
  int open = -1;  // index of the first '{'; -2 after an empty "{}"
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*' || c == '?' || c == '[' || c == '\\') return -1;
    if (open == -1 && c == '{') {
      open = static_cast<int>(i);
    } else if (open >= 0 && c == '}') {
      if (i == static_cast<size_t>(open) + 1) {
        open = -2;  // "{}": the whole pattern is hashed
      } else {
        return SlotOf(pattern.substr(open + 1, i - open - 1));
      }
    }
  }
  return SlotOf(pattern);
}

// Redis' sortCommandGeneric option loop, reduced to what decides whether a
// BY or GET pattern may reach another slot.
absl::Status CheckSortPatterns(const std::vector<std::string>& args,
                               int key_slot) {
  const bool readonly = Is(args[0], "sort_ro");
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t left = args.size() - j - 1;
    if (Is(args[j], "asc") || Is(args[j], "desc") || Is(args[j], "alpha")) {
      continue;
    }
    if (Is(args[j], "limit") && left >= 2) {
      int64_t n = 0;
      if (!absl::SimpleAtoi(args[j + 1], &n) ||
          !absl::SimpleAtoi(args[j + 2], &n)) {
        return absl::OkStatus();  // the server's integer error comes first
      }
      j += 2;
    } else if (!readonly && Is(args[j], "store") && left >= 1) {
      j += 1;
    } else if (Is(args[j], "by") && left >= 1) {
      const std::string& pattern = args[++j];
      if (pattern.find('*') != std::string::npos &&
          PatternSlot(pattern) != key_slot) {
        return absl::FailedPreconditionError(kSortByDenied);
      }
    } else if (Is(args[j], "get") && left >= 1) {
      const std::string& pattern = args[++j];
      if (pattern != "#" && PatternSlot(pattern) != key_slot) {
        return absl::FailedPreconditionError(kSortGetDenied);
      }
    } else {
      return absl::OkStatus();  // the syntax error is the server's to give
    }
  }
  return absl::OkStatus();
}

}  // namespace reborn
