# What `cmake --install` puts under the prefix (docs/LIBRARY.md): liboffrx.so with a soname
# and an export list, liboffrx.a, the public headers and offrx.pc. include()d at the end of
# engine/CMakeLists.txt; the tools and man pages are installed by the top-level CMakeLists.txt.
include(GNUInstallDirs)

# The shared library: the same objects as liboffrx.a; only the functions of the public headers
# are exported (liboffrx.map), so the internals can change without breaking applications.
add_library(offrx_shared SHARED)
target_link_libraries(offrx_shared PRIVATE ${OFFRX_LIB_OBJECTS})
set(OFFRX_MAP ${CMAKE_CURRENT_SOURCE_DIR}/liboffrx.map)
target_link_options(offrx_shared PRIVATE -Wl,--version-script=${OFFRX_MAP})
if(NOT OFFRX_SANITIZE) # the sanitizers' runtime comes with the program
	target_link_options(offrx_shared PRIVATE -Wl,--no-undefined)
endif()
set_target_properties(offrx_shared PROPERTIES
	OUTPUT_NAME offrx
	VERSION ${PROJECT_VERSION}
	SOVERSION ${PROJECT_VERSION_MAJOR}
	LINK_DEPENDS ${OFFRX_MAP})
offrx_tracing(offrx_shared)

install(TARGETS offrx_shared offrx
	LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/offrx DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
	FILES_MATCHING PATTERN "*.h")

# offrx.pc, written at install time so that it names the prefix given to `cmake --install`.
set(OFFRX_PC_REQUIRES "libxdp libbpf")
if(OFFRX_TRACING STREQUAL "LTTNG")
	set(OFFRX_PC_REQUIRES "lttng-ust ${OFFRX_PC_REQUIRES}")
endif()
install(CODE "
	set(OFFRX_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
	set(OFFRX_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
	set(OFFRX_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
	set(OFFRX_PC_VERSION \"${PROJECT_VERSION}\")
	set(OFFRX_PC_REQUIRES \"${OFFRX_PC_REQUIRES}\")
	configure_file(\"${CMAKE_CURRENT_SOURCE_DIR}/offrx.pc.in\"
		       \"${CMAKE_CURRENT_BINARY_DIR}/offrx.pc.install\" @ONLY)
	file(INSTALL \"${CMAKE_CURRENT_BINARY_DIR}/offrx.pc.install\"
	     DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\"
	     RENAME offrx.pc)
")
