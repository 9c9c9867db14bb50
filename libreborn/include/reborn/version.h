#pragma once

// The version of libreborn and of every daemon built from it (`--version`,
// INFO's qdb_version). The build reads it from here (CMakeLists.txt), so it
// is written in one place only. Semantic versioning: the shared library's
// SOVERSION is the major number.
#define REBORN_VERSION_MAJOR 0
#define REBORN_VERSION_MINOR 1
#define REBORN_VERSION_PATCH 0
#define REBORN_VERSION_STRING "0.1.0"

namespace reborn {

inline constexpr int kVersionMajor = REBORN_VERSION_MAJOR;
inline constexpr int kVersionMinor = REBORN_VERSION_MINOR;
inline constexpr int kVersionPatch = REBORN_VERSION_PATCH;
inline constexpr const char* kVersion = REBORN_VERSION_STRING;

// The Redis version whose commands, replies and protocol QDB follows; what
// INFO's redis_version and HELLO's version report to clients.
inline constexpr const char* kRedisCompatibleVersion = "7.0.0";

}  // namespace reborn
