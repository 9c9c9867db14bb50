#pragma once
#include "reborn/coordinator.h"
namespace reborn::coord {
Coordinator::Factory ZkCoordinatorFactory();
}  // namespace reborn::coord
