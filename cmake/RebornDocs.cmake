# `cmake --build build --target docs`: the API reference of the public headers
# (libreborn/include/reborn) in build/docs/html, with docs/embedding.md as its
# front page. Only when Doxygen is installed (Debian: doxygen, in reborn.sh
# deps).
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  set(DOXYGEN_PROJECT_NAME libreborn)
  set(DOXYGEN_PROJECT_NUMBER ${PROJECT_VERSION})
  set(DOXYGEN_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/docs)
  set(DOXYGEN_GENERATE_HTML YES)
  set(DOXYGEN_GENERATE_LATEX NO)
  set(DOXYGEN_EXTRACT_ALL YES)
  set(DOXYGEN_RECURSIVE YES)
  set(DOXYGEN_FULL_PATH_NAMES YES)
  set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/libreborn/include)
  set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/libreborn/include)
  set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/docs/embedding.md)
  # REBORN_EXPORT is an attribute, not part of the names.
  set(DOXYGEN_ENABLE_PREPROCESSING YES)
  set(DOXYGEN_MACRO_EXPANSION YES)
  set(DOXYGEN_EXPAND_ONLY_PREDEF YES)
  set(DOXYGEN_PREDEFINED REBORN_EXPORT=)
  # The headers' `//` comments as documentation (see the filter).
  set(DOXYGEN_FILTER_PATTERNS
      "*.h=sed -f ${CMAKE_CURRENT_LIST_DIR}/doxygen_filter.sed")
  set(DOXYGEN_WARN_IF_UNDOCUMENTED NO)
  set(DOXYGEN_QUIET YES)
  doxygen_add_docs(docs
    ${PROJECT_SOURCE_DIR}/libreborn/include/reborn
    ${PROJECT_SOURCE_DIR}/docs/embedding.md
    COMMENT "API reference in ${PROJECT_BINARY_DIR}/docs/html")
endif()
