# Every dependency comes from a Debian package (see reborn.sh deps).
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(RocksDB REQUIRED)
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

# Optional parts: each is ON by default when its dependency is found and OFF
# otherwise; forcing one ON without its dependency is an error. A build with
# all three OFF has RocksDB and the memory:// coordinator only.
find_package(leveldb QUIET)
find_package(ZooKeeperMt QUIET)
# The etcd backend talks to etcd's JSON gateway with cpp-httplib and
# nlohmann_json, which the rest of the library requires anyway.
set(_reborn_etcd_deps_found FALSE)
if(HTTPLIB_FOUND AND nlohmann_json_FOUND)
  set(_reborn_etcd_deps_found TRUE)
endif()
function(reborn_optional_part option found what)
  option(${option} "Build ${what}" ${found})
  if(${option} AND NOT ${found})
    message(FATAL_ERROR "${option} is ON but ${what} needs a dependency that "
                        "was not found (see reborn.sh deps), or set ${option}=OFF")
  endif()
  message(STATUS "${option}: ${${option}}")
endfunction()
reborn_optional_part(REBORN_WITH_LEVELDB "${leveldb_FOUND}"
                     "the LevelDB storage engine (engine leveldb)")
reborn_optional_part(REBORN_WITH_ZOOKEEPER "${ZooKeeperMt_FOUND}"
                     "the ZooKeeper coordinator backend (zk://)")
reborn_optional_part(REBORN_WITH_ETCD "${_reborn_etcd_deps_found}"
                     "the etcd coordinator backend (etcd://)")
find_package(Asio REQUIRED)
if(REBORN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(REBORN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
