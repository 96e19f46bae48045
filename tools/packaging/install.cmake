# Install rules (included by CMakeLists.txt): `cmake --install build --prefix P`
# puts the CLI, libxbar.so, the header, presets, docs, the man page,
# pkg-config and CMake package files and bash completion under P.
#
#   P/bin/xbar
#   P/lib/libxbar.so.X.Y.Z (+ SONAME and dev links), P/include/xbar.h
#   P/lib/pkgconfig/xbar.pc, P/lib/cmake/xbar/xbarConfig*.cmake (xbar::xbar)
#   P/share/xbar/arch/*.json     presets (eval/installed.h finds them)
#   P/share/xbar/python/xbar/    the ctypes bindings (PYTHONPATH)
#   P/share/doc/xbar/, P/share/man/man1/xbar.1,
#   P/share/bash-completion/completions/xbar
include(CMakePackageConfigHelpers)

install(TARGETS xbar RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS xbar_shared EXPORT xbarTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${CMAKE_SOURCE_DIR}/include/xbar.h" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY "${CMAKE_SOURCE_DIR}/backend/arch/" DESTINATION ${CMAKE_INSTALL_DATADIR}/xbar/arch
  FILES_MATCHING PATTERN "*.json")
install(FILES "${CMAKE_SOURCE_DIR}/python/xbar/__init__.py"
  DESTINATION ${CMAKE_INSTALL_DATADIR}/xbar/python/xbar)
file(GLOB _xbar_docs CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/docs/*.md")
install(FILES "${CMAKE_SOURCE_DIR}/README.md" "${CMAKE_SOURCE_DIR}/LICENSE" ${_xbar_docs}
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES "${CMAKE_SOURCE_DIR}/tools/packaging/xbar.bash-completion"
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME xbar)

# Man page from the commands' --help (help2man when installed, else the
# script's own roff).
set(XBAR_MAN "${CMAKE_BINARY_DIR}/xbar.1")
add_custom_command(OUTPUT "${XBAR_MAN}"
  COMMAND sh "${CMAKE_SOURCE_DIR}/tools/packaging/make_man.sh" "$<TARGET_FILE:xbar>" "${XBAR_MAN}"
          "${PROJECT_VERSION}"
  DEPENDS xbar "${CMAKE_SOURCE_DIR}/tools/packaging/make_man.sh"
  COMMENT "Man page xbar.1 from xbar --help" VERBATIM)
add_custom_target(xbar_man ALL DEPENDS "${XBAR_MAN}")
install(FILES "${XBAR_MAN}" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# pkg-config: the shared library (no static libxbar is installed, so no
# private dependencies to list).
# The prefix is found from the .pc file's own place, so a staged or moved
# install (cmake --install --prefix P) works without editing it.
file(RELATIVE_PATH XBAR_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" XBAR_PC_TO_PREFIX "${XBAR_PC_TO_PREFIX}")
configure_file("${CMAKE_SOURCE_DIR}/tools/packaging/xbar.pc.in" "${CMAKE_BINARY_DIR}/xbar.pc" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/xbar.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# CMake package: find_package(xbar) gives the imported target xbar::xbar.
set(XBAR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/xbar)
install(EXPORT xbarTargets NAMESPACE xbar:: DESTINATION ${XBAR_CMAKE_DIR})
configure_package_config_file("${CMAKE_SOURCE_DIR}/tools/packaging/xbarConfig.cmake.in"
  "${CMAKE_BINARY_DIR}/xbarConfig.cmake" INSTALL_DESTINATION ${XBAR_CMAKE_DIR})
# 0.x: only the same MINOR is compatible (docs/API.md, stability promise).
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_xbar_compat SameMinorVersion)
else()
  set(_xbar_compat SameMajorVersion)
endif()
write_basic_package_version_file("${CMAKE_BINARY_DIR}/xbarConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${_xbar_compat})
install(FILES "${CMAKE_BINARY_DIR}/xbarConfig.cmake" "${CMAKE_BINARY_DIR}/xbarConfigVersion.cmake"
  DESTINATION ${XBAR_CMAKE_DIR})
