# Every dependency comes from a Debian package (see reborn.sh deps).
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(RocksDB REQUIRED)
find_package(leveldb REQUIRED)
find_package(ZLIB REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# Lua scripting: Lua 5.1 as Redis embeds it (liblua5.1-0-dev); the cjson,
# cmsgpack, struct and bit libraries are Redis' own copies, vendored in
# libreborn/src/scripting/vendor/.
pkg_check_modules(LUA REQUIRED IMPORTED_TARGET lua5.1)
find_package(ZooKeeperMt REQUIRED)
find_package(Asio REQUIRED)
if(REBORN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(REBORN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
