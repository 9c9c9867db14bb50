#pragma once
#include "reborn/coordinator.h"
namespace reborn::coord {
Coordinator::Factory EtcdCoordinatorFactory();
}  // namespace reborn::coord
