# The AF_XDP link: object library offrx_link_xsk_obj (src/link_xsk.c) with the compiled XDP
# program embedded as a C array, part of liboffrx and of offrx_wire. include() it from engine/CMakeLists.txt after
# add_subdirectory(bpf). At build time this same file runs as a script (cmake -P) to write
# that array: no xxd needed.

if(CMAKE_SCRIPT_MODE_FILE)
	# Script mode: -DOBJ=<object> -DTEMPLATE=<xdp_obj.c.in> -DOUT=<generated .c>
	foreach(var OBJ TEMPLATE OUT)
		if(NOT DEFINED ${var})
			message(FATAL_ERROR "link_xsk.cmake as a script needs -D${var}=...")
		endif()
	endforeach()
	file(READ "${OBJ}" hex HEX)
	string(LENGTH "${hex}" nchars)
	math(EXPR OBJ_SIZE "${nchars} / 2")
	if(OBJ_SIZE EQUAL 0)
		message(FATAL_ERROR "XDP object ${OBJ} is empty: rebuild target offrx_xdp_obj")
	endif()
	string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," OBJ_BYTES "${hex}")
	string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){12})" "\\1\n\t" OBJ_BYTES "${OBJ_BYTES}")
	get_filename_component(OBJ_NAME "${OBJ}" NAME)
	configure_file("${TEMPLATE}" "${OUT}" @ONLY)
	return()
endif()

if(NOT TARGET offrx_xdp_obj OR NOT OFFRX_XDP_OBJ)
	message(FATAL_ERROR "include link_xsk.cmake after add_subdirectory(bpf): it embeds "
			    "the XDP program built there (target offrx_xdp_obj)")
endif()

pkg_check_modules(LIBXDP REQUIRED IMPORTED_TARGET libxdp)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)

set(OFFRX_LINK_XSK_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
set(OFFRX_XDP_OBJ_C ${CMAKE_CURRENT_BINARY_DIR}/offrx_xdp_obj.c)
add_custom_command(
	OUTPUT ${OFFRX_XDP_OBJ_C}
	COMMAND ${CMAKE_COMMAND} -DOBJ=${OFFRX_XDP_OBJ}
		-DTEMPLATE=${CMAKE_CURRENT_LIST_DIR}/src/xdp_obj.c.in -DOUT=${OFFRX_XDP_OBJ_C}
		-P ${OFFRX_LINK_XSK_SCRIPT}
	DEPENDS ${OFFRX_XDP_OBJ} offrx_xdp_obj ${CMAKE_CURRENT_LIST_DIR}/src/xdp_obj.c.in
		${OFFRX_LINK_XSK_SCRIPT}
	COMMENT "Embedding offrx_xdp.bpf.o into offrx_xdp_obj.c"
	VERBATIM)

add_library(offrx_link_xsk_obj OBJECT ${CMAKE_CURRENT_LIST_DIR}/src/link_xsk.c ${OFFRX_XDP_OBJ_C})
add_dependencies(offrx_link_xsk_obj offrx_xdp_obj)
target_include_directories(offrx_link_xsk_obj PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include
			   PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src ${CMAKE_CURRENT_LIST_DIR}/bpf)
target_link_libraries(offrx_link_xsk_obj PUBLIC PkgConfig::LIBXDP PkgConfig::LIBBPF)
target_compile_options(offrx_link_xsk_obj PRIVATE ${OFFRX_FUZZ_LIB_FLAGS})
set_target_properties(offrx_link_xsk_obj PROPERTIES POSITION_INDEPENDENT_CODE ON)
