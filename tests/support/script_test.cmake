# offrx_script_test: register a test that is a script (shell, Python) or another program's run,
# the one way every tests/*/CMakeLists.txt does it.
#
#   offrx_script_test(NAME <name>
#                     SCRIPT <file> | COMMAND <program> [<arg>...]
#                     [ARGS <arg>...]
#                     LABELS <label>... TIMEOUT <seconds>
#                     [SERIAL] [RESOURCE_LOCK <lock>] [NO_SKIP] [NO_ENV] [ENV <var=value>...])
#
# SCRIPT: a file of the calling directory; a name that is not there stops the configure (a typo
#   must not drop a test). COMMAND: anything else (python3 over a script, a bench script).
# The script's exit status 77 means "skipped" (root, a tool or a build part missing), unless
#   NO_SKIP. SERIAL: RUN_SERIAL (it shares the two cores, namespaces or the LTTng daemons).
# The environment: OFFRX_BIN (the build directory) and OFFRX_SRC (the source tree), unless
#   NO_ENV, then ENV's.
function(offrx_script_test)
	cmake_parse_arguments(PARSE_ARGV 0 T "SERIAL;NO_SKIP;NO_ENV"
			      "NAME;SCRIPT;TIMEOUT;RESOURCE_LOCK" "COMMAND;ARGS;LABELS;ENV")
	if(T_UNPARSED_ARGUMENTS)
		message(FATAL_ERROR "offrx_script_test(${T_NAME}): unknown arguments "
				    "'${T_UNPARSED_ARGUMENTS}' (see tests/support/script_test.cmake)")
	endif()
	if(NOT T_NAME OR NOT T_LABELS OR NOT T_TIMEOUT)
		message(FATAL_ERROR "offrx_script_test(${T_NAME}): NAME, LABELS and TIMEOUT are "
				    "required (see tests/support/script_test.cmake)")
	endif()
	if(T_SCRIPT AND T_COMMAND)
		message(FATAL_ERROR "offrx_script_test(${T_NAME}): give SCRIPT or COMMAND, not both")
	endif()
	if(T_SCRIPT)
		set(script ${CMAKE_CURRENT_SOURCE_DIR}/${T_SCRIPT})
		if(NOT EXISTS ${script})
			message(FATAL_ERROR "offrx_script_test(${T_NAME}): ${script} does not exist: "
					    "fix the name, or remove the test")
		endif()
		set(cmd ${script})
	elseif(T_COMMAND)
		set(cmd ${T_COMMAND})
	else()
		message(FATAL_ERROR "offrx_script_test(${T_NAME}): SCRIPT or COMMAND is required")
	endif()
	add_test(NAME ${T_NAME} COMMAND ${cmd} ${T_ARGS})
	set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
	if(T_SERIAL)
		set_tests_properties(${T_NAME} PROPERTIES RUN_SERIAL TRUE)
	endif()
	if(T_RESOURCE_LOCK)
		set_tests_properties(${T_NAME} PROPERTIES RESOURCE_LOCK ${T_RESOURCE_LOCK})
	endif()
	if(NOT T_NO_SKIP)
		set_tests_properties(${T_NAME} PROPERTIES SKIP_RETURN_CODE 77)
	endif()
	set(env ${T_ENV})
	if(NOT T_NO_ENV)
		list(PREPEND env "OFFRX_BIN=${PROJECT_BINARY_DIR}" "OFFRX_SRC=${PROJECT_SOURCE_DIR}")
	endif()
	if(env)
		set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${env}")
	endif()
endfunction()
