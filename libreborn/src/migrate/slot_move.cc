#include "migrate/slot_move.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace reborn::migrate {

std::function<absl::Status(SlotNode&)> ToPreMigrate(int gid) {
  return [gid](SlotNode& s) {
    if (s.state != SlotState::kOnline || s.group_id == gid) {
      return absl::AbortedError(absl::StrCat(
          "slot ", s.id, " changed while preparing its migration"));
    }
    s.state = SlotState::kPreMigrate;
    s.migrate_from = s.group_id;
    s.migrate_to = gid;
    return absl::OkStatus();
  };
}

std::function<absl::Status(SlotNode&)> ToMigrate(int gid) {
  return [gid](SlotNode& s) {
    if (s.state != SlotState::kPreMigrate || s.migrate_to != gid) {
      return absl::AbortedError(
          absl::StrCat("slot ", s.id, " left pre_migrate unexpectedly"));
    }
    s.state = SlotState::kMigrate;
    s.group_id = gid;
    return absl::OkStatus();
  };
}

std::function<absl::Status(SlotNode&)> ToOnline(int gid) {
  return [gid](SlotNode& s) {
    if (s.state != SlotState::kMigrate || s.migrate_to != gid) {
      return absl::AbortedError(
          absl::StrCat("slot ", s.id, " left migrate unexpectedly"));
    }
    s.state = SlotState::kOnline;
    s.group_id = gid;
    s.migrate_from = 0;
    s.migrate_to = 0;
    return absl::OkStatus();
  };
}

bool MidwayTo(const SlotNode& s, int gid) {
  return (s.state == SlotState::kPreMigrate ||
          s.state == SlotState::kMigrate) &&
         s.migrate_to == gid;
}

absl::Status SplitHostPort(const std::string& addr, std::string* host,
                           int* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(addr.substr(colon + 1), port) || *port <= 0 ||
      *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad server address '", addr, "'"));
  }
  *host = addr.substr(0, colon);
  return absl::OkStatus();
}

absl::Status ParsePair(const Reply& r, int64_t* a, int64_t* b) {
  if (r.is_error()) return absl::InternalError(r.str);
  if (r.type != Reply::Type::kArray || r.elements.size() != 2 ||
      r.elements[0].type != Reply::Type::kInteger ||
      r.elements[1].type != Reply::Type::kInteger) {
    return absl::InternalError("unexpected reply to SLOTSMGRTTAGSLOTBATCH");
  }
  *a = r.elements[0].integer;
  *b = r.elements[1].integer;
  return absl::OkStatus();
}

}  // namespace reborn::migrate
