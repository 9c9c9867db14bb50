// reborn-proxy sessions: EVALSHA that meets NOSCRIPT. Scripts live on each
// server; SCRIPT LOAD fans out to the groups serving slots, but a group
// whose master changed (a promoted replica that never ran SCRIPT LOAD) or a
// group added later lacks them. The proxy remembers the bodies it saw
// (ScriptCache) and, on NOSCRIPT, loads the script on that group and runs
// the EVALSHA again, so the client never sees the group change.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "command/command_spec.h"
#include "proxy/session.h"
#include "routing/merge.h"

namespace reborn::proxy {
namespace {

constexpr std::string_view kNoScript = "-NOSCRIPT";
constexpr std::string_view kFunctionNotFound = "-ERR Function not found";

}  // namespace

void Session::FunctionFanOut(std::vector<std::string>& args) {
  const std::string sub = ToLower(args[1]);
  std::string code;  // FUNCTION LOAD [REPLACE] code
  if (sub == "load" && args.size() >= 3) code = args.back();
  std::string deleted;
  if (sub == "delete" && args.size() == 3) deleted = args[2];
  FanOut(args, [proxy = proxy_, sub, code = std::move(code),
                deleted = std::move(deleted)](Pending& p) {
    std::string reply = routing::MergeSame(p.parts);
    if (reply.starts_with("-") || !proxy->scripts().enabled()) return reply;
    if (!code.empty()) {
      proxy->scripts().RememberLibrary(code);
    } else if (!deleted.empty()) {
      proxy->scripts().ForgetLibrary(deleted);
    } else if (sub == "flush" || sub == "restore") {
      // RESTORE's libraries are not known by name here: FCALL on a group
      // without them is not repaired.
      proxy->scripts().ClearLibraries();
    }
    return reply;
  });
}

bool Session::ForwardScript(const CommandSpec& spec, int slot,
                            std::vector<std::string>& args) {
  ScriptCache& cache = proxy_->scripts();
  if (!cache.enabled() || args.size() < 2) return false;
  if (spec.name == "eval" || spec.name == "eval_ro") {
    cache.Remember(args[1]);
    return false;  // forwarded as usual
  }
  if (spec.name == "fcall" || spec.name == "fcall_ro") {
    ForwardFcall(spec, slot, args);
    return true;
  }
  if (spec.name != "evalsha" && spec.name != "evalsha_ro") return false;
  PendingPtr p = NewPending();
  p->command = spec.name;
  const bool readonly = spec.has(kCmdReadOnly);
  auto retry = std::make_shared<std::vector<std::string>>(args);
  SendSlot(
      slot, args, readonly,
      [self = shared_from_this(), p, slot, readonly,
       retry](std::string_view reply) {
        std::optional<std::string> body;
        if (reply.starts_with(kNoScript)) {
          body = self->proxy_->scripts().Body((*retry)[1]);
        }
        if (!body) {
          self->Finish(p, reply);
          return;
        }
        // Both on the route of the slot, in order on the same connection:
        // the load, then the command again (its reply is the client's).
        self->SendSlot(slot, {"SCRIPT", "LOAD", *std::move(body)}, readonly,
                       [](std::string_view) {});
        self->SendSlot(
            slot, *retry, readonly,
            [self, p](std::string_view again) { self->Finish(p, again); });
      },
      raw_request_);
  return true;
}

void Session::ForwardFcall(const CommandSpec& spec, int slot,
                           std::vector<std::string>& args) {
  PendingPtr p = NewPending();
  p->command = spec.name;
  const bool readonly = spec.has(kCmdReadOnly);
  auto retry = std::make_shared<std::vector<std::string>>(args);
  SendSlot(
      slot, args, readonly,
      [self = shared_from_this(), p, slot, readonly,
       retry](std::string_view reply) {
        std::vector<std::string> libraries;
        if (reply.starts_with(kFunctionNotFound)) {
          libraries = self->proxy_->scripts().Libraries();
        }
        if (libraries.empty()) {
          self->Finish(p, reply);
          return;
        }
        // Without REPLACE: a library the group has stays as it is (an
        // error reply, ignored); only the missing ones are loaded.
        for (std::string& code : libraries) {
          self->SendSlot(slot, {"FUNCTION", "LOAD", std::move(code)}, readonly,
                         [](std::string_view) {});
        }
        self->SendSlot(
            slot, *retry, readonly,
            [self, p](std::string_view again) { self->Finish(p, again); });
      },
      raw_request_);
}

}  // namespace reborn::proxy
