#pragma once

#include <string_view>

namespace reborn::coord {

// Whether the built-in backend for `scheme` ("memory", "zk", "etcd") is part
// of this build (REBORN_WITH_ZOOKEEPER, REBORN_WITH_ETCD). Opening a URI of a
// built-in scheme that is left out fails with InvalidArgument naming the
// option.
bool BuiltInBackendAvailable(std::string_view scheme);

}  // namespace reborn::coord
