#include "coord/etcd_coordinator.h"
namespace reborn::coord {
Coordinator::Factory EtcdCoordinatorFactory() {
  return [](const CoordinatorUri&, const CoordinatorOptions&)
             -> absl::StatusOr<std::unique_ptr<Coordinator>> {
    return absl::UnimplementedError("todo");
  };
}
}  // namespace reborn::coord
