# `cmake --install` puts the public headers, the library and rebornConfig.cmake
# under the prefix, so that find_package(reborn) works for consumers.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# REBORN_INSTALLED_TARGET: libreborn/CMakeLists.txt (shared or static).
install(TARGETS ${REBORN_INSTALLED_TARGET} EXPORT rebornTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY libreborn/include/reborn
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rebornTargets NAMESPACE reborn::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/reborn)
configure_package_config_file(cmake/rebornConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rebornConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/reborn)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rebornConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/rebornConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/rebornConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/reborn)
